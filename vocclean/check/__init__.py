"""``vocclean check``: find what cleaning would fix, without changing anything.

from vocclean.check import Thresholds, check_corpus
result = check_corpus(steps, RunOptions(inputs=("corpus/",)), Thresholds())
print(result.passed, result.kinds["boilerplate"].records)
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
