"""The pipeline: rejects routed, conservation, UTF-8 decoding of plain-text inputs, step stats."""

from __future__ import annotations

import pytest

from vocclean.pipeline import DecodeUtf8, Pipeline, with_decoding
from vocclean.record import Record
from vocclean.steps.base import RecordStep, Step


class DropShort(RecordStep):
    name = "drop-short"

    def process(self, record):
        return record.reject(self.name, "too short") if len(record.text) < 3 else record


class Upper(RecordStep):
    name = "upper"

    def process(self, record):
        record.text = record.text.upper()
        return record


class Broken(RecordStep):
    name = "broken"

    def process(self, record):
        if record.text == "boom":
            raise RuntimeError("bug")
        return record


class TakesBytes(Step):
    name = "takes-bytes"
    accepts_bytes = True

    def __call__(self, records):
        yield from records


def records(*texts: str) -> list[Record]:
    return [Record(id=str(i), text=t) for i, t in enumerate(texts)]


def run(steps, items):
    rejected: list[Record] = []
    pipeline = Pipeline(steps)
    out = list(pipeline.run(items, rejected.append))
    return out, rejected, pipeline


def test_rejected_records_leave_the_stream_and_later_steps_never_see_them():
    out, rejected, _ = run([DropShort(), Upper()], records("ab", "abcd"))
    assert [r.text for r in out] == ["ABCD"]
    assert [(r.text, r.rejection.step, r.rejection.reason) for r in rejected] == [
        ("ab", "drop-short", "too short")
    ]


def test_conservation_and_per_step_counts():
    out, rejected, pipeline = run([DropShort(), Upper()], records("a", "bb", "ccc", "dddd"))
    assert len(out) + len(rejected) == 4
    stats = {s.name: s for s in pipeline.stats}
    assert (
        stats["drop-short"].records_in,
        stats["drop-short"].records_out,
        stats["drop-short"].rejected,
    ) == (4, 2, 2)
    assert (stats["upper"].records_in, stats["upper"].records_out) == (2, 2)
    assert stats["read"].records_in == 4


def test_an_exception_in_a_record_step_rejects_that_record_only():
    out, rejected, _ = run([Broken()], records("fine", "boom", "also fine"))
    assert [r.text for r in out] == ["fine", "also fine"]
    assert rejected[0].rejection.reason == "internal error: RuntimeError: bug"


def test_plain_text_bytes_are_decoded_as_utf8_before_the_first_text_step():
    items = [
        Record(id="a.txt", text=None, raw="\ufeff中文".encode()),
        Record(id="b.txt", text=None, raw=b"\xd6\xd0"),
    ]
    out, rejected, _ = run([Upper()], items)
    assert out[0].text == "中文" and out[0].raw is None
    assert "not UTF-8" in rejected[0].rejection.reason and "fix-encoding" in rejected[0].rejection.reason


def test_decoding_is_left_to_a_step_that_accepts_bytes():
    assert isinstance(with_decoding([Upper()])[0], DecodeUtf8)
    chain = with_decoding([TakesBytes(), Upper()])
    assert [type(s) for s in chain] == [TakesBytes, Upper]
    assert isinstance(with_decoding([])[-1], DecodeUtf8)


def test_fit_gets_a_replay_of_the_records_as_they_reach_the_step():
    seen: list[str] = []

    class Learner(RecordStep):
        name = "learner"

        def fit(self, factory):
            seen.extend(r.text for r in factory())

        def process(self, record):
            return record

    items = records("x", "hello", "world")
    run_out = list(
        Pipeline([DropShort(), Upper(), Learner()]).run(
            items, lambda r: None, lambda: iter(records("x", "hello"))
        )
    )
    assert seen == ["HELLO"]
    assert len(run_out) == 2


def test_a_chain_made_by_hand_passes_rejected_records_on_at_their_places():
    """``s2(s1(records))`` without a Pipeline: a step passes a record an earlier one rejected
    on untouched, so none is lost, and a dedup index never holds it (Y was rejected as a
    duplicate of X, which normalize-script had rejected: both were lost)."""
    from vocclean.steps.dedup_articles import DedupArticles
    from vocclean.steps.dedup_paragraphs import DedupParagraphs
    from vocclean.steps.normalize_script import NormalizeScript
    from vocclean.steps.strip_boilerplate import StripBoilerplate

    simplified = (
        "国务院总理主持召开常务会议，部署进一步稳经济的措施，要求各地区各部门狠抓落实，确保政策效果尽快显现。"
    )
    mixed = (
        "國務院總理主持召開常務會議，部署進一步穩經濟的措施，要求各地區各部門狠抓落實，确保政策效果尽快显现。"
    )
    records = [Record("X", mixed), Record("Y", simplified), Record("Z", "另一条新闻的正文，与前面的无关。")]
    steps = [
        NormalizeScript(mixed="reject"),
        StripBoilerplate(learn=True),
        DedupParagraphs(across_docs=True),
        DedupArticles(),
    ]
    stream = records
    for step in steps:
        stream = step(stream)
    out = list(stream)
    assert [r.id for r in out] == ["X", "Y", "Z"]
    assert out[0].rejection.step == "normalize-script" and out[0].text == mixed
    assert [r.rejection for r in out[1:]] == [None, None]
    assert (
        Pipeline(steps=[NormalizeScript(mixed="reject"), DedupArticles()])
        .run([Record("X", mixed), Record("Y", simplified)], lambda record: None)
        .__next__()
        .id
        == "Y"
    )


def test_run_options_take_one_path_or_path_objects_and_a_run_leaves_the_programs_frozen_objects(tmp_path):
    """A library user's mistakes: a path alone was read letter by letter (``d: no such file``),
    a Path failed in ``startswith``; and ``run`` unfroze objects the program had frozen."""
    import gc

    from vocclean.runner import RunOptions, run

    source = tmp_path / "a.jsonl"
    source.write_text('{"id": "a", "text": "正文"}\n', encoding="utf-8")
    assert RunOptions(inputs=str(source)).inputs == (str(source),)
    options = RunOptions(inputs=(source,), output=tmp_path / "out.jsonl")
    assert (options.inputs, options.output) == ((str(source),), str(tmp_path / "out.jsonl"))
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert run([], options).written == 1
        assert gc.get_freeze_count() == frozen > 0
    finally:
        gc.unfreeze()


def test_steps_built_in_python_refuse_settings_the_command_line_refuses():
    """They were accepted and changed results (max_candidates=0 turned near duplicates off) or failed
    once the input was read (learn_min_docs=0)."""
    from vocclean.steps.dedup_articles import DedupArticles
    from vocclean.steps.dedup_paragraphs import DedupParagraphs
    from vocclean.steps.fix_encoding import FixEncoding
    from vocclean.steps.strip_boilerplate import LearnBoilerplate, StripBoilerplate

    cases = [
        (lambda: DedupArticles(max_candidates=0), "max_candidates must be at least 1, not 0"),
        (lambda: DedupArticles(num_perm=70000), "num_perm must be from 2 to 65535, not 70000"),
        (lambda: DedupArticles(lead_threshold=2.0), "lead_threshold must be from 0 to 1, not 2.0"),
        (lambda: DedupParagraphs(min_chars=-5), "min_chars must be at least 1, not -5"),
        (lambda: DedupParagraphs(max_edit_regions=-1), "max_edit_regions must be at least 0, not -1"),
        (lambda: StripBoilerplate(learn=True, learn_min_docs=0), "learn_min_docs must be at least 1, not 0"),
        (
            lambda: StripBoilerplate(learn_min_share=float("nan")),
            "learn_min_share must be from 0 to 1, not nan",
        ),
        (lambda: LearnBoilerplate(model="m.json", min_share=2), "min_share must be from 0 to 1, not 2"),
        (lambda: FixEncoding(encoding="base64"), "'base64' does not decode bytes to text"),
    ]
    for build, message in cases:
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            build()


def test_a_name_alone_where_a_step_takes_several_is_one_name():
    from vocclean.steps.normalize_script import NormalizeScript
    from vocclean.steps.strip_boilerplate import StripBoilerplate

    assert StripBoilerplate(disable="credit").disabled == StripBoilerplate(disable=["credit"]).disabled
    assert NormalizeScript(skip_rules="zh-period").skip_rules == ("zh-period",)


def test_normalize_script_refuses_config_with_to_or_phrases_as_the_command_line_does():
    """``config`` won silently over ``to`` (the CLI refuses the pair)."""
    from vocclean.steps.normalize_script import NormalizeScript

    for given in ({"to": "taiwan"}, {"to": "simplified"}, {"phrases": True}):
        with pytest.raises(ValueError, match="config replaces to and phrases"):
            NormalizeScript(config="t2s", **given)
    assert NormalizeScript(config="t2tw").config == "t2tw"
    assert NormalizeScript().config == "t2s" and NormalizeScript().to == "simplified"
    assert NormalizeScript(to="taiwan", phrases=True).config == "s2twp"


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (Record(3, "文本"), "a record: id must be a str, not int (3)"),
        (Record("b", 5), "record 'b': text must be a str or None, not int (5)"),
        (Record("c", b"\xe4\xb8\xad"), "bytes to decode go in raw"),
        (Record("d", "文本", fields=[("id", "d")]), "record 'd': fields must be a dict, not list"),
        ({"id": "e", "text": "文本"}, "records must be vocclean.record.Record objects, not dict"),
    ],
)
def test_records_built_by_hand_of_the_wrong_types_are_refused_before_any_step(record, message):
    """They failed deep in dedup-articles (AttributeError) or were rejected as internal errors."""
    from vocclean.steps.dedup_articles import DedupArticles

    records = [Record("ok", "这是一篇文章。"), record]
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(Pipeline([Upper(), DedupArticles()]).run(records, on_reject=lambda r: None))
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        factory = lambda: iter([Record("ok", "这是一篇文章。"), record])  # noqa: E731
        list(Pipeline([_learning_step()]).run(iter(()), lambda r: None, records_factory=factory))


def _learning_step():
    from vocclean.steps.strip_boilerplate import StripBoilerplate

    return StripBoilerplate(learn=True)


def test_dedup_paragraphs_dry_run_reports_to_a_callback_and_changes_nothing():
    """It printed to stderr only, where StripBoilerplate takes a ``report`` callback."""
    from vocclean.steps.dedup_paragraphs import DedupParagraphs

    paragraph = "这是一段足够长的段落，用来检查重复段落的删除是否正确，不应当被误删。"
    text = f"{paragraph}\n其他内容也在这里，另外一段完全不同的文字写在这里。\n{paragraph}"
    seen = []
    step = DedupParagraphs(dry_run=True, report=lambda record, found: seen.append((record.id, found)))
    (out,) = list(step([Record("a", text)]))
    assert out.text == text and out.rejection is None and "repeated_paragraphs" not in out.annotations
    assert [(doc, [entry["paragraph"] for entry in found]) for doc, found in seen] == [("a", [2])]
    real = DedupParagraphs()
    (cleaned,) = list(real([Record("a", text)]))
    assert cleaned.annotations["repeated_paragraphs"] == seen[0][1]


def test_clean_steps_run_from_python_give_what_the_command_line_clean_gives(tmp_path):
    from pathlib import Path

    from click.testing import CliRunner

    from vocclean.cli.actions import CLEAN_ORDER
    from vocclean.cli.main import main
    from vocclean.runner import RunOptions, run
    from vocclean.steps.clean import clean_steps

    assert [step.name for step in clean_steps()] == list(CLEAN_ORDER)
    assert [step.learn for step in clean_steps() if step.name == "strip-boilerplate"] == [True]
    assert [step.learn for step in clean_steps(learn=False) if step.name == "strip-boilerplate"] == [False]
    fixtures = str(Path(__file__).resolve().parent.parent / "fixtures")
    command = CliRunner().invoke(main, ["-i", fixtures, "-o", str(tmp_path / "cli.jsonl"), "-j1", "clean"])
    assert command.exit_code == 0, command.output
    result = run(clean_steps(), RunOptions(inputs=(fixtures,), output=str(tmp_path / "api.jsonl"), jobs=1))
    cli_output = (tmp_path / "cli.jsonl").read_bytes()
    assert result.written >= 5 and cli_output.count(b"\n") == result.written
    assert (tmp_path / "api.jsonl").read_bytes() == cli_output


def test_the_package_says_it_is_typed():
    """PEP 561: type checkers read vocclean's annotations only when py.typed is installed with it."""
    import tomllib
    from pathlib import Path

    import vocclean

    assert (Path(vocclean.__file__).parent / "py.typed").is_file()
    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["vocclean"]
