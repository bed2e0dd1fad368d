"""dedup-paragraphs --across-docs hashes paragraphs the same way in every process."""

import os
import subprocess
import sys

SCRIPT = """
from vocclean.record import Record
from vocclean.steps.dedup_paragraphs import DedupParagraphs
step = DedupParagraphs(across_docs=True)
text = "会议强调要牢记使命担当，坚持以人民为中心的发展思想。\\n"
text += "新闻联播今天的主要内容有这样一些，请看详细的报道内容。"
print(sorted(step._analyse(Record(id="a", text=text)).hashes))
"""


def _hashes_with_seed(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def test_paragraph_hashes_do_not_depend_on_the_process_hash_seed():
    first = _hashes_with_seed("1")
    assert first.count(",") == 1  # both paragraphs hashed
    assert first == _hashes_with_seed("2")
