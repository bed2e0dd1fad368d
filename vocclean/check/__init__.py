"""``vocclean check``: find what cleaning would fix, without changing anything.

from vocclean.check import Thresholds, check_corpus
from vocclean.runner import RunOptions
from vocclean.steps.dedup_articles import DedupArticles
from vocclean.steps.dedup_paragraphs import DedupParagraphs
from vocclean.steps.fix_encoding import FixEncoding
from vocclean.steps.normalize_script import NormalizeScript
from vocclean.steps.strip_boilerplate import StripBoilerplate

steps = [FixEncoding(), NormalizeScript(), StripBoilerplate(learn=True), DedupParagraphs(), DedupArticles()]
result = check_corpus(steps, RunOptions(inputs=("corpus/",)), Thresholds())
print(result.passed, result.kinds["boilerplate"].records)

The steps are clean's (what ``vocclean check`` runs when no step is named), built with their
defaults: settings in ``vocclean.toml`` or ``VOCCLEAN_*`` are the command line's, not read here.
"""

from vocclean.check.checker import CheckResult, Thresholds, check_corpus, check_records
from vocclean.check.detectors import Finding
from vocclean.check.kinds import DEFAULT_FAIL_ON, DEFAULT_MAX_RATES, KINDS, RATE_GROUPS, parse_kinds

__all__ = [
    "DEFAULT_FAIL_ON",
    "DEFAULT_MAX_RATES",
    "KINDS",
    "RATE_GROUPS",
    "CheckResult",
    "Finding",
    "Thresholds",
    "check_corpus",
    "check_records",
    "parse_kinds",
]
