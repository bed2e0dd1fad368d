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


def written_id(workdir, toml: str) -> str:
    """Run fix-encoding with ``toml`` as vocclean.toml (it names input and output); the id written."""
    (workdir / "vocclean.toml").write_text(toml)
    result = vocclean("fix-encoding")
    assert result.exit_code == 0, result.output
    return json.loads((workdir / "out.jsonl").read_text())["id"]


def check_exit(*args: str, env: dict | None = None) -> int:
    return vocclean("-i", "short.jsonl", *args, "check", env=env).exit_code


def test_without_config_the_defaults_hold(workdir):
    assert check_exit() == 0  # a tiny article is reported, not failed, by default


def test_a_command_table_in_vocclean_toml_sets_that_commands_options(workdir):
    (workdir / "vocclean.toml").write_text('[check]\nfail-on = ["tiny"]\n')
    assert check_exit() == 1


def test_global_options_at_the_top_of_vocclean_toml(workdir):
    assert written_id(workdir, 'input = ["short.jsonl"]\noutput = "out.jsonl"\n') == "short"


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


def test_the_documented_input_variable_is_read(workdir):
    result = vocclean("check", "--format", "json", env={"VOCCLEAN_INPUT": "short.jsonl"})
    assert json.loads(result.stdout)["records"] == 1


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("VOCCLEAN_INPUT", "short.jsonl", 'input = ["short.jsonl"]'),
        ("VOCCLEAN_FORMAT", "text", 'format = "text"'),
        ("VOCCLEAN_CHECK_FORMAT", "json", 'format = "json"'),
        ("VOCCLEAN_STRIP_BOILERPLATE_RULES", "short.jsonl", 'rules = ["short.jsonl"]'),
        (
            "VOCCLEAN_NORMALIZE_SCRIPT_SKIP_RULE",
            "zh-period latin-period",
            'skip-rule = ["zh-period", "latin-period"]',
        ),
        ("VOCCLEAN_DIFF_ID", "42", 'id = "42"'),
    ],
)
def test_an_options_variable_is_named_after_its_config_key(workdir, variable, value, line):
    result = vocclean("--show-config", env={variable: value})
    assert result.exit_code == 0, result.output
    assert f"{line} # environment {variable}" in [" ".join(row.split()) for row in result.output.splitlines()]


def test_the_parameter_name_variable_still_works_but_the_documented_one_wins(workdir):
    (workdir / "other.jsonl").write_text(SHORT, encoding="utf-8")

    def input_line(env: dict) -> str:
        rows = [" ".join(row.split()) for row in vocclean("--show-config", env=env).output.splitlines()]
        return next(row for row in rows if row.startswith("input = "))

    assert (
        input_line({"VOCCLEAN_INPUTS": "other.jsonl"})
        == 'input = ["other.jsonl"] # environment VOCCLEAN_INPUTS'
    )
    both = {"VOCCLEAN_INPUTS": "other.jsonl", "VOCCLEAN_INPUT": "short.jsonl"}
    assert input_line(both) == 'input = ["short.jsonl"] # environment VOCCLEAN_INPUT'


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["check"],
            {"VOCCLEAN_CHECK_FORMAT": "xml"},
            "environment variable VOCCLEAN_CHECK_FORMAT (check --format): 'xml'",
        ),
        (
            ["check"],
            {"VOCCLEAN_CHECK_REPORT_FORMAT": "xml"},
            "environment variable VOCCLEAN_CHECK_REPORT_FORMAT",
        ),
        (
            ["fix-encoding"],
            {"VOCCLEAN_JOBS": "0"},
            "environment variable VOCCLEAN_JOBS (-j/--jobs): 0 is not",
        ),
        (
            ["check"],
            {"VOCCLEAN_DEDUP_ARTICLES_KEEP": "biggest"},
            "environment variable VOCCLEAN_DEDUP_ARTICLES_KEEP",
        ),
        (["--show-config"], {"VOCCLEAN_CHECK_FORMAT": "xml"}, "environment variable VOCCLEAN_CHECK_FORMAT"),
    ],
)
def test_a_bad_value_from_the_environment_names_the_variable(workdir, args, env, message):
    result = vocclean("-i", "short.jsonl", *args, env=env)
    assert result.exit_code == 2
    assert message in result.output


def test_a_string_for_a_repeatable_option_is_one_value_not_split(workdir):
    (workdir / "my corpus.jsonl").write_text(SHORT, encoding="utf-8")
    assert written_id(workdir, 'input = "my corpus.jsonl"\noutput = "out.jsonl"\n') == "short"


def test_a_string_for_a_repeatable_command_option_is_a_list_of_one(workdir):
    (workdir / "vocclean.toml").write_text('[strip-boilerplate]\ndisable = "credit"\n')
    result = vocclean("--show-config")
    assert result.exit_code == 0, result.output
    assert 'disable = ["credit"] # vocclean.toml' in [
        " ".join(row.split()) for row in result.output.splitlines()
    ]


def test_fail_on_all_in_the_file_fails_on_every_kind(workdir):
    (workdir / "vocclean.toml").write_text('[check]\nfail-on = "all"\n')
    assert check_exit() == 1  # the tiny article now fails the check


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fix-encoding", "--nosuch"], "No such option '--nosuch'"),
        (["check", "--format", "xml"], "'xml' is not one of"),
    ],
)
def test_show_config_refuses_what_a_run_would_refuse(workdir, args, message):
    result = vocclean("--show-config", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_show_config_does_not_need_a_required_option(workdir):
    result = vocclean("--show-config", "diff", "--color")
    assert result.exit_code == 0, result.output
    lines = [" ".join(row.split()) for row in result.output.splitlines()]
    assert "color = true # command line" in lines and "# id is not set # default" in lines


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
            'vocclean.toml: [check]: max-duplicate-rate: expected a number, not "lots"',
        ),
        ("[check]\nfail-on = ['tiney']\n", "vocclean.toml: [check]: fail-on: unknown kind 'tiney'"),
        ("[check\n", "vocclean.toml: invalid TOML"),
        ("annotate = 1\n", "vocclean.toml: annotate: expected true or false, not 1"),
        ("strict = 0\n", "vocclean.toml: strict: expected true or false, not 0"),
        ("progress = 1\n", "vocclean.toml: progress: expected true or false, not 1"),
        ("[strip-boilerplate]\nlearn = 1\n", "[strip-boilerplate]: learn: expected true or false, not 1"),
        ("jobs = 2.5\n", "vocclean.toml: jobs: expected an integer, not 2.5"),
        ("max-record-bytes = true\n", "vocclean.toml: max-record-bytes: expected an integer, not true"),
        ("output = 1\n", "vocclean.toml: output: expected a string, not 1"),
        ("[check]\nfail-on = 5\n", "[check]: fail-on: expected a string or a list of strings, not 5"),
        (
            "[strip-boilerplate]\nrules = [1]\n",
            "[strip-boilerplate]: rules: expected a string or a list of strings, not [1]",
        ),
        (
            "[check]\nmin-chars = {a = 1}\n",
            "vocclean.toml: [check]: min-chars: expected an integer, not a table",
        ),
        ("output = {a = 1}\n", "vocclean.toml: [output]: output is an option, not a command"),
        ("[check]\nformat = 'xml'\n", "vocclean.toml: [check]: format: 'xml' is not one of"),
        ("[dedup-articles]\nkeep = 'biggest'\n", "vocclean.toml: [dedup-articles]: keep: keep must be first"),
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
