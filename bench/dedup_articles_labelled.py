"""A labelled near-duplicate set built from xwlb stories, and dedup-articles' accuracy on it.

Originals are xwlb stories (headline line + body), half of them from
recurring same-topic series (国内联播快讯, 国际联播快讯, 【新思想引领…】…) so
that distinct stories on one topic sit side by side. Some originals get
copies made by realistic repost edits: exact copies, dropped or reordered
paragraphs, a changed headline, added boilerplate, punctuation flattened to
ASCII, Simplified→Traditional (opencc s2t/s2tw), truncation, and pairs of
these. An original and its copies form one true cluster; every other pair
must not merge.

Originals are stories with at least 100 characters of body (about 7% of
xwlb stories are a headline and a link only). Originals that are already
near-duplicates of each other in the source (Jaccard of raw 5-character
shingle sets >= 0.2, computed with Python sets, independently of vocclean)
are left out, so that "distinct" really is distinct. This also leaves out
templated stories (the same annual meeting a year later, J 0.5-0.7), which
no shingle similarity tells apart from reposts: see the README's limits.

Usage: .venv/bin/python bench/dedup_articles_labelled.py [--originals 3000] [--seed 7]
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import opencc
import orjson

REPO = Path(__file__).resolve().parent.parent
STORIES = REPO.parent / "shared" / "data" / "xwlb_cctv_news_zh" / "stories.jsonl.gz"
TW_NEWS = REPO.parent / "shared" / "data" / "tw_news_covid_zh_hant"

SERIES = (
    "国内联播快讯",
    "国际联播快讯",
    "【新思想引领",
    "【在希望的田",
    "俄称打击乌军",
    "李强主持召开",
    "【央视快评】",
)
BOILERPLATE = (
    "来源：央视网 编辑：王晓 责任编辑：李明",
    "点击上方蓝字关注我们，获取更多资讯。",
    "【免责声明】本文转载自网络，文章观点仅代表作者本人，如有侵权请联系删除。",
    "本文来源：新闻联播 | 审核：张华 | 监制：刘强",
    "更多精彩内容，请下载客户端。扫描下方二维码关注公众号。",
    "（完）",
)
# Lines that are not story text: about 7% of xwlb stories are only a headline
# and these lines, which no edit can turn into a "repost"; they are not used.
LINK_LINES = ("[查看原文]", "(更新时间戳", "---")
MIN_BODY_CHARS = 100
FLATTEN = str.maketrans(
    {"，": ",", "。": ".", "：": ":", "；": ";", "！": "!", "？": "?", "（": "(", "）": ")"}
)
EDITS = (
    "exact",
    "drop_paragraph",
    "reorder",
    "headline",
    "boilerplate",
    "punctuation",
    "traditional",
    "truncate",
)


def load_stories(path: Path = STORIES) -> list[dict]:
    with gzip.open(path) as f:
        return [orjson.loads(line) for line in f]


def article(story: dict) -> str:
    return story["title"] + "\n" + story["text"]


def body_chars(story: dict) -> int:
    """Characters of the story body, without the source link and timestamp lines."""
    lines = story["text"].split("\n")
    return sum(len(line) for line in lines if line.strip() and not line.startswith(LINK_LINES))


def _shingles(text: str) -> set[str]:
    return {text[i : i + 5] for i in range(max(len(text) - 4, 1))}


def distinct_originals(
    stories: list[dict], n: int, rng: random.Random, max_jaccard: float = 0.2
) -> list[dict]:
    """``n`` stories, half from same-topic series, none a near copy of another."""
    stories = [s for s in stories if body_chars(s) >= MIN_BODY_CHARS]
    series = [s for s in stories if s["title"].startswith(SERIES)]
    others = [s for s in stories if not s["title"].startswith(SERIES)]
    picked = rng.sample(series, min(n // 2, len(series)))
    picked += rng.sample(others, n - len(picked))
    sets = [_shingles(article(s)) for s in picked]
    postings: dict[str, list[int]] = defaultdict(list)
    for i, shingles in enumerate(sets):
        for sh in shingles:
            postings[sh].append(i)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for docs in postings.values():
        if 1 < len(docs) <= 200:  # boilerplate shingles shared by hundreds say nothing
            for pair in combinations(docs, 2):
                shared[pair] += 1
    dropped = set()
    for (i, j), common in shared.items():
        if common / (len(sets[i]) + len(sets[j]) - common) >= max_jaccard:
            dropped.add(j)
    return [s for i, s in enumerate(picked) if i not in dropped]


class Editor:
    """Makes a repost of an article by one named edit."""

    def __init__(self, rng: random.Random, headlines: list[str]) -> None:
        self.rng = rng
        self.headlines = headlines
        self.s2t = opencc.OpenCC("s2t")
        self.s2tw = opencc.OpenCC("s2tw")

    def apply(self, edit: str, text: str) -> str:
        return getattr(self, edit)(text)

    def exact(self, text: str) -> str:
        return text

    def drop_paragraph(self, text: str) -> str:
        paras = text.split("\n")
        if len(paras) < 4:
            return self.truncate(text)
        del paras[self.rng.randrange(2, len(paras))]
        return "\n".join(paras)

    def reorder(self, text: str) -> str:
        paras = text.split("\n")
        body = paras[1:]
        self.rng.shuffle(body)
        return "\n".join([paras[0], *body])

    def headline(self, text: str) -> str:
        _, _, body = text.partition("\n")
        return self.rng.choice(self.headlines) + "\n" + body

    def boilerplate(self, text: str) -> str:
        extra = self.rng.sample(BOILERPLATE, 2)
        return f"{extra[0]}\n{text}\n{extra[1]}"

    def punctuation(self, text: str) -> str:
        return text.translate(FLATTEN).replace("\n", "\n\n")

    def traditional(self, text: str) -> str:
        return self.rng.choice((self.s2t, self.s2tw)).convert(text)

    def truncate(self, text: str) -> str:
        keep = self.rng.uniform(0.7, 0.9)
        return text[: int(len(text) * keep)] + "……"


def build_labelled_set(stories: list[dict], originals: int, seed: int = 7) -> list[dict]:
    """Records {id, text, group, edit}: an original and its copies share ``group``."""
    rng = random.Random(seed)
    pool = distinct_originals(stories, originals, rng)
    editor = Editor(rng, [s["title"] for s in rng.sample(stories, 500)])
    records = []
    for n, story in enumerate(pool):
        text = article(story)
        group = f"g{n}"
        records.append({"id": f"{group}-0", "text": text, "group": group, "edit": "original"})
        if rng.random() < 0.4:
            continue
        for c in range(1, rng.choice((1, 1, 2, 3)) + 1):
            edits = rng.sample(EDITS, rng.choice((1, 1, 2)))
            copy = text
            for edit in edits:
                copy = editor.apply(edit, copy)
            records.append({"id": f"{group}-{c}", "text": copy, "group": group, "edit": "+".join(edits)})
    rng.shuffle(records)
    return records


def pairs_of(clusters: dict[str, list[str]]) -> set[tuple[str, str]]:
    pairs = set()
    for members in clusters.values():
        pairs.update(combinations(sorted(members), 2))
    return pairs


def score(records: list[dict], predicted_cluster: dict[str, str]) -> dict[str, float]:
    """Pair precision and recall, overall and for pairs with a Traditional copy."""
    truth: dict[str, list[str]] = defaultdict(list)
    predicted: dict[str, list[str]] = defaultdict(list)
    for r in records:
        truth[r["group"]].append(r["id"])
        predicted[predicted_cluster[r["id"]]].append(r["id"])
    true_pairs, found = pairs_of(truth), pairs_of(predicted)
    traditional = {r["id"] for r in records if "traditional" in r["edit"]}
    trad_pairs = {p for p in true_pairs if p[0] in traditional or p[1] in traditional}
    hit = true_pairs & found
    return {
        "records": len(records),
        "true_pairs": len(true_pairs),
        "found_pairs": len(found),
        "precision": len(hit) / len(found) if found else 1.0,
        "recall": len(hit) / len(true_pairs) if true_pairs else 1.0,
        "traditional_pairs": len(trad_pairs),
        "traditional_recall": len(trad_pairs & found) / len(trad_pairs) if trad_pairs else 1.0,
    }


def missed_pairs(records: list[dict], predicted_cluster: dict[str, str]) -> list[tuple[str, str, str]]:
    """True pairs not found, with the edits of both copies: what to look at when recall drops."""
    by_group: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_group[r["group"]].append(r)
    missed = []
    for members in by_group.values():
        for a, b in combinations(members, 2):
            if predicted_cluster[a["id"]] != predicted_cluster[b["id"]]:
                missed.append((a["id"], b["id"], f"{a['edit']} ~ {b['edit']}"))
    return missed


def run_dedup(records: list[dict], **options) -> dict[str, str]:
    """dedup-articles in --mark-only mode over the records: id -> cluster id."""
    from vocclean.record import Record
    from vocclean.steps.dedup_articles import DedupArticles

    step = DedupArticles(mark_only=True, **options)
    out = step(Record(id=r["id"], text=r["text"]) for r in records)
    return {rec.id: rec.annotations["cluster"] for rec in out}


def tw_news_records() -> list[dict]:
    """Every row of the tw_news CSVs: headline + body (the description when the body is empty)."""
    import csv

    rows = []
    for path in sorted(TW_NEWS.glob("*.csv")):
        with open(path, encoding="utf-8-sig", newline="") as f:
            for n, row in enumerate(csv.DictReader(f)):
                text = row["TITLE"] + "\n" + (row["CONTENT"] or row["DESCRIPTION"])
                rows.append({"id": f"{path.name}:{n}", "text": text, "link": row["LINK"]})
    return rows


def repeated_urls_found(rows: list[dict], predicted_cluster: dict[str, str]) -> tuple[int, int, int]:
    """(URLs crawled more than once, of them wholly in one cluster, clusters spanning several URLs)."""
    by_link: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    links_of_cluster: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        by_link[row["link"]].add(predicted_cluster[row["id"]])
        counts[row["link"]] += 1
        links_of_cluster[predicted_cluster[row["id"]]].add(row["link"])
    repeated = [link for link, n in counts.items() if n > 1]
    together = sum(1 for link in repeated if len(by_link[link]) == 1)
    mixed = sum(1 for links in links_of_cluster.values() if len(links) > 1)
    return len(repeated), together, mixed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--originals", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--ngram", type=int, default=None)
    parser.add_argument("--show-missed", type=int, default=10)
    args = parser.parse_args(argv)
    if not STORIES.exists():
        print(f"{STORIES} is absent: the labelled set needs the shared xwlb data", file=sys.stderr)
        return 2
    records = build_labelled_set(load_stories(), args.originals, args.seed)
    options = {k: v for k, v in (("threshold", args.threshold), ("ngram", args.ngram)) if v is not None}
    start = time.perf_counter()
    clusters = run_dedup(records, **options)
    seconds = time.perf_counter() - start
    result = score(records, clusters)
    print("| records | true pairs | found pairs | precision | recall | Trad↔Simp pairs | Trad↔Simp recall |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {result['records']} | {result['true_pairs']} | {result['found_pairs']} "
        f"| {result['precision']:.4f} | {result['recall']:.4f} "
        f"| {result['traditional_pairs']} | {result['traditional_recall']:.4f} |"
    )
    print(f"\n({seconds:.1f} s, options {options or 'default'})")
    for a, b, edits in missed_pairs(records, clusters)[: args.show_missed]:
        print(f"missed {a} {b}: {edits}")
    if TW_NEWS.is_dir():
        rows = tw_news_records()
        repeated, together, mixed = repeated_urls_found(rows, run_dedup(rows, **options))
        print("\n| tw_news rows | URLs crawled twice or more | found as one cluster ", end="")
        print("| clusters spanning several URLs |")
        print("|---|---|---|---|")
        print(f"| {len(rows)} | {repeated} | {together} | {mixed} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
