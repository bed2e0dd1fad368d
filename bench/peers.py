"""vocclean `clean` against datatrove's nearest equivalent pipeline: same corpus, same run.

    .venv/bin/pip install -r bench/requirements.txt      # datatrove, spacy, jieba: bench only
    .venv/bin/python bench/peers.py                       # all 19,876 xwlb stories, 5 runs each
    .venv/bin/python bench/peers.py --stories 500 --reps 1 --labelled 200

Speed: the xwlb stories of ``../shared/data`` (id and text), in two JSONL
files, through each pipeline in a fresh process with two workers:
``vocclean -j 2 -i corpus/ -o out/ clean`` and ``bench/peers_datatrove.py``
(its ``FTFYFormatter``, a line filter with vocclean's built-in rules, its
MinHash dedup with the ``zh`` word tokenizer; see that module). Printed: the
records written, the median wall time and CPU time (user + system of the
process and every worker it waited for) of ``--reps`` runs, the largest peak
RSS of the process tree (from /proc, sampled every 20 ms: bench/measure.py) and MB/s.

Quality: the labelled sets the project already has, built by their own
modules, each through the component of each tool that does that job:

- boilerplate lines (``strip_boilerplate_evalset``): vocclean's matcher with
  the lines ``clean`` learns from the same documents, against datatrove's
  ``FTFYFormatter`` then the rule line filter; line precision and recall.
- near-duplicate pairs (``dedup_articles_labelled``): dedup-articles against
  datatrove's four MinHash stages (a subprocess, clusters read back from its
  ``minhash_cluster_id``); pair precision and recall.
- repeated paragraphs (``dedup_paragraphs``): dedup-paragraphs; datatrove's
  pipeline has no such step.
- mojibake (``fix_encoding``'s damages: UTF-8 read as GB18030 without lost
  bytes, GBK read as latin-1, UTF-8 read as cp1252, on lines of 10+ hanzi):
  the share of damaged lines fix-encoding and datatrove's ``FTFYFormatter``
  restore exactly, all three together and cp1252 alone (ftfy's own ground).

``--labelled N`` sizes every set (xwlb stories, near-duplicate originals,
damaged lines of each kind). Everything, datatrove's logs and jieba's cache
included, is written under one temporary directory, removed at the end.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import dedup_articles_labelled as near_dups  # noqa: E402
import dedup_paragraphs as paragraphs  # noqa: E402
import fix_encoding as mojibake  # noqa: E402
import measure  # noqa: E402
import strip_boilerplate_evalset as boilerplate  # noqa: E402
from datatrove.pipeline.formatters import FTFYFormatter  # noqa: E402
from measure import Run  # noqa: E402
from peers_datatrove import RuleLines  # noqa: E402
from scale import XWLB, table  # noqa: E402
from strip_boilerplate import learned_from  # noqa: E402

from vocclean.record import Record  # noqa: E402
from vocclean.steps.fix_encoding import FixEncoding  # noqa: E402
from vocclean.text.boilerplate import BoilerplateMatcher  # noqa: E402
from vocclean.text.boilerplate_rules import builtin_pack_paths, load_packs  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
TOOLS = ("vocclean", "datatrove")
DATATROVE_JOB = REPO / "bench" / "peers_datatrove.py"


def build_corpus(directory: Path, stories: int | None) -> int:
    """The xwlb stories (id, text) in two JSONL files; returns their size in bytes."""
    with gzip.open(XWLB, "rt", encoding="utf-8") as stream:
        records = [json.loads(line) for line in stream]
    records = records[:stories] if stories else records
    lines = [json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n" for r in records]
    directory.mkdir(parents=True)
    half = len(lines) // 2
    for name, part in (("a.jsonl", lines[:half]), ("b.jsonl", lines[half:])):
        (directory / name).write_text("".join(part), encoding="utf-8")
    return sum(len(line.encode()) for line in lines)


def timed(command: list[str], tmp: Path) -> Run:
    """Runs ``command`` with TMPDIR=tmp (jieba caches its dictionary in the temp dir)."""
    return measure.timed(command, REPO, tmp, ok=(0, 1) if "vocclean" in command else (0,))


def written(directory: Path) -> list[dict]:
    """The records of the JSONL files of an output directory (hidden files, e.g. manifests, aside)."""
    records = []
    for path in sorted(directory.glob("[!.]*.jsonl")):
        with open(path, encoding="utf-8") as stream:
            records.extend(json.loads(line) for line in stream if line.strip())
    return records


def command_of(tool: str, corpus: Path, out: Path) -> list[str]:
    if tool == "vocclean":
        return [sys.executable, "-m", "vocclean", "-j", "2", "-i", str(corpus), "-o", f"{out}/", "clean"]
    return [sys.executable, str(DATATROVE_JOB), str(corpus), str(out)]


def speed(work: Path, stories: int | None, reps: int) -> tuple[int, dict[str, list[float | None]]]:
    """Corpus bytes, and per tool: records out, wall s, CPU s, peak MB, MB/s."""
    size = build_corpus(work / "corpus", stories)
    (work / "tmp").mkdir()
    columns: dict[str, list[float | None]] = {}
    for tool in TOOLS:
        runs = []
        for rep in range(reps):
            out = work / f"{tool}-{rep}"
            runs.append(timed(command_of(tool, work / "corpus", out), work / "tmp"))
        count = len(written(work / f"{tool}-0" / ("out" if tool == "datatrove" else "")))
        if not count:
            raise SystemExit(f"{tool} wrote no record: its pipeline is misconfigured")
        seconds = statistics.median(run.seconds for run in runs)
        cpu = statistics.median(run.cpu for run in runs)
        columns[tool] = [count, seconds, cpu, max(run.peak for run in runs) / 1e6, size / 1e6 / seconds]
    return size, columns


# --- quality on the labelled sets ------------------------------------------------


def boilerplate_figures(count: int) -> dict[str, list[float | None]]:
    documents = boilerplate.build(SHARED, stories=count)
    matcher, learned = BoilerplateMatcher(load_packs(builtin_pack_paths())), learned_from(documents)
    ftfy, rule_lines = FTFYFormatter(), RuleLines()
    finders: dict[str, Callable[[str], list]] = {
        "vocclean": lambda text: matcher.find(text, learned),
        "datatrove": lambda text: rule_lines.removals(ftfy.format(text)),
    }
    scores = {tool: boilerplate.score(documents, find) for tool, find in finders.items()}
    return {tool: [s.precision, s.recall] for tool, s in scores.items()}


def datatrove_clusters(records: list[dict], work: Path, tmp: Path) -> dict[str, str]:
    """id -> cluster of datatrove's MinHash dedup alone over ``records``."""
    (work / "source").mkdir(parents=True)
    lines = (json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n" for r in records)
    (work / "source" / "records.jsonl").write_text("".join(lines), encoding="utf-8")
    timed([*command_of("datatrove", work / "source", work / "run"), "--dedup-only"], tmp)
    clusters = {}
    for record in written(work / "run" / "out") + written(work / "run" / "removed"):
        cluster = record["metadata"].get("minhash_cluster_id", -1)
        clusters[record["id"]] = f"minhash-{cluster}" if cluster >= 0 else record["id"]
    return clusters


def near_dup_figures(count: int, work: Path) -> dict[str, list[float | None]]:
    """Pair scores; ``work`` holds datatrove's run (``work/near-dups``) and temp dir (``work/tmp``)."""
    records = near_dups.build_labelled_set(near_dups.load_stories(), count)
    clusters = {
        "vocclean": near_dups.run_dedup(records),
        "datatrove": datatrove_clusters(records, work / "near-dups", work / "tmp"),
    }
    scores = {tool: near_dups.score(records, cluster) for tool, cluster in clusters.items()}
    return {tool: [s["precision"], s["recall"]] for tool, s in scores.items()}


def paragraph_figures(count: int) -> dict[str, list[float | None]]:
    docs = paragraphs.build_labelled_set(paragraphs.load_stories(limit=count))
    score = paragraphs.evaluate(paragraphs.ours(), docs)
    return {"vocclean": [score.precision, score.recall], "datatrove": [None, None]}  # no such step


def mojibake_figures(count: int) -> dict[str, list[float | None]]:
    lines = [line for story in mojibake.load_texts(count) for line in mojibake._long_lines(story)][:count]
    lossless = [line for line in lines if "\ufffd" not in mojibake.utf8_as_gb18030(line)]
    damaged = {
        damage.__name__: [(line, damage(line)) for line in subset]
        for damage, subset in (
            (mojibake.utf8_as_gb18030, lossless),
            (mojibake.gbk_as_latin1, lines),
            (mojibake.utf8_as_cp1252, lines),
        )
    }
    fix_encoding, ftfy = FixEncoding(), FTFYFormatter()
    fixers: dict[str, Callable[[str], str]] = {
        "vocclean": lambda text: fix_encoding.process(Record(id="x", text=text)).text,
        "datatrove": ftfy.format,
    }
    figures = {}
    for tool, fix in fixers.items():
        restored = {kind: sum(fix(bad) == good for good, bad in pairs) for kind, pairs in damaged.items()}
        total = sum(len(pairs) for pairs in damaged.values())
        cp1252 = restored["utf8_as_cp1252"] / len(damaged["utf8_as_cp1252"])
        figures[tool] = [sum(restored.values()) / total, cp1252]
    return figures


def ratio(ours: float | None, theirs: float | None) -> str:
    return f"{ours / theirs:.2f}" if ours is not None and theirs else "—"


HEADERS = [
    "tool", "records out", "wall s", "CPU s", "peak MB", "MB/s",
    "boilerplate P", "boilerplate R", "near-dup pairs P", "near-dup pairs R",
    "repeated ¶ P", "repeated ¶ R", "mojibake restored", "cp1252 restored",
]  # fmt: skip
FORMATS = ["{:.0f}", "{:.1f}", "{:.1f}", "{:.0f}", "{:.1f}", *["{:.3f}"] * 8]


def shown(values: list[float | None]) -> list[str]:
    return [
        "no step" if value is None else form.format(value)
        for form, value in zip(FORMATS, values, strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stories", type=int, default=None, help="xwlb stories timed (default: all)")
    parser.add_argument("--reps", type=int, default=5, help="timed runs of each pipeline (median)")
    parser.add_argument("--labelled", type=int, default=1000, help="size of each labelled set")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is absent: the benchmark needs the shared evaluation data")
    with tempfile.TemporaryDirectory(prefix="vocclean-peers-") as tmp:
        work = Path(tmp)
        size, columns = speed(work, args.stories, args.reps)
        for figures in (
            boilerplate_figures(args.labelled),
            near_dup_figures(args.labelled, work),
            paragraph_figures(args.labelled),
            mojibake_figures(args.labelled),
        ):
            for tool in TOOLS:
                columns[tool] += figures[tool]
    rows = [[tool, *shown(columns[tool])] for tool in TOOLS]
    rows.append(["vocclean/datatrove", *map(ratio, columns["vocclean"], columns["datatrove"])])
    print(f"\n### clean against datatrove ({size / 1e6:.1f} MB, 2 workers, median of {args.reps})\n")
    print(table(HEADERS, rows))


if __name__ == "__main__":
    main()
