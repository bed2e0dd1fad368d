"""Load test: `clean` on a large synthetic corpus, with time and peak memory (RSS) recorded.

    .venv/bin/python bench/load.py                       # 1,000,000 records, default -j
    .venv/bin/python bench/load.py --records 20000 -j 1  # a quick look

The corpus is generated (seeded, so every run reads the same bytes): articles
of 2 to 6 paragraphs of common hanzi, some with boilerplate lines, some
Traditional, 5% exact and 5% near copies of recent articles, and a few broken
lines. The real command line runs on it as a user would run it (a file in, a
file out, --rejects); the process tree's resident memory is sampled every
0.2 s and its peak reported, with the largest single process's peak (from the
kernel, exact) beside it. Conservation is checked: written + rejected = read.
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure

REPO = Path(__file__).resolve().parent.parent
COMMON = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后"
    "多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还"
    "因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结"
    "解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级"
)
TRADITIONAL = "臺灣記者報導國際經濟發展會議政府時間說這們來對後過還進選舉區區長縣市議員鄉鎮產業環境"
BOILERPLATE = [
    "扫码关注我们",
    "责任编辑：张三",
    "（完）",
    "点击阅读原文",
    "【免责声明】本文仅代表作者个人观点。",
]


def sentence(rng: random.Random, alphabet: str) -> str:
    return "".join(rng.choices(alphabet, k=rng.randint(18, 40))) + rng.choice("。！？")


def generate(path: Path, records: int, seed: int = 0) -> int:
    """Write the corpus; return its size in bytes."""
    rng = random.Random(seed)
    recent: list[str] = []
    size = 0
    with open(path, "wb") as out:
        for number in range(records):
            roll = rng.random()
            if recent and roll < 0.05:
                text = rng.choice(recent)  # an exact copy
            elif recent and roll < 0.10:
                text = rng.choice(recent)  # a near copy: one paragraph changed
                paragraphs = text.split("\n")
                paragraphs[rng.randrange(len(paragraphs))] = sentence(rng, COMMON)
                text = "\n".join(paragraphs)
            else:
                alphabet = TRADITIONAL + COMMON if rng.random() < 0.1 else COMMON
                paragraphs = [
                    "".join(sentence(rng, alphabet) for _ in range(rng.randint(1, 3)))
                    for _ in range(rng.randint(2, 6))
                ]
                if rng.random() < 0.2:
                    paragraphs.append(rng.choice(BOILERPLATE))
                text = "\n".join(paragraphs)
                recent = [*recent[-999:], text]
            if number % 5000 == 4999:
                line = b"{broken line\n"
            else:
                record = {"id": f"doc{number}", "url": f"https://example.com/{number}", "text": text}
                line = json.dumps(record, ensure_ascii=False).encode() + b"\n"
            out.write(line)
            size += len(line)
    return size


class TreeMemory:
    """Samples the resident memory of a process and all its descendants; keeps the peak sum."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid = pid
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            samples = measure.tree_sample(self.pid)
            if not samples:
                return
            self.peak = max(self.peak, sum(rss for _, _, rss in samples))
            self._stop.wait(self.every)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run(records: int, jobs: int | None, keep: Path | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory(dir=keep) as scratch:
        folder = Path(scratch)
        source = folder / "in.jsonl"
        started = time.perf_counter()
        size = generate(source, records)
        generated = time.perf_counter() - started
        out, rejects = folder / "out.jsonl", folder / "rejects.jsonl"
        command = [
            sys.executable,
            "-m",
            "vocclean",
            "-i",
            str(source),
            "-o",
            str(out),
            "--rejects",
            str(rejects),
        ]
        if jobs:
            command += ["-j", str(jobs)]
        command.append("clean")
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE)
        memory = TreeMemory(process.pid)
        _, err = process.communicate()
        seconds = time.perf_counter() - started
        tree_peak = memory.stop()
        largest_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        if process.returncode not in (0, 1):
            raise SystemExit(f"vocclean failed ({process.returncode}):\n{err.decode()[-2000:]}")
        with open(out, "rb") as handle:
            written = sum(1 for _ in handle)
        with open(rejects, "rb") as handle:
            rejected = sum(1 for _ in handle)
        return {
            "records": records,
            "input_mb": size / 1e6,
            "generate_s": generated,
            "seconds": seconds,
            "written": written,
            "rejected": rejected,
            "conserved": written + rejected == records,
            "tree_peak_mb": tree_peak / 2**20,
            "largest_peak_mb": largest_peak / 2**20,
            "command": " ".join(["vocclean", *command[3:]]).replace(str(folder) + "/", ""),
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--records", type=int, default=1_000_000, help="records to generate (default 1,000,000)"
    )
    parser.add_argument(
        "-j", "--jobs", type=int, default=None, help="vocclean -j (default: vocclean's, all cores)"
    )
    parser.add_argument("--tmp", type=Path, default=None, help="where to put the corpus (default: $TMPDIR)")
    options = parser.parse_args()
    result = run(options.records, options.jobs, options.tmp)
    print(f"Command: `{result['command']}` (-j {options.jobs or 'default'})\n")
    columns = ["records", "input MB", "seconds", "records/s", "MB/s", "written", "rejected", "conserved"]
    columns += ["peak RSS, all processes", "peak RSS, largest process"]
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    print(
        f"| {result['records']:,} | {result['input_mb']:.0f} | {result['seconds']:.0f} | "
        f"{result['records'] / result['seconds']:,.0f} | {result['input_mb'] / result['seconds']:.2f} | "
        f"{result['written']:,} | {result['rejected']:,} | {'yes' if result['conserved'] else 'NO'} | "
        f"{result['tree_peak_mb']:,.0f} MiB | {result['largest_peak_mb']:,.0f} MiB |"
    )
    if not result["conserved"]:
        raise SystemExit("conservation failed: written + rejected != records")


if __name__ == "__main__":
    main()
