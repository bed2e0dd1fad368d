"""The ``vocclean`` command's entry point: SIGINT is held back while Python imports vocclean and
parses the command line (the first few tenths of a second), so that a Ctrl-C then ends as one
during the run does, exit 130 and one line (``vocclean.interrupts``)."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

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
    try:
        cli(prog_name="vocclean")
    except SystemExit as exc:
        leave(exc.code)


def leave(code: object) -> NoReturn:
    """Exit with ``code`` without tearing the interpreter down.

    Python's own exit frees every module and object one by one: 40 ms after
    importing vocclean, 60 ms after a 200 MB ``clean``, in every run, the
    shortest included (``bench/LOG.md``, 2026-11-23). The process ends here
    instead, once what an exit must do is done: the ``atexit`` functions
    run (temporary folders, pools' finalizers) and the standard streams
    flushed. Where that cannot be sure (another thread still runs, a
    flush fails, a code that is not a number), Python exits as usual.
    """
    if code is None:
        code = 0
    if not isinstance(code, int) or threading.active_count() > 1:
        raise SystemExit(code)
    atexit._run_exitfuncs()  # first, as Python's exit does: what they print is flushed too
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a reader gone, a stream closed: Python's exit says so
        raise SystemExit(code) from None
    os._exit(code)
