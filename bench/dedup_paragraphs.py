"""Benchmark and accuracy evaluation of dedup-paragraphs.

    .venv/bin/python bench/dedup_paragraphs.py                  # everything, defaults below
    .venv/bin/python bench/dedup_paragraphs.py --stories 2000 --reps 5 --index-paragraphs 1000000

Three parts, each printing a markdown table:

1. Accuracy on a labelled set built from xwlb stories (``../shared/data/
   xwlb_cctv_news_zh``): into each story we inject copies of its own
   paragraphs (exact, punctuation edited, width changed, one word changed,
   or a block of consecutive paragraphs, up to the whole story) at later
   positions. A paragraph is a true repeat when it was injected or when it is
   a byte-identical (after strip) copy of an earlier line of the original
   story; everything else, including the story's own templated near-identical
   paragraphs, is a true non-repeat. Compared in the same run with plain
   exact-line matching and a re-implementation of data-juicer's
   ``remove_repeat_sentences`` rule (sentence-level, special characters
   ignored; a paragraph counts as removed when all its sentences were).
2. Throughput (MB of UTF-8 text per second, one core, median of ``--reps``
   runs) of the step on the labelled stories, in-document and across
   documents, against exact-line matching on the same texts.
3. Memory of the cross-document index for ``--index-paragraphs`` synthetic
   distinct paragraphs (tracemalloc peak and the arrays' size), against a
   plain Python set of the same 64-bit hashes.

Repeats are injected only from paragraphs long enough to be matched by
design: exact / punctuation / width copies from paragraphs of at least 8 key
characters, one-changed-word copies from paragraphs of at least 20 (a changed
word in a shorter line makes a different line, e.g. 国内十大新闻 / 国际十大新闻);
blocks may contain short lines.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vocclean.record import Record  # noqa: E402
from vocclean.steps.dedup_paragraphs import DedupParagraphs  # noqa: E402
from vocclean.text.normalize_key import key_hash, paragraph_key  # noqa: E402
from vocclean.text.paragraph_index import ParagraphIndex  # noqa: E402

XWLB = REPO.parent / "shared" / "data" / "xwlb_cctv_news_zh" / "stories.jsonl.gz"
KINDS = ("exact", "punctuation", "width", "word", "block")
KIND_WEIGHTS = (30, 20, 15, 20, 15)
_HANZI = re.compile("[\u4e00-\u9fff]")
_PUNCT_SWAPS = {"，": ["、", ",", "；", ""], "。": [".", "！", "；"], "、": ["，", ","], "：": [":", "，"]}
_PUNCT_INSERT = ["，", "、", ",", " "]


@dataclass
class LabelledDoc:
    """A story with injected repeats: its paragraphs and which of them are repeats (by kind)."""

    id: str
    paragraphs: list[str]
    repeats: dict[int, str] = field(default_factory=dict)  # paragraph number -> kind

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def load_stories(path: Path = XWLB, limit: int | None = None, seed: int = 0) -> list[dict]:
    """xwlb stories (id, text), a seeded random sample of ``limit`` of them when given."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        stories = [json.loads(line) for line in handle]
    if limit is not None and limit < len(stories):
        stories = random.Random(seed).sample(stories, limit)
    return stories


def _edit_punctuation(text: str, rng: random.Random) -> str:
    marks = [i for i, ch in enumerate(text) if ch in _PUNCT_SWAPS]
    if marks and rng.random() < 0.8:
        for i in sorted(rng.sample(marks, min(len(marks), rng.choice([1, 1, 2]))), reverse=True):
            text = text[:i] + rng.choice(_PUNCT_SWAPS[text[i]]) + text[i + 1 :]
        return text
    i = rng.randrange(1, len(text))
    return text[:i] + rng.choice(_PUNCT_INSERT) + text[i:]


def _change_width(text: str, rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.5:  # the NFKC fingerprint of seed 004: full-width punctuation to ASCII
        return text.translate({ord(c): ord(c) - 0xFEE0 for c in "，：；！？（）"})
    if choice < 0.8:  # ASCII letters and digits to full-width
        return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)
    i = rng.randrange(1, len(text))  # an ideographic space slipped in
    return text[:i] + "\u3000" + text[i:]


def _change_word(text: str, rng: random.Random, hanzi: str) -> str:
    spans = [m.start() for m in _HANZI.finditer(text)]
    width = rng.choice([1, 2, 2, 2, 3, 4])
    start = rng.choice(spans[: max(1, len(spans) - width)])
    new_width = rng.choice([width, max(1, width - 1), width + 1])
    return text[:start] + "".join(rng.choice(hanzi) for _ in range(new_width)) + text[start + width :]


def build_labelled_set(
    stories: list[dict], seed: int = 0, repeats_per_story: tuple[int, int] = (1, 3)
) -> list[LabelledDoc]:
    """Stories with injected repeats; labels are injected copies plus the stories' own exact repeats."""
    rng = random.Random(seed)
    hanzi = "".join(_HANZI.findall("".join(s["text"] for s in stories[:200])))
    docs = []
    for story in stories:
        paragraphs = [p for p in story["text"].split("\n") if p.strip()]
        # (text, kind or None); kind None = original paragraph
        entries: list[tuple[str, str | None]] = [(p, None) for p in paragraphs]
        keys = [paragraph_key(p) for p in paragraphs]
        eligible = [i for i, k in enumerate(keys) if len(k) >= 8]
        eligible_word = [i for i, k in enumerate(keys) if len(k) >= 20]
        for _ in range(rng.randint(*repeats_per_story)):
            kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
            if kind == "block":
                start = rng.randrange(len(paragraphs))
                end = rng.randint(start + 1, len(paragraphs)) if rng.random() < 0.7 else len(paragraphs)
                if start == 0 and rng.random() < 0.5:
                    end = len(paragraphs)  # the whole story pasted twice (seed 004)
                if all(len(k) < 8 for k in keys[start:end]):
                    continue  # only short lines: not a block we claim to find (see the module doc)
                block = [(p, "block") for p in paragraphs[start:end]]
                last = max(
                    i for i, (text, k) in enumerate(entries) if k is None and text == paragraphs[end - 1]
                )
                at = rng.randint(last + 1, len(entries))
                entries[at:at] = block
                continue
            pool = eligible_word if kind == "word" else eligible
            if not pool:
                continue
            source = rng.choice(pool)
            text = paragraphs[source]
            if kind == "punctuation":
                text = _edit_punctuation(text, rng)
            elif kind == "width":
                text = _change_width(text, rng)
            elif kind == "word":
                text = _change_word(text, rng, hanzi)
            position = next(i for i, (t, k) in enumerate(entries) if k is None and t == paragraphs[source])
            at = rng.randint(position + 1, len(entries))
            entries.insert(at, (text, kind))
        repeats: dict[int, str] = {}
        seen: set[str] = set()
        for number, (text, kind) in enumerate(entries):
            if kind is not None:
                repeats[number] = kind
            elif text.strip() in seen:
                repeats[number] = "natural-exact"
            seen.add(text.strip())
        docs.append(LabelledDoc(str(story["id"]), [t for t, _ in entries], repeats))
    return docs


# --- the methods compared: each maps a text to the set of paragraph numbers it removes ---


def ours(step: DedupParagraphs | None = None) -> Callable[[str], set[int]]:
    step = step or DedupParagraphs()

    def removed(text: str) -> set[int]:
        record = step.process(Record(id="x", text=text))
        return {entry["paragraph"] for entry in record.annotations.get("repeated_paragraphs", [])}

    return removed


def exact_line(text: str) -> set[int]:
    """Plain exact-line matching: a non-blank line equal (after strip) to an earlier one."""
    seen: set[str] = set()
    removed = set()
    for number, line in enumerate(line for line in text.split("\n") if line.strip()):
        line = line.strip()
        if line in seen:
            removed.add(number)
        seen.add(line)
    return removed


_DJ_SPLITS = [
    (re.compile("([.。！!？?])([^’”])"), r"\1\n\2"),
    (re.compile("(\\.{6})([^’”])"), r"\1\n\2"),
    (re.compile("(…{2})([^’”])"), r"\1\n\2"),
    (re.compile("([.。!！？?][’”])([^’”])"), r"\1\n\2"),
]
_DJ_SPECIAL = re.compile("[^a-zA-Z0-9\u4e00-\u9fa5\n\t ]")


def dj_style(text: str) -> set[int]:
    """data-juicer remove_repeat_sentences (defaults: special characters ignored, min length 2),
    re-implemented: a paragraph counts as removed when every sentence of it was dropped."""
    seen: set[str] = set()
    removed = set()
    for number, line in enumerate(line for line in text.split("\n") if line.strip()):
        for pattern, replacement in _DJ_SPLITS:
            line = pattern.sub(replacement, line)
        kept_any = False
        for sentence in line.split("\n"):
            copy = _DJ_SPECIAL.sub("", sentence.strip())
            if len(copy) < 2:
                kept_any = kept_any or bool(sentence.strip())
            elif copy not in seen:
                kept_any = True
                seen.add(copy)
        if not kept_any:
            removed.add(number)
    return removed


@dataclass
class Score:
    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    recall_by_kind: Counter = field(default_factory=Counter)
    total_by_kind: Counter = field(default_factory=Counter)
    false_pos_examples: list = field(default_factory=list)

    @property
    def precision(self) -> float:
        flagged = self.true_pos + self.false_pos
        return self.true_pos / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        truth = self.true_pos + self.false_neg
        return self.true_pos / truth if truth else 1.0


def evaluate(method: Callable[[str], set[int]], docs: list[LabelledDoc]) -> Score:
    score = Score()
    for doc in docs:
        predicted = method(doc.text)
        truth = set(doc.repeats)
        score.true_pos += len(predicted & truth)
        score.false_neg += len(truth - predicted)
        for number in sorted(predicted - truth):
            score.false_pos += 1
            if len(score.false_pos_examples) < 20:
                score.false_pos_examples.append((doc.id, number, doc.paragraphs[number][:50]))
        for number, kind in doc.repeats.items():
            score.total_by_kind[kind] += 1
            score.recall_by_kind[kind] += number in predicted
    return score


def accuracy_table(docs: list[LabelledDoc]) -> tuple[str, dict[str, Score]]:
    methods = {
        "dedup-paragraphs (defaults)": ours(),
        "exact-line matching": exact_line,
        "data-juicer remove_repeat_sentences (re-implemented)": dj_style,
    }
    scores = {name: evaluate(method, docs) for name, method in methods.items()}
    kinds = sorted({k for s in scores.values() for k in s.total_by_kind})
    truth = sum(len(d.repeats) for d in docs)
    paragraphs = sum(len(d.paragraphs) for d in docs)
    lines = [
        f"Labelled set: {len(docs)} xwlb stories, {paragraphs} paragraphs, {truth} true repeats",
        "",
        "| method | precision | recall | FP | FN | " + " | ".join(f"recall {k}" for k in kinds) + " |",
        "|---|---|---|---|---|" + "---|" * len(kinds),
    ]
    for name, s in scores.items():
        per_kind = " | ".join(f"{s.recall_by_kind[k] / s.total_by_kind[k]:.3f}" for k in kinds)
        lines.append(
            f"| {name} | {s.precision:.4f} | {s.recall:.4f} | {s.false_pos} | {s.false_neg} | {per_kind} |"
        )
    counts = " | ".join(str(scores["exact-line matching"].total_by_kind[k]) for k in kinds)
    lines.append(f"| (true repeats of each kind) | | | | | {counts} |")
    return "\n".join(lines), scores


def _median_seconds(run: Callable[[], object], reps: int, setup: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(reps):
        argument = setup() if setup else None
        start = time.perf_counter()
        run(argument) if setup else run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def throughput_table(texts: list[str], reps: int, clean_texts: list[str] | None = None) -> str:
    """MB/s of the step (through its ``__call__``, as the pipeline runs it) against exact-line matching."""

    def records_of(chosen: list[str]) -> Callable[[], list[Record]]:
        return lambda: [Record(id=str(number), text=text) for number, text in enumerate(chosen)]

    def run_step(**options) -> Callable[[list[Record]], object]:
        return lambda records: list(DedupParagraphs(**options)(records))

    lines = [
        f"Throughput, median of {reps} runs, one core (MB of UTF-8 text per second)",
        "",
        "| texts | method | MB/s | ratio to exact-line |",
        "|---|---|---|---|",
    ]
    sets = [("labelled (injected repeats)", texts)]
    if clean_texts:
        sets.append(("original stories", clean_texts))
    for label, chosen in sets:
        megabytes = sum(len(t.encode("utf-8")) for t in chosen) / 1e6
        baseline = megabytes / _median_seconds(lambda chosen=chosen: [exact_line(t) for t in chosen], reps)
        lines.append(
            f"| {label}, {len(chosen)} stories, {megabytes:.1f} MB | exact-line matching | "
            f"{baseline:.1f} | 1.00 |"
        )
        for name, options in (
            ("dedup-paragraphs", {}),
            ("dedup-paragraphs --across-docs", {"across_docs": True}),
        ):
            mbps = megabytes / _median_seconds(run_step(**options), reps, records_of(chosen))
            lines.append(f"| | {name} | {mbps:.1f} | {mbps / baseline:.2f} |")
    return "\n".join(lines)


def synthetic_hashes(count: int, seed: int = 0) -> list[int]:
    """Hashes of ``count`` distinct synthetic paragraphs."""
    rng = random.Random(seed)
    return [key_hash(f"合成段落{i}第{rng.getrandbits(32)}号内容") for i in range(count)]


def index_memory(count: int, per_doc: int = 10) -> dict[str, float]:
    """Peak and retained bytes of a ParagraphIndex after observing ``count`` distinct
    paragraphs (``per_doc`` per document), and of a Python set of the same hashes."""
    hashes = synthetic_hashes(count)
    documents = [
        (hashes[start : start + per_doc], f"doc-{start // per_doc:07d}") for start in range(0, count, per_doc)
    ]
    tracemalloc.start()
    index = ParagraphIndex()
    for start in range(0, len(documents), 256):  # the step's batch size
        index.observe_documents(documents[start : start + 256])
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    # New int objects, as a set filled from hashing would own them (32 bytes each besides the table).
    as_set = {int.from_bytes(value.to_bytes(8, "little"), "little") for value in hashes}
    set_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(index) == len(as_set) == count
    return {
        "paragraphs": count,
        "documents": -(-count // per_doc),
        "index_current": current,
        "index_peak": peak,
        "index_nbytes": index.nbytes,
        "set_bytes": set_bytes,
    }


def memory_table(count: int) -> str:
    m = index_memory(count)
    mb = 1e6
    return "\n".join(
        [
            f"Cross-document index, {m['paragraphs']:,} distinct synthetic paragraphs "
            f"in {m['documents']:,} documents",
            "",
            "| structure | retained MB | peak MB | bytes per paragraph |",
            "|---|---|---|---|",
            f"| ParagraphIndex (numpy arrays + id table) | {m['index_current'] / mb:.1f} | "
            f"{m['index_peak'] / mb:.1f} | {m['index_current'] / count:.1f} |",
            f"| Python set of the same 64-bit ints | {m['set_bytes'] / mb:.1f} | "
            f"{m['set_bytes'] / mb:.1f} | {m['set_bytes'] / count:.1f} |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=XWLB, help="xwlb stories.jsonl.gz")
    parser.add_argument("--stories", type=int, default=None, help="sample this many stories (default: all)")
    parser.add_argument("--reps", type=int, default=5, help="throughput repetitions (median)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--index-paragraphs", type=int, default=1_000_000)
    parser.add_argument("--skip", action="append", default=[], choices=["accuracy", "throughput", "memory"])
    parser.add_argument("--show-errors", action="store_true", help="print false positives of our method")
    args = parser.parse_args(argv)

    if {"accuracy", "throughput"} - set(args.skip):
        if not args.data.exists():
            print(f"{args.data} is absent: the accuracy and throughput parts need it", file=sys.stderr)
            return 2
        stories = load_stories(args.data, args.stories, args.seed)
        docs = build_labelled_set(stories, args.seed)
        if "accuracy" not in args.skip:
            table, scores = accuracy_table(docs)
            print(table, end="\n\n")
            if args.show_errors:
                for example in scores["dedup-paragraphs (defaults)"].false_pos_examples:
                    print("FP", *example, file=sys.stderr)
        if "throughput" not in args.skip:
            clean = [story["text"] for story in stories]
            print(throughput_table([d.text for d in docs], args.reps, clean), end="\n\n")
    if "memory" not in args.skip:
        print(memory_table(args.index_paragraphs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
