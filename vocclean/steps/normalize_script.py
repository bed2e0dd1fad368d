"""normalize-script: one script per corpus, punctuation that fits its context.

Each article's script is detected first (simplified, traditional, mixed,
neither) and only articles in the other script are converted, with one opencc
converter built when the step is built. Mixed articles are kept (default),
converted or rejected. Then the punctuation and width rules of
``vocclean.text.punctuation`` run, unless switched off.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vocclean.record import Record
from vocclean.steps.base import RecordStep, names
from vocclean.text.punctuation import PunctuationRules
from vocclean.text.script import (
    SCRIPTS,
    ScriptDetector,
    config_for,
    convert_text,
    make_converter,
    source_scripts,
)

__all__ = ["MIXED_CHOICES", "MIXED_REASON", "NormalizeScript"]

MIXED_CHOICES = ("convert", "keep", "reject")
MIXED_REASON = "mixed Simplified and Traditional script"


class NormalizeScript(RecordStep):
    """Convert articles to one Chinese script and normalise punctuation and width.

    ``to`` is ``simplified``, ``traditional``, ``taiwan`` or ``hongkong``;
    ``phrases`` picks opencc's vocabulary-converting config for that target
    (tw2sp, s2twp, s2hkp). ``config`` names any opencc config instead of
    both (given with either, it is a ``ValueError``, as on the command line).
    ``mixed`` decides articles that mix both scripts: ``keep`` (flagged in
    the ``script`` annotation), ``convert`` or ``reject``. ``punctuation``
    switches the punctuation rules on or off; ``skip_rules`` names rules to
    leave out.

    Annotations: ``script`` (always), ``converted`` (the opencc config, when
    the text was converted), ``punctuation_rules`` ({rule: edits}, when any
    rule fired).
    """

    name = "normalize-script"
    reads_fields = False

    def __init__(
        self,
        to: str | None = None,
        config: str | None = None,
        phrases: bool = False,
        mixed: str = "keep",
        punctuation: bool = True,
        skip_rules: Iterable[str] = (),
        minority_share: float = 0.1,
    ) -> None:
        super().__init__()
        if config is not None and (to is not None or phrases):
            given = "to" if to is not None else "phrases"
            raise ValueError(f"config replaces to and phrases: give config or {given}, not both")
        if mixed not in MIXED_CHOICES:
            raise ValueError(f"mixed must be one of {', '.join(MIXED_CHOICES)}, not {mixed!r}")
        if config is None:
            to = to or "simplified"
            config = config_for(to, phrases)
        self.to, self.phrases, self.config = to, phrases, config
        self.mixed = mixed
        self.punctuation = punctuation
        self.skip_rules = tuple(sorted(set(names(skip_rules))))
        self.minority_share = minority_share
        self._convert_scripts = source_scripts(self.config) | ({"mixed"} if mixed == "convert" else set())
        self._rules = PunctuationRules(self.skip_rules) if punctuation else None
        self._detector = ScriptDetector(minority_share)
        self._converter = make_converter(self.config)
        self._script_keys = {script: f"script/{script}" for script in SCRIPTS}

    # The opencc converter is a C++ object: rebuild it in worker processes.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_converter"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._converter = make_converter(self.config)

    def process(self, record: Record) -> Record:
        text = record.text
        if text is None:
            return record
        script = self._detector.detect(text)
        self.stats[self._script_keys[script]] += 1
        record.annotate(script=script)
        if script == "mixed" and self.mixed == "reject":
            return record.reject(self.name, MIXED_REASON)
        if script in self._convert_scripts:
            converted = convert_text(self._converter, text)
            if converted != text:
                text = converted
                record.annotate(converted=self.config)
                self.stats[f"converted/{self.config}"] += 1
        if self._rules is not None:
            text, fired = self._rules.normalize(text)
            if fired:
                record.annotate(punctuation_rules=fired)
                for rule, count in fired.items():
                    self.stats[f"punctuation_rule/{rule}"] += count
        record.text = text
        return record
