"""Settings from vocclean.toml, pyproject.toml [tool.vocclean] and VOCCLEAN_*; the command line wins."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from vocclean.cli import main

SHORT = json.dumps({"id": "short", "text": "今天天气很好。"}, ensure_ascii=False) + "\n"
UNIQUE = "本届运动会共设田径、游泳、体操等二十个大项，来自全国各地的三千余名运动员将在未来十天里展开角逐。"
REPEATED = "会议强调要牢记使命担当。"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working directory with no VOCCLEAN_* variable set."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in __import__("os").environ if n.startswith("VOCCLEAN_")]:
        monkeypatch.delenv(name)
    (tmp_path / "short.jsonl").write_text(SHORT, encoding="utf-8")
    return tmp_path


def vocclean(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def check_exit(*args: str, env: dict | None = None) -> int:
    return vocclean("-i", "short.jsonl", *args, "check", env=env).exit_code


def test_without_config_the_defaults_hold(workdir):
    assert check_exit() == 0  # a tiny article is reported, not failed, by default


def test_a_command_table_in_vocclean_toml_sets_that_commands_options(workdir):
    (workdir / "vocclean.toml").write_text('[check]\nfail-on = ["tiny"]\n')
    assert check_exit() == 1


def test_global_options_at_the_top_of_vocclean_toml(workdir):
    (workdir / "vocclean.toml").write_text('input = ["short.jsonl"]\noutput = "out.jsonl"\n')
    result = vocclean("fix-encoding")
    assert result.exit_code == 0, result.output
    assert json.loads((workdir / "out.jsonl").read_text())["id"] == "short"


def test_the_command_line_wins_over_the_file(workdir):
    (workdir / "vocclean.toml").write_text('[check]\nfail-on = "tiny"\n')
    assert vocclean("-i", "short.jsonl", "check", "--fail-on", "none").exit_code == 0


def test_the_environment_wins_over_the_file_and_loses_to_the_command_line(workdir):
    (workdir / "vocclean.toml").write_text('[check]\nfail-on = "tiny"\n')
    assert check_exit(env={"VOCCLEAN_CHECK_FAIL_ON": "none"}) == 0
    env = {"VOCCLEAN_CHECK_FAIL_ON": "none"}
    assert vocclean("-i", "short.jsonl", "check", "--fail-on", "tiny", env=env).exit_code == 1


def test_global_options_come_from_the_environment(workdir):
    result = vocclean("fix-encoding", env={"VOCCLEAN_INPUT": "short.jsonl", "VOCCLEAN_OUTPUT": "env.jsonl"})
    assert result.exit_code == 0 and (workdir / "env.jsonl").exists()


def test_pyproject_tool_vocclean_is_read_when_there_is_no_vocclean_toml(workdir):
    (workdir / "pyproject.toml").write_text(
        '[project]\nname = "corpus"\n\n[tool.vocclean.check]\nfail-on = "tiny"\n'
    )
    assert check_exit() == 1
    (workdir / "vocclean.toml").write_text("[check]\nmin-chars = 1\n")
    assert check_exit() == 0  # vocclean.toml wins, whole: pyproject's table is not merged in


def test_step_settings_reach_the_detectors_of_check(workdir):
    text = f"{UNIQUE}\n{REPEATED}\n{REPEATED}"
    (workdir / "doc.jsonl").write_text(json.dumps({"id": "doc", "text": text}, ensure_ascii=False) + "\n")

    def repeated_paragraphs() -> int:
        result = vocclean("-i", "doc.jsonl", "check", "--format", "json")
        return json.loads(result.stdout)["kinds"]["repeated-paragraph"]["findings"]

    assert repeated_paragraphs() == 1
    (workdir / "vocclean.toml").write_text("[dedup-paragraphs]\nmin-exact-chars = 40\n")
    assert repeated_paragraphs() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "[check]\nmax-duplicates-rate = 0.1\n",
            "vocclean.toml: [check]: unknown option 'max-duplicates-rate'",
        ),
        ("[chek]\nfail-on = 'all'\n", "vocclean.toml: [chek]: no such command"),
        ("frobnicate = 1\n", "vocclean.toml: unknown option 'frobnicate'"),
        (
            "[check]\nmax-duplicate-rate = 'lots'\n",
            "vocclean.toml: [check]: max-duplicate-rate: 'lots' is not",
        ),
        ("[check]\nfail-on = ['tiney']\n", "vocclean.toml: [check]: fail-on: unknown kind 'tiney'"),
        ("[check\n", "vocclean.toml: invalid TOML"),
    ],
)
def test_a_bad_config_is_a_usage_error_naming_the_file_and_key(workdir, content, message):
    (workdir / "vocclean.toml").write_text(content)
    result = vocclean("-i", "short.jsonl", "check")
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_show_config_prints_each_setting_and_where_it_comes_from(workdir):
    (workdir / "vocclean.toml").write_text('rejects = "rejects.jsonl"\n\n[check]\nmin-chars = 10\n')
    env = {"VOCCLEAN_CHECK_MAX_DUPLICATE_RATE": "0.2"}
    result = vocclean("--show-config", "--strict", "check", "--format", "json", env=env)
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert 'rejects = "rejects.jsonl" # vocclean.toml' in lines
    assert "strict = true # command line" in lines
    assert 'output = "-" # default' in lines
    assert "min-chars = 10 # vocclean.toml" in lines
    assert "max-duplicate-rate = 0.2 # environment VOCCLEAN_CHECK_MAX_DUPLICATE_RATE" in lines
    assert 'format = "json" # command line' in lines
    assert "[dedup-paragraphs]" in lines and "min-exact-chars = 8 # default" in lines


def test_show_config_output_is_a_config_file_vocclean_reads_back(workdir):
    first = vocclean("--show-config", "check", "--fail-on", "tiny,empty").output
    assert 'fail-on = ["empty", "tiny"]  # command line' in first
    (workdir / "vocclean.toml").write_text(first)
    second = vocclean("--show-config").output
    assert 'fail-on = ["empty", "tiny"]  # vocclean.toml' in second
    assert second.count("# vocclean.toml") == first.count("# command line") + first.count("# default") - (
        first.count(" is not set")
    )


def test_a_run_needs_a_command_unless_it_shows_the_config(workdir):
    result = vocclean("-i", "short.jsonl")
    assert result.exit_code == 2 and "Missing command" in result.output


def learned_corpus(path) -> None:
    """30 articles of distinct text, each with the same credit line no built-in rule knows."""
    rows = []
    for n in range(30):
        body = "".join(chr(0x4E00 + (n * 977 + k * 131) % 20000) for k in range(120))
        rows.append({"id": f"d{n}", "text": f"{body}\n本报记者张三李四联合采写\n{body[::-1]}"})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_check_learns_boilerplate_as_clean_does_unless_a_setting_says_otherwise(workdir):
    learned_corpus(workdir / "learned.jsonl")

    def boilerplate_findings() -> int:
        result = vocclean("-i", "learned.jsonl", "check", "--format", "json")
        return json.loads(result.stdout)["kinds"]["boilerplate"]["findings"]

    assert boilerplate_findings() == 30
    (workdir / "vocclean.toml").write_text("[strip-boilerplate]\nlearn = false\n")
    assert boilerplate_findings() == 0


@pytest.mark.parametrize(
    ("setting", "env"),
    [('rejects = "rejects.jsonl"\nreport = "run.json"\n', None), ("", {"VOCCLEAN_REJECTS": "rejects.jsonl"})],
)
def test_check_leaves_alone_the_rejects_and_report_settings_pinned_for_cleaning_runs(workdir, setting, env):
    (workdir / "vocclean.toml").write_text(setting + "\n[check]\nmin-chars = 1\n")
    assert check_exit(env=env) == 0
    assert not (workdir / "rejects.jsonl").exists() and not (workdir / "run.json").exists()
    typed = vocclean("-i", "short.jsonl", "--rejects", "r.jsonl", "check", env=env)
    assert typed.exit_code == 2 and "--rejects does not apply" in typed.output
    typed = vocclean("-i", "short.jsonl", "--report", "r.json", "check", env=env)
    assert typed.exit_code == 2 and "--report is for cleaning runs" in typed.output
