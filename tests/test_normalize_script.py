"""The normalize-script step and its command."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import vocclean.steps.normalize_script as step_module
from vocclean.cli import main
from vocclean.cli.normalize_script import normalize_script_command
from vocclean.record import Record
from vocclean.steps.normalize_script import MIXED_REASON, NormalizeScript
from vocclean.text.punctuation import RULE_NAMES

CASES = Path(__file__).parent / "cases" / "normalize_script"
SIMPLIFIED = "记者说这里的经济发展很快，新闻报道很多。"
TRADITIONAL = "記者說這裡的經濟發展很快，新聞報道很多。"  # Taiwan forms: 這裡
MIXED = SIMPLIFIED + "\n" + TRADITIONAL


@pytest.fixture(scope="module")
def default_step() -> NormalizeScript:
    return NormalizeScript()


def _run(step: NormalizeScript, text: str | None) -> Record:
    return step.process(Record(id="a", text=text))


# --- script ----------------------------------------------------------------------


def test_traditional_article_is_converted_to_simplified(default_step):
    record = _run(default_step, TRADITIONAL)
    assert record.text == SIMPLIFIED
    assert record.annotations["script"] == "traditional"
    assert record.annotations["converted"] == "t2s"


def test_simplified_article_is_left_alone_and_not_marked_converted(default_step):
    record = _run(default_step, SIMPLIFIED)
    assert record.text == SIMPLIFIED
    assert record.annotations == {"script": "simplified"}


def test_english_article_is_neither_and_not_converted(default_step):
    record = _run(default_step, "The meeting was held in Beijing.")
    assert record.annotations == {"script": "neither"}


def test_stats_count_scripts_conversions_and_rules():
    step = NormalizeScript()
    for text in (SIMPLIFIED, TRADITIONAL, TRADITIONAL, "会议指出,要落实."):
        _run(step, text)
    assert step.stats["script/simplified"] == 2
    assert step.stats["script/traditional"] == 2
    assert step.stats["converted/t2s"] == 2
    assert step.stats["punctuation_rule/zh-punctuation"] == 1
    assert step.stats["punctuation_rule/zh-period"] == 1


def test_mixed_article_is_kept_unconverted_and_flagged_by_default(default_step):
    record = _run(default_step, MIXED)
    assert record.text == MIXED
    assert not record.rejected
    assert record.annotations == {"script": "mixed"}


def test_mixed_reject_rejects_with_reason():
    step = NormalizeScript(mixed="reject")
    record = _run(step, MIXED)
    assert record.rejected
    assert record.rejection.step == "normalize-script"
    assert record.rejection.reason == MIXED_REASON == "mixed Simplified and Traditional script"
    assert not _run(step, TRADITIONAL).rejected


def test_mixed_convert_converts_the_whole_article():
    record = _run(NormalizeScript(mixed="convert"), MIXED)
    assert record.text == SIMPLIFIED + "\n" + SIMPLIFIED
    assert record.annotations["converted"] == "t2s"


def test_to_taiwan_converts_simplified_and_leaves_traditional():
    step = NormalizeScript(to="taiwan")
    assert _run(NormalizeScript(to="traditional"), SIMPLIFIED).text == TRADITIONAL.replace("裡", "裏")
    assert _run(step, SIMPLIFIED).text == TRADITIONAL
    assert _run(step, TRADITIONAL).text == TRADITIONAL


def test_phrases_convert_vocabulary():
    plain = _run(NormalizeScript(to="taiwan", punctuation=False), "鼠标和软件")
    phrases = _run(NormalizeScript(to="taiwan", phrases=True, punctuation=False), "鼠标和软件")
    assert plain.text == "鼠標和軟件"
    assert phrases.text == "滑鼠和軟體"
    assert phrases.annotations["converted"] == "s2twp"


def test_to_simplified_with_phrases_uses_tw2sp():
    record = _run(NormalizeScript(phrases=True, punctuation=False), "滑鼠和軟體")
    assert record.text == "鼠标和软件"
    assert record.annotations["converted"] == "tw2sp"


def test_config_overrides_target_and_converts_its_source_script():
    step = NormalizeScript(config="t2tw", punctuation=False)
    record = _run(step, "爲了")
    assert record.text == "為了"
    assert record.annotations == {"script": "traditional", "converted": "t2tw"}
    assert _run(step, SIMPLIFIED).text == SIMPLIFIED


def test_bad_options_raise_value_error():
    with pytest.raises(ValueError, match="mixed"):
        NormalizeScript(mixed="maybe")
    with pytest.raises(ValueError, match="unknown target"):
        NormalizeScript(to="klingon")
    with pytest.raises(ValueError, match="no phrase conversion"):
        NormalizeScript(to="traditional", phrases=True)
    with pytest.raises(ValueError, match="unknown rule"):
        NormalizeScript(skip_rules=["nope"])


def test_converter_is_built_once_per_step(monkeypatch):
    built = []
    real = step_module.make_converter
    monkeypatch.setattr(step_module, "make_converter", lambda config: built.append(config) or real(config))
    step = NormalizeScript()
    for _ in range(20):
        _run(step, TRADITIONAL)
    assert built == ["t2s"]


def test_record_without_text_passes_through(default_step):
    record = Record(id="raw", text=None, raw=b"\xff")
    assert default_step.process(record) is record
    assert record.annotations == {}


def test_step_survives_pickling_with_a_rebuilt_converter():
    step = NormalizeScript(to="hongkong", skip_rules=["latin-hyphen"])
    clone = pickle.loads(pickle.dumps(step))
    assert clone._converter is not step._converter
    for text in (SIMPLIFIED, TRADITIONAL, "high -quality 会议指出,要落实."):
        assert _run(clone, text).text == _run(step, text).text


# --- punctuation in the step ---------------------------------------------------------


def test_punctuation_rules_are_annotated_when_they_fire(default_step):
    record = _run(default_step, "会议指出,要(尽快)落实.")
    assert record.text == "会议指出，要（尽快）落实。"
    fired = record.annotations["punctuation_rules"]
    assert fired == {"zh-punctuation": 1, "zh-parentheses": 2, "zh-period": 1}


def test_no_punctuation_leaves_marks_alone():
    record = _run(NormalizeScript(punctuation=False), "会议指出,要(尽快)落实.")
    assert record.text == "会议指出,要(尽快)落实."
    assert "punctuation_rules" not in record.annotations


def test_skip_rule_leaves_that_rule_out():
    record = _run(NormalizeScript(skip_rules=["zh-parentheses"]), "会议指出,要(尽快)落实.")
    assert record.text == "会议指出，要(尽快)落实。"


def test_punctuation_runs_after_conversion():
    record = _run(NormalizeScript(), "經濟發展很快,記者說.")
    assert record.text == "经济发展很快，记者说。"


def test_traditional_names_in_an_english_article_keep_its_marks():
    # tw_news (Taipei Times in English): the hanzi are converted, the comma after the bracket stays
    # English, and a full stop after an English name in brackets inside Chinese stays Chinese.
    text = (
        "Minister of Health and Welfare Chen Shih-chung (陳時中), who heads the center, said so.\n"
        "中鋒武切維奇(Nikola Vucevic)。武切維奇上個月確診"
    )
    record = _run(NormalizeScript(), text)
    assert record.text == (
        "Minister of Health and Welfare Chen Shih-chung (陈时中), who heads the center, said so.\n"
        "中锋武切维奇（Nikola Vucevic）。武切维奇上个月确诊"
    )


# --- seeds: golden outputs for this step alone ---------------------------------------


def _seed(seeds_dir: Path, number: str) -> str:
    return next(seeds_dir.glob(f"{number}_*.txt")).read_text(encoding="utf-8")


@pytest.mark.parametrize("number", ["001", "003", "004"])
def test_seed_golden_output(seeds_dir, number):
    record = _run(NormalizeScript(), _seed(seeds_dir, number))
    expected = (CASES / f"seed_{number}.expected.txt").read_text(encoding="utf-8")
    assert record.text == expected


HAN = "\u3400-\u9fff"
ASCII_BETWEEN_HANZI = re.compile(f"(?<=[{HAN}])[,:()](?=[{HAN}])")
PERIOD_AFTER_ENGLISH = re.compile(r"[A-Za-z\"']。")


@pytest.mark.parametrize("number", ["003", "004"])
def test_seed_ascii_marks_between_hanzi_become_full_width(seeds_dir, number):
    text = _seed(seeds_dir, number)
    assert ASCII_BETWEEN_HANZI.search(text)
    out = _run(NormalizeScript(), text).text
    assert ASCII_BETWEEN_HANZI.findall(out) == []


def test_seed_004_parentheses_all_full_width(seeds_dir):
    text = _seed(seeds_dir, "004")
    out = _run(NormalizeScript(), text).text
    assert text.count("(") == out.count("（") - text.count("（") > 0
    assert "(" not in out and ")" not in out


def test_seed_003_ideographic_period_after_english_becomes_ascii(seeds_dir):
    text = _seed(seeds_dir, "003")
    assert len(PERIOD_AFTER_ENGLISH.findall(text)) >= 10
    out = _run(NormalizeScript(), text).text
    assert PERIOD_AFTER_ENGLISH.findall(out) == []
    assert out.count("。") == text.count("。") - len(PERIOD_AFTER_ENGLISH.findall(text))


def test_seed_001_gets_spaces_after_sentence_ends(seeds_dir):
    joined = re.compile(r"[a-z]{2}[.!?][A-Z][a-z]")
    text = _seed(seeds_dir, "001")
    assert len(joined.findall(text)) >= 10
    out = _run(NormalizeScript(), text).text
    assert joined.findall(out) == []
    assert "meeting. The meeting" in out and "economy! Qingdao" in out


# --- command -----------------------------------------------------------------------------


def _invoke(*args: str):
    return CliRunner().invoke(normalize_script_command, list(args), standalone_mode=False)


def test_command_returns_configured_step():
    result = _invoke("--to", "taiwan", "--phrases", "--mixed", "reject", "--skip-rule", "latin-hyphen")
    step = result.return_value
    assert isinstance(step, NormalizeScript)
    assert (step.config, step.mixed, step.skip_rules) == ("s2twp", "reject", ("latin-hyphen",))


def test_command_defaults_match_step_defaults():
    step = _invoke().return_value
    assert (step.config, step.mixed, step.punctuation, step.skip_rules) == ("t2s", "keep", True, ())


def test_command_config_and_no_punctuation():
    step = _invoke("--config", "hk2s", "--no-punctuation").return_value
    assert (step.config, step.punctuation) == ("hk2s", False)


def test_command_config_conflicts_with_to():
    result = CliRunner().invoke(normalize_script_command, ["--config", "t2tw", "--to", "taiwan"])
    assert result.exit_code == 2
    assert "--config cannot be combined with --to" in result.output


def test_command_traditional_phrases_is_a_usage_error():
    result = CliRunner().invoke(normalize_script_command, ["--to", "traditional", "--phrases"])
    assert result.exit_code == 2
    assert "no phrase conversion" in result.output


def test_command_unknown_rule_is_a_usage_error():
    result = CliRunner().invoke(normalize_script_command, ["--skip-rule", "nope"])
    assert result.exit_code == 2


def test_command_lists_rules():
    result = CliRunner().invoke(normalize_script_command, ["--list-rules"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == list(RULE_NAMES)


def test_command_help_has_an_example():
    result = CliRunner().invoke(normalize_script_command, ["--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and "vocclean -i" in result.output


def _write_jsonl(path: Path, texts: list[str]) -> None:
    lines = [json.dumps({"id": str(i), "text": text}, ensure_ascii=False) for i, text in enumerate(texts)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_command_in_the_vocclean_group_annotates_and_rejects(tmp_path, jobs):
    source, out, rejects = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    _write_jsonl(source, [TRADITIONAL, "会议指出,要落实.", MIXED] * 4)
    args = ["-i", str(source), "-o", str(out), "--rejects", str(rejects), "--annotate", "-j", jobs]
    result = CliRunner().invoke(main, [*args, "normalize-script", "--mixed", "reject"])
    assert result.exit_code == 0, result.output
    kept = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    dropped = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in kept[:2]] == [SIMPLIFIED, "会议指出，要落实。"]
    assert kept[0]["vocclean"] == {"script": "traditional", "converted": "t2s"}
    assert kept[1]["vocclean"]["punctuation_rules"] == {"zh-punctuation": 1, "zh-period": 1}
    assert len(kept) == 8 and len(dropped) == 4
    assert {r["vocclean"]["reason"] for r in dropped} == {MIXED_REASON}
