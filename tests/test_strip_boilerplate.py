"""strip-boilerplate, the library: golden documents, positions, rule packs, the step's contract."""

from __future__ import annotations

import json
import pickle
from collections import Counter
from pathlib import Path

import pytest

from vocclean.record import Record
from vocclean.steps.strip_boilerplate import REJECT_EMPTY, StripBoilerplate
from vocclean.text.boilerplate import BoilerplateMatcher, Removal, remove
from vocclean.text.boilerplate_rules import KINDS, RulePackError, builtin_pack_paths, load_pack, load_packs

CASES = Path(__file__).parent / "cases" / "strip_boilerplate"
SEED_CASES = json.loads((CASES / "seeds.json").read_text(encoding="utf-8"))
DOCUMENT_CASES = json.loads((CASES / "documents.json").read_text(encoding="utf-8"))
BODY = [
    "国务院常务会议今天召开，研究部署进一步稳定经济运行的措施。",
    "会议指出，要加大对实体经济的支持力度，稳定市场预期。",
    "会议强调，各地区各部门要压实责任，确保各项政策落地见效。",
    "会议还研究了其他事项，并部署了下一阶段的重点工作。",
]


def strip(text: str, **options) -> Record:
    return StripBoilerplate(**options).process(Record(id="doc", text=text))


def removed(record: Record) -> list[list[str]]:
    return [
        [entry["kind"], entry["rule"], *(["prefix"] if entry.get("prefix") else [])]
        for entry in record.annotations.get("boilerplate", [])
    ]


# --- golden cases ---------------------------------------------------------------


@pytest.mark.parametrize("case", SEED_CASES, ids=[case["seed"][:3] for case in SEED_CASES])
def test_seed_golden_output(case, seeds_dir):
    text = (seeds_dir / case["seed"]).read_text(encoding="utf-8")
    record = strip(text)
    assert record.text == case["expected"], case["label"]
    assert removed(record) == case["removed"]


@pytest.mark.parametrize("case", DOCUMENT_CASES, ids=[case["label"] for case in DOCUMENT_CASES])
def test_document_golden_output(case):
    record = strip(case["input"], **case["options"])
    assert record.text == case["expected"]
    assert removed(record) == case["removed"]


def test_seed_004_keeps_every_body_sentence_and_drops_every_footer_line(seeds_dir):
    text = (seeds_dir / "004_587dec79ab138032.txt").read_text(encoding="utf-8")
    cleaned = strip(text).text
    for gone in ("二维码", "来源 ‖", "赞赏金额", "【免责声明】", "仅代表作者本人", "投稿邮箱"):
        assert gone not in cleaned
    body = [line for line in text.split("\n")[:10]]
    assert cleaned.startswith("近日,2022年全州职业教育大会召开。")
    for line in body[1:]:
        assert cleaned.count(line) == 2  # both pasted copies: dedup-paragraphs removes the second


def test_seed_002_cut_removes_teasers_but_keeps_every_paragraph_before_the_end_marker(seeds_dir):
    text = (seeds_dir / "002_a89065f1244e4dcb.txt").read_text(encoding="utf-8")
    lines = text.split("\n")
    cleaned = strip(text).text
    assert "- END -" not in cleaned and "Shijiazhuang" not in cleaned and "coll..." not in cleaned
    for paragraph in (lines[0], lines[6], lines[8], lines[10]):
        assert paragraph in cleaned


# --- positions ------------------------------------------------------------------


def test_weak_rule_fires_at_the_head_and_tail_only():
    middle = [*BODY, "来源：新华社", *BODY]
    assert "来源：新华社" in strip("\n".join(middle)).text
    assert "来源：新华社" not in strip("\n".join([*BODY, "来源：新华社"])).text
    assert "来源：新华社" not in strip("\n".join(["来源：新华社", *BODY])).text


def test_strong_rule_fires_on_a_whole_line_in_the_middle():
    text = "\n".join([*BODY, "长按识别二维码关注我们", *BODY])
    assert "二维码" not in strip(text).text


def test_strong_rule_does_not_fire_inside_a_longer_body_line_in_the_middle():
    line = "工作人员介绍，长按识别二维码关注我们的活动已经吸引了超过一万名市民参与，反响热烈。"
    text = "\n".join([*BODY, line, *BODY])
    assert line in strip(text).text


def test_zone_size_is_counted_in_kept_lines():
    footer = ["责任编辑：王五", "点个在看", "分享给更多朋友", "阅读 10万+", "联系电话：0851-1234567"]
    text = "\n".join([*BODY, *footer])
    assert strip(text, tail_lines=1).text == "\n".join(BODY)


def test_zero_zone_sizes_turn_weak_rules_off():
    text = "\n".join(["作者：李明", *BODY, "来源：新华社"])
    assert strip(text, head_lines=0, tail_lines=0).text == text


@pytest.mark.parametrize("head_lines", [0, 1, 2, 3])
def test_a_lead_in_on_the_second_line_goes_whatever_the_weak_head_zone(head_lines):
    """--head-lines sizes the weak head rules' zone; lead-ins are looked for in the first two kept
    lines on their own (with 0 or 1 the dateline stayed; --keep-dateline is what keeps it)."""
    text = "\n".join(
        [
            "陳其邁說明旗津加強版防疫措施。（記者李惠洲攝）",
            "〔記者王榮祥／高雄報導〕高雄市長今天宣布防疫措施。",
            *BODY,
        ]
    )
    record = strip(text, head_lines=head_lines)
    assert record.text.splitlines()[1] == "高雄市長今天宣布防疫措施。"
    assert removed(record) == [["dateline", "zh-bracket-dateline", "prefix"]]
    assert strip(text, head_lines=head_lines, keep_dateline=True).text == text


def test_cut_from_decides_whether_an_end_marker_cuts():
    text = "\n".join([BODY[0], "- END -", *BODY[1:]])
    assert strip(text, cut_from=0.9).text == "\n".join([BODY[0], *BODY[1:]])
    assert strip(text, cut_from=0.0).text == BODY[0]


def test_a_cut_needs_a_kept_line_before_the_marker():
    text = "\n".join(["相关新闻：", *BODY])
    assert strip(text, cut_from=0.0).text == "\n".join(BODY)


# --- prefixes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "rest"),
    [
        ("央视网消息（新闻联播）：长江是中华民族的母亲河。", "长江是中华民族的母亲河。"),
        ("新华社北京6月12日电（记者张三）国务院总理主持会议。", "国务院总理主持会议。"),
        ("〔記者林曉雲／台北報導〕大學學測剛落幕。", "大學學測剛落幕。"),
        ("本报讯（记者 张三）近日，全市召开会议。", "近日，全市召开会议。"),
        ("BEIJING, June 12 (Xinhua) -- China's State Council met.", "China's State Council met."),
    ],
)
def test_lead_in_is_stripped_from_the_first_line(line, rest):
    record = strip("\n".join([line, *BODY]))
    assert record.text.split("\n")[0] == rest
    assert record.annotations["boilerplate"][0]["prefix"] is True
    assert record.annotations["removed_lines"] == 0


def test_lead_in_in_the_middle_is_kept():
    line = "央视网消息（新闻联播）：长江是中华民族的母亲河。"
    text = "\n".join([*BODY, line, *BODY])
    assert line in strip(text).text


def test_keep_dateline_keeps_the_lead_in():
    text = "央视网消息（新闻联播）：长江是中华民族的母亲河。\n" + BODY[0]
    assert strip(text, keep_dateline=True).text == text


# --- removal and tidying --------------------------------------------------------


def test_remove_keeps_every_other_character():
    text = "  indented body\n\n长按识别二维码关注我们\n\ttabbed body  \n"
    matcher = BoilerplateMatcher(load_packs(builtin_pack_paths()))
    assert remove(text, matcher.find(text)) == "  indented body\n\n\ttabbed body  \n"


def test_text_without_boilerplate_is_returned_as_is():
    text = "\n".join(BODY) + "\n"
    record = strip(text)
    assert record.text is text
    assert "boilerplate" not in record.annotations


# --- the step's contract --------------------------------------------------------


def test_annotations_list_each_removed_line_with_kind_and_rule():
    record = strip("\n".join([*BODY, "责任编辑：王五", "长按识别二维码关注我们"]))
    assert record.annotations["removed_lines"] == 2
    assert record.annotations["boilerplate"] == [
        {"line": "责任编辑：王五", "kind": "credit", "rule": "zh-credit-editor"},
        {"line": "长按识别二维码关注我们", "kind": "qr-follow", "rule": "zh-qr-scan"},
    ]


def test_annotation_truncates_long_lines():
    disclaimer = "免责声明：" + "本文内容仅供参考" * 30
    record = strip("\n".join([*BODY, disclaimer]))
    line = record.annotations["boilerplate"][0]["line"]
    assert len(line) == 80 and line.endswith("…")


def test_stats_count_lines_rules_and_chars_by_kind():
    step = StripBoilerplate()
    step.process(Record(id="a", text="\n".join(["央视网消息：" + BODY[0], *BODY[1:], "责任编辑：王五"])))
    step.process(Record(id="b", text="\n".join([*BODY, "编辑：李四"])))
    assert step.stats["removed_lines/credit"] == 2
    assert step.stats["removed_lines_rule/zh-credit-editor"] == 2
    assert step.stats["removed_chars/credit"] == len("责任编辑：王五") + len("编辑：李四")
    assert step.stats["stripped_prefixes/dateline"] == 1
    assert step.stats["stripped_prefixes_rule/zh-cctv-lead"] == 1


def test_the_counter_an_engine_holds_has_the_counts_when_the_stream_ends():
    """Removals are counted in a plain dict and added to the Counter when ``stats`` is read or a
    stream through the step ends: a pipeline keeps the Counter object from before the run."""
    step = StripBoilerplate()
    held = step.stats
    records = [Record(id=str(n), text="\n".join([*BODY, "责任编辑：王五"])) for n in range(3)]
    stream = step(iter(records))
    next(stream)
    assert held["removed_lines/credit"] == 0  # pending in the step's tally
    list(stream)
    assert held["removed_lines/credit"] == 3
    assert held["removed_chars/credit"] == 3 * len("责任编辑：王五")
    assert step.stats is held


def test_a_stream_closed_early_still_counts_what_it_removed():
    step = StripBoilerplate()
    held = step.stats
    stream = step(Record(id=str(n), text="\n".join([*BODY, "编辑：李四"])) for n in range(5))
    next(stream), next(stream)
    stream.close()  # | head, Ctrl-C
    assert held["removed_lines_rule/zh-credit-editor"] == 2


def test_a_pickled_step_keeps_its_counts_and_counts_on():
    step = StripBoilerplate()
    step.process(Record(id="a", text="\n".join([*BODY, "编辑：李四"])))
    copy = pickle.loads(pickle.dumps(step))  # the removal is still pending in the step
    assert copy.stats["removed_lines/credit"] == 1
    copy.process(Record(id="b", text="\n".join([*BODY, "编辑：李四"])))
    assert copy.stats["removed_lines/credit"] == 2
    assert step.stats["removed_lines/credit"] == 1


def test_new_counters_drop_the_pending_counts():
    step = StripBoilerplate()
    step.process(Record(id="a", text="\n".join([*BODY, "编辑：李四"])))
    step.stats = Counter()  # as an engine resets a step between partitions
    assert step.stats == Counter()
    step.process(Record(id="b", text="\n".join([*BODY, "编辑：李四"])))
    assert step.stats["removed_lines/credit"] == 1


def test_a_document_left_empty_is_rejected_with_the_reason():
    record = strip("长按识别二维码关注我们\n\n责任编辑：王五")
    assert record.rejected
    assert record.rejection.step == "strip-boilerplate"
    assert record.rejection.reason == REJECT_EMPTY
    before = len("长按识别二维码关注我们") + len("责任编辑：王五")
    assert record.rejection.details == {"removed_lines": 2, "chars_before": before, "chars_after": 0}


def test_a_document_left_under_min_chars_is_rejected_with_the_numbers():
    record = strip("\n".join([BODY[0], "责任编辑：王五"]), min_chars=40)
    assert record.rejected
    assert f"{len(BODY[0])} characters left" in record.rejection.reason
    assert "--min-chars 40" in record.rejection.reason


def test_min_chars_does_not_reject_a_short_document_nothing_was_removed_from():
    assert not strip(BODY[0], min_chars=1000).rejected


def test_dry_run_reports_and_changes_nothing():
    reports = []
    step = StripBoilerplate(
        dry_run=True, report=lambda record, removals: reports.append((record.id, removals))
    )
    text = "\n".join([*BODY, "长按识别二维码关注我们"])
    record = step.process(Record(id="x", text=text))
    assert record.text == text and not record.rejected
    assert reports[0][0] == "x" and reports[0][1][0].rule == "zh-qr-scan"
    assert step.stats["would_removed_lines/qr-follow"] == 1
    assert "removed_lines/qr-follow" not in step.stats


def test_dry_run_does_not_reject_a_document_it_would_empty():
    step = StripBoilerplate(dry_run=True, report=lambda record, removals: None)
    assert not step.process(Record(id="x", text="长按识别二维码关注我们")).rejected


def test_disable_by_kind_and_by_rule():
    text = "\n".join([*BODY, "来源：新华社", "责任编辑：王五"])
    assert strip(text, disable=["credit"]).text == text
    assert strip(text, disable=["zh-credit-editor"]).text == "\n".join([*BODY, "责任编辑：王五"])


def test_unknown_disable_name_is_an_error_that_lists_the_kinds():
    with pytest.raises(ValueError, match=r"no-such-rule.*kinds: disclaimer"):
        StripBoilerplate(disable=["no-such-rule"])


def test_step_survives_pickling_for_worker_processes():
    step = pickle.loads(pickle.dumps(StripBoilerplate()))
    assert step.process(Record(id="x", text="央视网消息：" + BODY[0])).text == BODY[0]


def test_records_without_text_pass_through():
    record = Record(id="x", text="")
    assert StripBoilerplate().process(record) is record


# --- rule packs -----------------------------------------------------------------


def test_builtin_packs_cover_every_kind_in_both_scripts_and_english():
    rules = load_packs(builtin_pack_paths())
    assert {rule.kind for rule in rules} == set(KINDS)
    packs = {Path(rule.pack).name for rule in rules}
    assert packs == {"zh.toml", "zh_hant.toml", "en.toml"}
    assert len({rule.name for rule in rules}) == len(rules)


def test_every_builtin_rule_has_a_comment_and_examples_that_it_matches():
    # load_pack checks examples and counter-examples; here, that they exist at all.
    for path in builtin_pack_paths():
        document = __import__("tomllib").loads(path.read_text(encoding="utf-8"))
        for entry in document["rule"]:
            assert entry["comment"].strip() and entry["examples"], entry["name"]


def test_user_pack_adds_rules(tmp_path):
    pack = tmp_path / "site.toml"
    pack.write_text(
        '[[rule]]\nname = "site-slogan"\nkind = "navigation"\nwhere = "anywhere"\n'
        "literals = [\"天天向上\"]\npattern = '''好好学习[，,]?天天向上'''\n"
        'examples = ["好好学习，天天向上"]\ncomment = "The site slogan."\n',
        encoding="utf-8",
    )
    text = "\n".join([*BODY, "好好学习，天天向上", *BODY])
    assert "天天向上" in strip(text).text
    assert "天天向上" not in strip(text, rules=[pack]).text
    assert (
        strip(text, rules=[pack], builtin_rules=False).annotations["boilerplate"][0]["rule"] == "site-slogan"
    )


BAD_PACKS = [
    ("not toml", "[[rule]\n", "not valid TOML"),
    (
        "missing key",
        '[[rule]]\nname = "a"\nkind = "credit"\ncomment = "c"\n',
        "rule 'a': missing key(s) ['pattern']",
    ),
    (
        "unknown kind",
        '[[rule]]\nname = "a"\nkind = "advert"\npattern = "x"\ncomment = "c"\nexamples = ["x"]\n',
        "rule 'a': 'kind' is 'advert'; choose one of disclaimer",
    ),
    (
        "bad regex",
        '[[rule]]\nname = "a"\nkind = "credit"\npattern = "(x"\ncomment = "c"\nexamples = ["x"]\n',
        "rule 'a': bad pattern: missing ), unterminated subpattern",
    ),
    (
        "example that does not match",
        '[[rule]]\nname = "a"\nkind = "credit"\npattern = "^x$"\ncomment = "c"\nexamples = ["y"]\n',
        "rule 'a': the pattern does not match its example 'y'",
    ),
    (
        "counter-example that matches",
        '[[rule]]\nname = "a"\nkind = "credit"\npattern = "^x"\ncomment = "c"\nexamples = ["x"]\n'
        'counter_examples = ["xy"]\n',
        "rule 'a': the pattern matches its counter-example 'xy'",
    ),
    (
        "long strong rule that can start anywhere, without literals",
        '[[rule]]\nname = "a"\nkind = "credit"\nwhere = "anywhere"\nmax_chars = 100\npattern = ".{0,9}x"\n'
        'comment = "c"\nexamples = ["x"]\n',
        "rule 'a': give 'literals' for the pre-filter",
    ),
    (
        "example without a literal",
        '[[rule]]\nname = "a"\nkind = "credit"\nliterals = ["zz"]\npattern = "x"\n'
        'comment = "c"\nexamples = ["x"]\n',
        "rule 'a': the example 'x' contains none of the literals ['zz']",
    ),
    (
        "prefix rule outside the head",
        '[[rule]]\nname = "a"\nkind = "dateline"\naction = "prefix"\nwhere = "tail"\npattern = "x"\n'
        'comment = "c"\nexamples = ["x"]\n',
        "rule 'a': a prefix rule must have where = \"head\"",
    ),
    (
        "unknown key",
        '[[rule]]\nname = "a"\nkind = "credit"\npattern = "x"\ncomment = "c"\nexamples = ["x"]\n'
        'fire = "yes"\n',
        "rule 'a': unknown key(s) ['fire']",
    ),
]


@pytest.mark.parametrize(("label", "content", "message"), BAD_PACKS, ids=[case[0] for case in BAD_PACKS])
def test_bad_pack_error_names_the_file_and_the_rule(tmp_path, label, content, message):
    pack = tmp_path / "bad.toml"
    pack.write_text(content, encoding="utf-8")
    with pytest.raises(RulePackError) as error:
        load_pack(pack)
    assert str(error.value).startswith(f"{pack}: ")
    assert message in str(error.value)


def test_a_rule_name_used_in_two_packs_is_an_error_naming_both(tmp_path):
    pack = tmp_path / "dup.toml"
    pack.write_text(
        '[[rule]]\nname = "zh-qr-scan"\nkind = "qr-follow"\npattern = "^x$"\n'
        'comment = "c"\nexamples = ["x"]\n',
        encoding="utf-8",
    )
    with pytest.raises(
        RulePackError, match=r"dup\.toml: rule 'zh-qr-scan': the name is already used in .*zh\.toml"
    ):
        load_packs([*builtin_pack_paths(), pack])


def test_removals_compare_by_value_copy_and_pickle():
    """Removal is a plain class (a native constructor when compiled): equal by its fields, not
    hashable (it is mutable), a repr naming them, and it survives pickling and copying."""
    import copy

    removal = Removal(3, "扫码关注", "qr-follow", "zh-qr-scan")
    assert removal == Removal(3, "扫码关注", "qr-follow", "zh-qr-scan", prefix=False)
    assert removal != Removal(3, "扫码关注", "qr-follow", "zh-qr-scan", prefix=True)
    assert removal != Removal(4, "扫码关注", "qr-follow", "zh-qr-scan")
    assert removal != ("扫码关注",)
    assert pickle.loads(pickle.dumps(removal)) == removal
    assert copy.copy(removal) == removal
    assert repr(removal) == (
        "Removal(line=3, text='扫码关注', kind='qr-follow', rule='zh-qr-scan', prefix=False)"
    )
    with pytest.raises(TypeError):
        hash(removal)
