"""The ``vocclean`` command's entry point: SIGINT is held back while Python imports vocclean and
parses the command line (the first few tenths of a second), so that a Ctrl-C then ends as one
during the run does, exit 130 and one line (``vocclean.interrupts``)."""

from __future__ import annotations

import os
import sys

EXIT_INTERRUPTED = 130


def single_threaded_blas() -> None:
    """One BLAS thread unless the user chose otherwise (before NumPy is imported).

    NumPy's OpenBLAS starts a thread per core at import that spins while
    waiting for work; vocclean does no linear algebra, and on two cores the
    spinning took 0.1 s of CPU from every start (a one-record ``clean``: CPU
    0.36 s against 0.47 s) and from the run's own processes.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main() -> None:
    from vocclean import interrupts

    interrupts.hold()  # released when the run starts (cli.main.VoccleanGroup.invoke)
    single_threaded_blas()
    try:
        from vocclean.cli import main as cli
    except KeyboardInterrupt:  # where SIGINT cannot be held (no pthread_sigmask)
        sys.stderr.write("vocclean: interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    cli(prog_name="vocclean")
