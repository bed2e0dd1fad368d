"""--report: every number of the JSON and HTML reports checked against the run that produced it."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.fake_steps import fake_chain
from tests.test_check import BASE, OTHER, QR_LINE
from vocclean.report.data import build_report, invariants
from vocclean.report.html_report import render_html
from vocclean.report.observer import RunObserver
from vocclean.runner import RunOptions, run

NEAR = BASE.replace("沈阳", "大连")
CORPUS = [
    {"id": "boiler", "text": f"{BASE}\n{QR_LINE}\n免责声明：本文仅供参考"},
    {"id": "twice", "text": f"{OTHER}\n{OTHER}"},
    {
        "id": "commas",
        "text": "今天天气很好,我们去公园散步,看见很多人在跑步,也有人在下棋,大家都很开心,真是美好的一天。",
    },
    {"id": "copy", "text": BASE},
    {"id": "near", "text": NEAR},
    {
        "id": "trad",
        "text": "這們國家的職業教育大會在瀋陽召開，會議深入貫徹全國職業教育大會精神，對工作進行安排部署。",
    },
    {"id": "only-boilerplate", "text": f"{QR_LINE}\n免责声明：本文仅供参考"},
    {"id": "xss", "text": f"{OTHER}<script>alert(1)</script>\n{QR_LINE}"},
]


def write_corpus(path: Path) -> Path:
    lines = [json.dumps(record, ensure_ascii=False) for record in CORPUS]
    path.write_text("\n".join([*lines[:4], "{not json", *lines[4:]]) + "\n", encoding="utf-8")
    return path


def run_with_report(tmp_path: Path, jobs: int = 1) -> tuple[dict, RunOptions]:
    corpus = write_corpus(tmp_path / "corpus.jsonl")
    options = RunOptions(
        inputs=(str(corpus),),
        output=str(tmp_path / "out.jsonl"),
        rejects=str(tmp_path / "rejects.jsonl"),
        annotate=True,
        jobs=jobs,
    )
    observer = RunObserver()
    result = run(fake_chain(), options, observer)
    return build_report(result, options, observer, ["vocclean", "clean"]), options


def read_jsonl(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def report_run(tmp_path):
    report, options = run_with_report(tmp_path)
    return report, read_jsonl(options.output), read_jsonl(options.rejects)


def test_records_are_conserved_at_every_step_and_in_total(report_run):
    report, written, rejects = report_run
    assert all(check["holds"] for check in report["invariants"]), report["invariants"]
    totals = report["totals"]
    assert totals["records_in"] == len(CORPUS) + 1
    assert (totals["written"], totals["rejected"], totals["bad_input"]) == (len(written), len(rejects), 1)
    for step in report["steps"]:
        assert step["records_in"] == step["records_out"] + step["rejected"]
        assert step["rejected"] == sum(r["vocclean"]["rejected_by"] == step["name"] for r in rejects)


def test_removed_lines_by_kind_and_rule_match_the_annotations(report_run):
    report, written, rejects = report_run
    entries = [e for r in written + rejects for e in r.get("vocclean", {}).get("boilerplate", [])]
    assert report["lines_removed_by_kind"] == dict(Counter(e["kind"] for e in entries))
    assert report["lines_removed_by_rule"] == dict(Counter(e["rule"] for e in entries))
    chars = Counter()
    for entry in entries:
        chars[entry["kind"]] += len(entry["line"])
    assert {k: v for k, v in report["chars_removed_by_kind"].items() if k != "dedup-paragraphs"} == chars


def test_scripts_duplicates_and_clusters_match_the_records(report_run):
    report, written, rejects = report_run
    annotated = [r["vocclean"] for r in written + rejects if "script" in r.get("vocclean", {})]
    assert report["scripts"] == dict(Counter(a["script"] for a in annotated))
    duplicates = [r["vocclean"] for r in rejects if r["vocclean"]["rejected_by"] == "dedup-articles"]
    assert report["duplicates"] == dict(Counter(d["duplicate_kind"] for d in duplicates))
    clusters = Counter(d["duplicate_of"] for d in duplicates)
    assert report["cluster_sizes"] == dict(Counter(str(n + 1) for n in clusters.values()))
    paragraphs = [p for r in written + rejects for p in r.get("vocclean", {}).get("repeated_paragraphs", [])]
    assert sum(report["paragraphs_removed_by_kind"].values()) == len(paragraphs)


def test_rejection_reasons_add_up_to_the_rejected_records(report_run):
    report, _, rejects = report_run
    assert sum(r["records"] for r in report["rejections"]) == len(rejects)
    by_step = Counter()
    for reason in report["rejections"]:
        by_step[reason["step"]] += reason["records"]
    assert by_step == Counter(r["vocclean"]["rejected_by"] for r in rejects)


def test_samples_show_changed_and_rejected_records_before_and_after(report_run):
    report, written, _ = report_run
    samples = {s["id"]: s for s in report["samples"]}
    boiler = samples["boiler"]
    assert boiler["category"] == "boilerplate" and QR_LINE in boiler["before"]
    assert boiler["after"] == next(r["text"] for r in written if r["id"] == "boiler")
    assert boiler["labels"][QR_LINE] == "qr-follow · zh-qr-scan"
    assert samples["copy"]["rejected_by"] == "dedup-articles" and samples["copy"]["after"] is None


def test_the_report_is_the_same_with_worker_processes(tmp_path):
    reports = []
    for jobs in (1, 2):
        (tmp_path / str(jobs)).mkdir()
        reports.append(run_with_report(tmp_path / str(jobs), jobs=jobs)[0])

    def numbers(report: dict) -> dict:
        kept = {
            k: v for k, v in report.items() if k not in ("inputs", "output", "rejects", "totals", "steps")
        }
        kept["steps"] = [{k: v for k, v in s.items() if k != "seconds"} for s in report["steps"]]
        kept["samples"] = [{k: v for k, v in s.items() if k != "source"} for s in report["samples"]]
        return kept

    serial, parallel = reports
    assert serial["samples"] and numbers(parallel) == numbers(serial)


def test_invariants_say_when_counts_do_not_add_up(report_run):
    report, _, _ = report_run
    report["steps"][2]["records_out"] -= 1
    failed = [check["check"] for check in invariants(report) if not check["holds"]]
    assert failed == [
        f"{report['steps'][2]['name']}: records in = out + rejected",
        f"{report['steps'][3]['name']}: records in = {report['steps'][2]['name']} out",
    ]
    assert "Counts do not add up" in render_html({**report, "invariants": invariants(report)})


# --- the HTML page ------------------------------------------------------------------------------


def figures(html: str) -> dict[str, dict[str, int]]:
    """Each chart's bars by caption: {caption: {data-label: data-value}}."""
    found = {}
    for caption, body in re.findall(r"<figure><figcaption>(.*?)</figcaption>(.*?)</figure>", html, re.S):
        bars = re.findall(r'<rect [^>]*data-label="([^"]*)" data-value="(\d+)"', body)
        found[caption] = {label: int(value) for label, value in bars}
    return found


def test_html_charts_draw_the_numbers_of_the_report(report_run):
    report, _, _ = report_run
    charts = figures(render_html(report))
    assert charts["Lines removed by kind"] == report["lines_removed_by_kind"]
    assert charts["Lines removed by rule (top 20)"] == report["lines_removed_by_rule"]
    assert charts["Characters removed by kind"] == report["chars_removed_by_kind"]
    assert charts["Duplicate clusters by size (number of clusters)"] == report["cluster_sizes"]
    assert charts["Scripts seen"] == report["scripts"]
    flow = charts["Records per step"]
    for step in report["steps"]:
        assert flow[f"{step['name']} out"] == step["records_out"]
        assert flow.get(f"{step['name']} rejected", 0) == step["rejected"]


def test_html_summary_shows_the_totals(report_run):
    report, _, _ = report_run
    html = render_html(report)
    for value, label in [
        (report["totals"]["records_in"], "records in"),
        (report["totals"]["written"], "written"),
        (report["totals"]["rejected"], "rejected"),
        (sum(report["lines_removed_by_kind"].values()), "lines removed"),
    ]:
        assert f"<b>{value:,}</b><span>{label}</span>" in html
    assert f"All {len(report['invariants'])} conservation checks hold" in html


def test_html_strikes_through_removed_lines_with_the_rule_that_removed_them(report_run):
    html = render_html(report_run[0])
    assert f'<del>{QR_LINE}</del><span class="why">qr-follow · zh-qr-scan</span>' in html
    assert "<ins>，</ins>" in html  # the commas made full-width, as a change inside the line


def test_html_is_self_contained_and_escapes_the_text(report_run):
    html = render_html(report_run[0])
    assert not re.search(r"<(script|link|img|iframe|object)\b", html, re.I)
    assert not re.search(r"\b(src|href)\s*=|url\(|@import", html, re.I)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_empty_sections_say_so_instead_of_drawing_nothing(tmp_path):
    corpus = tmp_path / "clean.jsonl"
    corpus.write_text(json.dumps({"id": "a", "text": OTHER}, ensure_ascii=False) + "\n", encoding="utf-8")
    options = RunOptions(inputs=(str(corpus),), output=str(tmp_path / "out.jsonl"), jobs=1)
    observer = RunObserver()
    html = render_html(build_report(run(fake_chain(), options, observer), options, observer))
    assert "No record was changed." in html and "No record was rejected." in html
    assert figures(html)["Lines removed by kind"] == {}


def test_a_batch_run_reports_the_samples_and_reasons_of_a_streaming_run(tmp_path):
    """Directory to directory with -j 2 runs file by file on workers (batch mode, with a manifest);
    its report keeps what watching the files one after another keeps, under the same caps."""
    from click.testing import CliRunner

    from vocclean.cli import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    mojibake = {"id": "mojibake", "text": BASE.encode("utf-8").decode("gb18030", errors="replace")}
    for copy in range(3):  # more changed records than the report keeps
        for number, record in enumerate([*CORPUS, mojibake]):
            line = json.dumps({**record, "id": f"{record['id']}-{copy}"}, ensure_ascii=False)
            (corpus / f"{copy}-{number}.jsonl").write_text(line + "\n{not json\n", encoding="utf-8")
    chain = ["fix-encoding", "normalize-script", "strip-boilerplate", "dedup-paragraphs"]

    def report(*args: str) -> dict:
        result = CliRunner().invoke(main, ["-i", str(corpus), *args, *chain])
        assert result.exit_code == 1, result.output  # the bad lines
        return json.loads((tmp_path / args[-1]).read_text(encoding="utf-8"))

    streamed = report("-j", "1", "-o", str(tmp_path / "one.jsonl"), "--report", str(tmp_path / "s.json"))
    batch = report("-j", "2", "-o", str(tmp_path / "out") + "/", "--report", str(tmp_path / "b.json"))
    assert (tmp_path / "out" / ".vocclean-manifest.jsonl").exists()
    by_category = Counter(sample["category"] for sample in streamed["samples"])
    assert len(by_category) == 5 and set(by_category.values()) == {3}  # each category's cap cuts
    assert batch["samples"] == streamed["samples"]
    assert batch["rejections"] == streamed["rejections"] and streamed["rejections"]
    resumed = report(
        "-j", "2", "-o", str(tmp_path / "out") + "/", "--resume", "--report", str(tmp_path / "r.json")
    )
    assert resumed["samples"] == [] and resumed["rejections"] == streamed["rejections"]


def test_what_learning_counted_is_in_the_report_of_a_batch_run_too(tmp_path):
    """The learned lines, documents and skipped copies are counted before the run (the learning
    pass); batch mode's totals start from them as the streaming run's do."""
    from click.testing import CliRunner

    from vocclean.cli import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    footer = "本文由本站编辑部整理发布，转载请注明出处"
    for n in range(12):
        text = f"第{n}篇：{BASE}\n{footer}"
        (corpus / f"{n}.jsonl").write_text(
            json.dumps({"id": str(n), "text": text}, ensure_ascii=False) + "\n"
        )
    counters = []
    for jobs, output in (("1", "one.jsonl"), ("2", "out/")):
        args = ["-j", jobs, "-i", str(corpus), "-o", f"{tmp_path}/{output}", "--report", f"{tmp_path}/r.json"]
        result = CliRunner().invoke(main, [*args, "strip-boilerplate", "--learn"])
        assert result.exit_code == 0, result.output
        steps = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["steps"]
        counters.append(next(s["counters"] for s in steps if s["name"] == "strip-boilerplate"))
    assert (tmp_path / "out" / ".vocclean-manifest.jsonl").exists()  # the second run was batch mode
    assert counters[1] == counters[0] and counters[0]["learned"]["documents"] == 12


def test_merged_parts_keep_the_samples_one_observer_would_under_both_caps():
    from vocclean.report.observer import Sample

    def sample(n: int, category: str) -> Sample:
        return Sample(id=str(n), source=f"f:{n}", category=category, before="a", after="b")

    parts = [
        [sample(0, "x"), sample(1, "x")],
        [sample(2, "x"), sample(3, "x"), sample(4, "y")],
        [sample(5, "z")],
    ]
    observer = RunObserver(max_samples=4, per_category=3)
    for part in parts:
        observer.merge(part, [])
    assert [s.id for s in observer.samples] == ["0", "1", "2", "4"]  # x capped at 3, then the total at 4


def test_report_given_several_times_writes_one_report_of_the_run_in_each_format(tmp_path, monkeypatch):
    """--report twice kept the last one only; now each path gets the run's report in its format."""
    from click.testing import CliRunner

    from vocclean.cli import main

    corpus = write_corpus(tmp_path / "corpus.jsonl")
    monkeypatch.chdir(tmp_path)

    def clean(*args: str, env: dict | None = None):
        command = ["-i", str(corpus), "-o", "out.jsonl", *args, "fix-encoding"]
        return CliRunner().invoke(main, command, env=env)

    done = clean("--report", "a.json", "--report", "a.html", "--report", "a.json")
    assert done.exit_code == 1, done.output  # the corpus has a line that is not JSON
    report = json.loads(Path("a.json").read_text(encoding="utf-8"))
    assert report["totals"]["records_in"] == len(CORPUS) + 1
    html = Path("a.html").read_text(encoding="utf-8")
    assert f"<b>{len(CORPUS) + 1:,}</b><span>records in</span>" in html
    refused = clean("--report", "b.json", "--report", "out.json", "-o", "out.json")
    assert refused.exit_code == 2 and "--report out.json is the same file as -o out.json" in refused.output
    assert not Path("b.json").exists()
    refused = clean("--report", "c.json", "--report", "c.txt")
    assert refused.exit_code == 2 and "c.txt: a report is .json or .html" in refused.output
    assert not Path("c.json").exists()
    spaced = clean(env={"VOCCLEAN_REPORT": "my report.json:env.html"})  # as PATH: os.pathsep between paths
    assert spaced.exit_code == 1, spaced.output
    assert Path("my report.json").is_file() and Path("env.html").is_file()
    Path("vocclean.toml").write_text('report = ["toml.json", "toml.html"]\n', encoding="utf-8")
    assert clean().exit_code == 1 and Path("toml.json").is_file() and Path("toml.html").is_file()
    Path("vocclean.toml").write_text('report = "one.json"\n', encoding="utf-8")
    assert clean().exit_code == 1 and Path("one.json").is_file()
