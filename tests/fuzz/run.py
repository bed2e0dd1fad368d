"""Run the fuzz targets under atheris (coverage-guided) for a bounded time.

    .venv/bin/python tests/fuzz/run.py --seconds 60              # every target, 60 s each
    .venv/bin/python tests/fuzz/run.py --seconds 600 --target clean

Each target runs in its own process on a scratch copy of its seeds
(tests/fuzz/seeds/TARGET/). A crash is written to tests/cases/fuzz/TARGET/
(libFuzzer's crash-<sha1> file): fix the bug, keep the file, and
tests/fuzz/test_smoke.py replays it in every test run from then on.
Needs atheris (bench/requirements.txt); exit status 1 when any target crashed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SEEDS = HERE / "seeds"
CRASHES = REPO / "tests" / "cases" / "fuzz"


def fuzz_in_this_process(name: str, seconds: int, corpus: Path) -> None:
    import atheris

    sys.path.insert(0, str(REPO))
    from tests.fuzz import targets

    target = targets.TARGETS[name]
    for seed in sorted((SEEDS / name).glob("*")):  # import every module the target reaches...
        target(seed.read_bytes())
    atheris.instrument_all()  # ...then instrument them all for coverage feedback
    prefix = CRASHES / name
    prefix.mkdir(parents=True, exist_ok=True)
    arguments = [
        sys.argv[0],
        f"-max_total_time={seconds}",
        f"-artifact_prefix={prefix}/",
        "-max_len=8192",
        "-timeout=30",
        "-rss_limit_mb=3072",
        "-print_final_stats=1",
        str(corpus),
    ]
    atheris.Setup(arguments, target)
    atheris.Fuzz()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=60, help="fuzzing time per target (default 60)")
    parser.add_argument("--target", action="append", help="a target name (repeatable; default: all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        fuzz_in_this_process(options.child, options.seconds, Path(options.corpus))
        return 0
    sys.path.insert(0, str(REPO))
    from tests.fuzz.targets import TARGETS

    names = options.target or list(TARGETS)
    failed = []
    print("| target | seconds | result | new crash files |")
    print("| --- | --- | --- | --- |")
    for name in names:
        before = set((CRASHES / name).glob("*")) if (CRASHES / name).exists() else set()
        with tempfile.TemporaryDirectory() as scratch:
            corpus = Path(scratch) / name
            shutil.copytree(SEEDS / name, corpus)
            start = time.monotonic()
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    name,
                    "--seconds",
                    str(options.seconds),
                    "--corpus",
                    str(corpus),
                ],
                cwd=REPO,
                capture_output=True,
                text=True,
            )
            spent = time.monotonic() - start
        log = Path(tempfile.gettempdir()) / "vocclean-fuzz-logs" / f"{name}.log"
        log.parent.mkdir(exist_ok=True)
        log.write_text(done.stdout + done.stderr)
        new = sorted(set((CRASHES / name).glob("*")) - before) if (CRASHES / name).exists() else []
        result = "ok" if done.returncode == 0 and not new else f"CRASH (exit {done.returncode}, see {log})"
        if result != "ok":
            failed.append(name)
        print(f"| {name} | {spent:.0f} | {result} | {', '.join(p.name for p in new) or '-'} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
