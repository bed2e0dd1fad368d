"""Script detection and opencc conversion of normalize-script (vocclean.text.script)."""

from __future__ import annotations

import csv
import gzip
import json
import random
import re
from collections import Counter

import opencc
import pytest

from vocclean.record import Record
from vocclean.steps.normalize_script import NormalizeScript
from vocclean.text.script import (
    CONFIGS,
    TARGETS,
    ScriptCounts,
    ScriptDetector,
    config_for,
    make_converter,
    source_scripts,
)

HANZI = re.compile("[\u3400-\u9fff]")
MIN_HANZI = 50


@pytest.fixture(scope="module")
def detector() -> ScriptDetector:
    return ScriptDetector()


def _tw_news(shared_data) -> list[str]:
    csv.field_size_limit(1 << 30)
    texts = []
    for path in sorted((shared_data / "tw_news_covid_zh_hant").glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            texts.extend(row["CONTENT"] for row in csv.DictReader(handle))
    return texts


def _xwlb(shared_data, limit: int | None = None) -> list[str]:
    texts = []
    with gzip.open(shared_data / "xwlb_cctv_news_zh" / "stories.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            texts.append(json.loads(line)["text"])
            if limit and len(texts) == limit:
                break
    return texts


def _long_enough(texts: list[str]) -> list[str]:
    return [text for text in texts if len(HANZI.findall(text)) >= MIN_HANZI]


# --- detection ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("这是简体中文的新闻报道，记者说这里的经济发展很快。", "simplified"),
        ("這是繁體中文的新聞報導，記者說這裡的經濟發展很快。", "traditional"),
        ("The meeting was held in Beijing.", "neither"),
        ("中文", "neither"),
        ("台北公里皇后", "neither"),  # characters both scripts write alike
        ("这是简体中文的新闻。這是繁體中文的新聞。", "mixed"),
        ("哪吒乾隆於是这样说", "simplified"),  # 吒 乾 於 are also Simplified
    ],
)
def test_detect_script(detector, text, script):
    assert detector.detect(text) == script


def test_fast_path_agrees_with_counting(detector):
    for text in ("这是简体中文", "這是繁體中文", "这是简体。這是繁體。", "English only"):
        assert detector.detect(text) == detector.classify(detector.counts(text))


def test_counts_include_markers_outside_the_basic_plane(detector):
    # 𫐄 (U+2B404, Extension C) is a Simplified form that s2t changes and Big5 lacks.
    assert detector.counts("𫐄") == ScriptCounts(0, 1)
    assert detector.detect("𫐄") == "simplified"
    assert detector.counts("们这说") == ScriptCounts(0, 3)


def test_minority_share_decides_mixed(detector):
    assert detector.classify(ScriptCounts(traditional=1, simplified=20)) == "simplified"
    assert detector.classify(ScriptCounts(traditional=20, simplified=1)) == "traditional"
    assert detector.classify(ScriptCounts(traditional=5, simplified=20)) == "mixed"
    assert detector.classify(ScriptCounts(0, 0)) == "neither"
    assert ScriptDetector(minority_share=0.3).classify(ScriptCounts(5, 20)) == "simplified"


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("load", "script", "at_least"),
    [(_tw_news, "traditional", 700), (_xwlb, "simplified", 19_000)],
    ids=["tw_news", "xwlb"],
)
def test_real_articles_detected_at_99_percent(shared_data, detector, load, script, at_least):
    texts = _long_enough(load(shared_data))
    assert len(texts) >= at_least
    scripts = Counter(detector.detect(text) for text in texts)
    assert scripts[script] / len(texts) >= 0.99, scripts


@pytest.mark.shared_data
def test_documents_mixing_both_scripts_detected_mixed(shared_data, detector):
    rng = random.Random(4)
    traditional = _long_enough(_tw_news(shared_data))
    simplified = _long_enough(_xwlb(shared_data, limit=3000))
    scripts = Counter()
    for _ in range(300):
        a, b = rng.choice(traditional), rng.choice(simplified)
        size = min(len(a), len(b))  # comparable halves: a short quote would not make a mixed document
        scripts[detector.detect(a[:size] + "\n" + b[:size])] += 1
    assert scripts["mixed"] / 300 >= 0.95, scripts


# --- configs and conversion -----------------------------------------------------


def test_every_opencc_config_has_a_source_script():
    assert set(CONFIGS) == {name.removesuffix(".json") for name in opencc.CONFIGS}
    for config in CONFIGS:
        assert source_scripts(config) <= {"simplified", "traditional", "neither"}


@pytest.mark.parametrize(
    ("to", "phrases", "config"),
    [
        ("simplified", False, "t2s"),
        ("simplified", True, "tw2sp"),
        ("traditional", False, "s2t"),
        ("taiwan", False, "s2tw"),
        ("taiwan", True, "s2twp"),
        ("hongkong", False, "s2hk"),
        ("hongkong", True, "s2hkp"),
    ],
)
def test_target_maps_to_config(to, phrases, config):
    assert config_for(to, phrases) == config
    assert to in TARGETS


def test_traditional_has_no_phrase_config():
    with pytest.raises(ValueError, match="no phrase conversion"):
        config_for("traditional", phrases=True)


def test_unknown_config_is_rejected():
    with pytest.raises(ValueError, match="unknown opencc config"):
        make_converter("s2x")


def _opencc_pairs(shared_data) -> list[dict]:
    path = shared_data / "opencc_testcases" / "pairs.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# The three t2s cases whose expected output comes from opencc's tofu-risk
# dictionary (TSCharactersExt: 𣨼 𪢮 𣗊 𣲘, Extension B characters many fonts
# lack). vocclean builds converters without it, on purpose.
TOFU_RISK_CASES = {
    "BYVoid_OpenCC_PR_1228_existing_behaviors",
    "BYVoid_OpenCC_PR_1229_existing_behaviors",
    "BYVoid_OpenCC_PR_464_xi_vs_xi",
}


@pytest.mark.shared_data
def test_all_opencc_pairs_pass_through_their_config(shared_data):
    pairs = _opencc_pairs(shared_data)
    assert len(pairs) == 543
    converters = {config: make_converter(config, tofu_risk=True) for config in CONFIGS}
    failures = [p["id"] for p in pairs if converters[p["config"]].convert(p["input"]) != p["expected"]]
    assert failures == []


@pytest.mark.shared_data
def test_opencc_pairs_without_tofu_risk_differ_only_in_tofu_risk_cases(shared_data):
    pairs = _opencc_pairs(shared_data)
    converters = {config: make_converter(config) for config in CONFIGS}
    failures = {p["id"]: p for p in pairs if converters[p["config"]].convert(p["input"]) != p["expected"]}
    assert set(failures) == TOFU_RISK_CASES
    for pair in failures.values():
        assert any(ord(char) > 0xFFFF for char in pair["expected"]), pair["id"]


@pytest.mark.shared_data
def test_simplified_to_simplified_is_byte_identical_on_xwlb(shared_data):
    step = NormalizeScript(to="simplified", punctuation=False)
    texts = _xwlb(shared_data, limit=2000)
    for i, text in enumerate(texts):
        record = step.process(Record(id=str(i), text=text))
        assert record.text.encode("utf-8") == text.encode("utf-8")
        assert "converted" not in record.annotations
    assert "converted/t2s" not in step.stats


@pytest.mark.shared_data
def test_xwlb_changes_only_by_punctuation_rules(shared_data):
    step = NormalizeScript()
    for i, text in enumerate(_xwlb(shared_data, limit=2000)):
        record = step.process(Record(id=str(i), text=text))
        assert (record.text != text) == ("punctuation_rules" in record.annotations)
        assert "converted" not in record.annotations


@pytest.mark.shared_data
def test_tw_news_converted_to_simplified_detects_simplified(shared_data, detector):
    step = NormalizeScript(punctuation=False)
    texts = _long_enough(_tw_news(shared_data))[:200]
    for i, text in enumerate(texts):
        record = step.process(Record(id=str(i), text=text))
        assert record.annotations["converted"] == "t2s"
        assert detector.detect(record.text) == "simplified"
    assert step.stats["converted/t2s"] == len(texts)
