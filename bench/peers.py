"""vocclean `clean` against datatrove's nearest equivalent pipeline, same corpus, same run.

    .venv/bin/pip install -r bench/requirements.txt      # datatrove, spacy, jieba, regex: bench only
    .venv/bin/python bench/peers.py                       # all 19,876 xwlb stories, 3 runs each
    .venv/bin/python bench/peers.py --stories 2000 --reps 1

The corpus is the xwlb stories of ``../shared/data`` plus, for every tenth
story, a repost: the same story with a different headline line and a
boilerplate line added (``請繼續往下閱讀...``), so both pipelines have
duplicates and boilerplate to find. Each pipeline runs in a fresh process
with two workers; printed: wall time (median), peak memory of the process
tree, records written, and how many of the planted reposts each removed.

datatrove's pipeline (its own components, defaults unless said):
``JsonlReader`` -> ``FTFYFormatter`` -> a line filter removing the lines that
match vocclean's built-in boilerplate rules (the regexes of
``vocclean/rules/*.toml``, "anywhere" and head/tail rules alike, since
datatrove has no position logic) -> ``JsonlWriter``, then its four MinHash
stages (signatures with ``language="zh"``, buckets, clusters, filter) on
that output, on a ``LocalPipelineExecutor`` with 2 workers. Its MinHash
uses sha1 (its xxhash path breaks with current xxhash) and its ``zh`` word
tokenizer (spaCy with jieba), which on this text yields clause-long tokens.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from scale import XWLB, peak_tree_rss, table  # noqa: E402

DATATROVE_JOB = textwrap.dedent(
    """
    import re, sys
    from pathlib import Path
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.pipeline.formatters import FTFYFormatter
    from datatrove.pipeline.formatters.base import BaseFormatter
    from datatrove.pipeline.dedup import (
        MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature,
    )
    sys.path.insert(0, sys.argv[3])
    from datatrove.utils.hashing import HashConfig
    from vocclean.text.boilerplate_rules import builtin_pack_paths, load_packs

    PATTERNS = [rule.regex for rule in load_packs(builtin_pack_paths())]

    class RuleLines(BaseFormatter):
        name = "vocclean rules as a line filter"
        def format(self, text):
            return "\\n".join(l for l in text.split("\\n") if not any(p.search(l.strip()) for p in PATTERNS))

    def main():
        source, work = sys.argv[1], Path(sys.argv[2])
        # sha1: datatrove 0.10's xxhash path passes str where current xxhash wants bytes.
        config = MinhashConfig(hash_config=HashConfig(hash_fc="sha1"))
        common = dict(tasks=2, workers=2, logging_dir=str(work / "logs"))  # not ./logs
        clean, sigs, buckets, remove = (str(work / n) for n in ("clean", "sigs", "buckets", "remove"))
        steps = [JsonlReader(source), FTFYFormatter(), RuleLines(), JsonlWriter(clean)]
        LocalPipelineExecutor(steps, **common).run()
        steps = [JsonlReader(clean), MinhashDedupSignature(sigs, config=config, language="zh")]
        LocalPipelineExecutor(steps, **common).run()
        steps = [MinhashDedupBuckets(sigs, buckets, config=config)]
        buckets_logs = str(work / "logs-b")
        LocalPipelineExecutor(steps, tasks=config.num_buckets, workers=2, logging_dir=buckets_logs).run()
        steps = [MinhashDedupCluster(buckets, remove, config=config)]
        LocalPipelineExecutor(steps, tasks=1, logging_dir=str(work / "logs-c")).run()
        steps = [JsonlReader(clean), MinhashDedupFilter(remove), JsonlWriter(str(work / "out"))]
        LocalPipelineExecutor(steps, **common).run()

    if __name__ == "__main__":
        main()
    """
)


def build_corpus(directory: Path, stories: int | None) -> set[str]:
    """Two JSONL files of stories and planted reposts; returns the reposts' ids."""
    with gzip.open(XWLB, "rt", encoding="utf-8") as stream:
        records = [json.loads(line) for line in stream]
    records = records[:stories] if stories else records
    reposts = set()
    out = []
    for i, record in enumerate(records):
        out.append({"id": record["id"], "text": record["text"]})
        if i % 10 == 5:
            reposts.add(f"{record['id']}-repost")
            text = f"【转载】{record.get('title', '')}\n{record['text']}\n請繼續往下閱讀..."
            out.append({"id": f"{record['id']}-repost", "text": text})
    directory.mkdir(parents=True)
    half = len(out) // 2
    for name, part in (("a.jsonl", out[:half]), ("b.jsonl", out[half:])):
        with open(directory / name, "w", encoding="utf-8") as stream:
            stream.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in part)
    return reposts


def timed(command: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak: list[int] = []
    watcher = threading.Thread(target=lambda: peak.append(peak_tree_rss(process)))
    watcher.start()
    _, stderr = process.communicate()
    watcher.join()
    if process.returncode not in ((0, 1) if "vocclean" in command else (0,)):
        raise SystemExit(f"{command[:4]} failed:\n{stderr.decode(errors='replace')[-3000:]}")
    return time.perf_counter() - started, peak[0] if peak else 0


def written_ids(directory: Path) -> list[str]:
    ids = []
    for path in sorted(directory.rglob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as stream:
            ids.extend(json.loads(line)["id"] for line in stream if line.strip())
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stories", type=int, default=None)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vocclean-peers-") as tmp:
        work = Path(tmp)
        reposts = build_corpus(work / "corpus", args.stories)
        size = sum(p.stat().st_size for p in (work / "corpus").iterdir())
        runs = {}
        for name in ("vocclean", "datatrove"):
            times, peaks = [], []
            for rep in range(args.reps):
                out = work / f"{name}-{rep}"
                if name == "vocclean":
                    command = [sys.executable, "-m", "vocclean", "-j", "2", "-i", str(work / "corpus"),
                               "-o", f"{out}/", "clean"]  # fmt: skip
                else:
                    job = work / "datatrove_job.py"
                    job.write_text(DATATROVE_JOB, encoding="utf-8")
                    command = [sys.executable, str(job), str(work / "corpus"), str(out), str(REPO)]
                seconds, peak = timed(command)
                times.append(seconds)
                peaks.append(peak)
            ids = set(written_ids(work / f"{name}-0" / ("out" if name == "datatrove" else "")))
            runs[name] = (statistics.median(times), max(peaks), len(ids), len(reposts - ids))
        rows = [
            [name, f"{t:.1f}", f"{size / 1e6 / t:.1f}", f"{p / 1e6:.0f}", str(n), f"{removed}/{len(reposts)}"]
            for name, (t, p, n, removed) in runs.items()
        ]
        print(f"\n### clean against datatrove ({size / 1e6:.0f} MB, 2 workers, median of {args.reps})\n")
        print(table(["pipeline", "seconds", "MB/s", "peak MB", "records out", "reposts removed"], rows))
        ratio = runs["datatrove"][0] / runs["vocclean"][0]
        print(f"\nvocclean is {ratio:.1f}x datatrove's speed; peak memory ratio "
              f"{runs['datatrove'][1] / max(runs['vocclean'][1], 1):.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
