"""The command line as a user meets it: chaining, pipes, exit codes, bad input, help."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from tests.conftest import FIXTURES, REPO
from vocclean.cli import main

PER_ARTICLE_STEPS = ["fix-encoding", "normalize-script", "strip-boilerplate"]


def vocclean(*args: str, stdin: bytes = b"", timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess, as a shell pipeline would."""
    return subprocess.run(
        [sys.executable, "-m", "vocclean", *args], input=stdin, capture_output=True, timeout=timeout, cwd=REPO
    )


def jsonl(*records: dict) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def seeds_jsonl() -> bytes:
    return jsonl(
        *(
            {"id": p.name, "text": p.read_text(encoding="utf-8")}
            for p in sorted((FIXTURES / "seeds").iterdir())
        )
    )


def test_every_command_has_help_with_an_example_and_a_readme_entry():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    runner = CliRunner()
    assert "Example" in runner.invoke(main, ["--help"]).output
    for name in main.commands:
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example" in result.output, f"{name} --help has no example"
        assert f"`{name}`" in readme, f"README does not document {name}"


def test_all_steps_are_registered():
    expected = {
        "fix-encoding",
        "normalize-script",
        "strip-boilerplate",
        "dedup-paragraphs",
        "dedup-articles",
        "clean",
    }
    assert expected <= set(main.commands)


def test_chained_steps_give_the_same_output_as_a_unix_pipe():
    data = seeds_jsonl()
    chained = vocclean("--annotate", *PER_ARTICLE_STEPS, stdin=data)
    assert chained.returncode == 0, chained.stderr
    piped = data
    for step in PER_ARTICLE_STEPS:
        result = vocclean("--annotate", step, stdin=piped)
        assert result.returncode == 0, result.stderr
        piped = result.stdout
    assert chained.stdout == piped
    assert chained.stdout != data


def test_stdin_to_stdout_keeps_every_field(tmp_path):
    result = vocclean("normalize-script", stdin=jsonl({"url": "u", "text": "你好,世界", "n": 1}))
    out = json.loads(result.stdout)
    assert list(out) == ["id", "url", "text", "n"]
    assert out["id"] == "<stdin>:1" and out["n"] == 1


def test_empty_stdin_is_an_empty_successful_run():
    result = vocclean("normalize-script", stdin=b"")
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def test_bad_input_is_reported_by_file_and_line_rejected_and_exits_1(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(jsonl({"text": "好"}) + b"{broken\n" + jsonl({"id": "n", "text": 3}))
    rejects = tmp_path / "rejects.jsonl"
    result = vocclean(
        "-i", str(source), "-o", str(tmp_path / "out.jsonl"), "--rejects", str(rejects), "normalize-script"
    )
    assert result.returncode == 1
    err = result.stderr.decode()
    assert f"{source}:2: invalid JSON" in err and f"{source}:3: the 'text' field is a number" in err
    assert "Traceback" not in err
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 1
    assert [json.loads(line)["vocclean"]["source"] for line in rejects.read_text().splitlines()] == [
        f"{source}:2",
        f"{source}:3",
    ]


def test_strict_stops_at_the_first_bad_record(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"[]\n" + jsonl({"text": "x"}))
    result = vocclean("-i", str(source), "-o", str(tmp_path / "out.jsonl"), "--strict", "normalize-script")
    assert result.returncode == 1
    assert "--strict stops here" in result.stderr.decode()
    assert not (tmp_path / "out.jsonl").exists()


def test_a_50_mb_line_is_rejected_and_the_next_record_kept(tmp_path):
    source = tmp_path / "big.jsonl"
    with open(source, "wb") as handle:
        handle.write(b'{"text": "' + b"a" * (50 * 1024 * 1024) + b'"}\n')
        handle.write(jsonl({"id": "after", "text": "ok"}))
    result = vocclean("-i", str(source), "--rejects", str(tmp_path / "r.jsonl"), "normalize-script")
    assert result.returncode == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["after"]
    assert "longer than the maximum record size" in result.stderr.decode()


def test_plain_text_not_in_utf8_asks_for_fix_encoding(tmp_path):
    (tmp_path / "gbk.txt").write_bytes("中华人民共和国".encode("gbk"))
    result = vocclean("-i", str(tmp_path), "normalize-script")
    assert result.returncode == 1
    assert "add the fix-encoding step" in result.stderr.decode()


def test_missing_input_is_a_usage_error_with_exit_2(tmp_path):
    result = vocclean("-i", str(tmp_path / "missing.jsonl"), "normalize-script")
    assert result.returncode == 2
    assert (
        result.stderr.decode().strip() == f"vocclean: {tmp_path / 'missing.jsonl'}: no such file or directory"
    )


def test_unknown_option_is_a_usage_error_with_exit_2():
    result = vocclean("normalize-script", "--no-such-option")
    assert result.returncode == 2 and b"No such option" in result.stderr
    assert b"global option" not in result.stderr


def test_a_global_option_after_a_step_says_where_it_goes():
    result = vocclean("fix-encoding", "--annotate")
    assert result.returncode == 2
    assert b"--annotate is a global option: give it before the first step" in result.stderr


def test_help_lists_every_exit_code():
    result = vocclean("--help")
    codes = result.stdout.decode().split("Exit codes:", 1)[1].split("Options:", 1)[0]
    for code, meaning in ((0, "success"), (1, "rejected"), (2, "usage"), (3, "bug"), (130, "interrupted")):
        assert f"{code} " in codes and meaning in codes, codes
    assert "141 output pipe" in " ".join(codes.split()) and "143 terminated" in codes


def test_unwritable_output_is_an_io_error_with_exit_2(tmp_path):
    (tmp_path / "file").write_text("x")
    result = vocclean(
        "-o", str(tmp_path / "file" / "out.jsonl"), "normalize-script", stdin=jsonl({"text": "a"})
    )
    assert result.returncode == 2
    assert result.stderr.decode().startswith("vocclean: I/O error")


def test_head_closing_the_pipe_ends_quietly():
    data = jsonl(*({"text": f"第{i}段,内容"} for i in range(20000)))
    shell = f"{sys.executable} -m vocclean normalize-script | head -1"
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {shell}"], input=data, capture_output=True, cwd=REPO
    )
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == b""
    assert result.returncode == 141


def test_ctrl_c_stops_without_traceback_or_partial_output(tmp_path):
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "vocclean", "-o", str(out), "normalize-script"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    process.stdin.write(jsonl({"text": "一"}) * 100)
    process.stdin.flush()
    time.sleep(2)  # let it start and block on stdin
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert b"Traceback" not in err and b"interrupted" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


INTERRUPT_AT = """
import sys
from vocclean.steps.strip_boilerplate import StripBoilerplate

def interrupted(*args, **kwargs):
    raise KeyboardInterrupt

{patch}
from vocclean.entry import main
sys.argv = ["vocclean", "-o", sys.argv[1], "clean"]
main()
"""


def test_ctrl_c_while_the_steps_are_built_exits_130_without_traceback(tmp_path):
    """Before the run starts (building the steps): the same exit as during it, not click's Abort."""
    out = tmp_path / "out.jsonl"
    code = INTERRUPT_AT.format(patch="StripBoilerplate.__init__ = interrupted")
    result = subprocess.run(
        [sys.executable, "-c", code, str(out)], input=b"", capture_output=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 130
    assert b"Traceback" not in result.stderr and b"Aborted" not in result.stderr
    assert b"interrupted" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_python_imports_vocclean_exits_130_without_traceback(tmp_path):
    """The first tenths of a second: the entry point's import of the CLI is interrupted."""
    code = INTERRUPT_AT.format(
        patch="""class Interrupting:
    def find_spec(self, name, path=None, target=None):
        if name == "vocclean.cli":
            raise KeyboardInterrupt

sys.meta_path.insert(0, Interrupting())"""
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "out.jsonl")],
        input=b"",
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 130
    assert result.stderr == b"vocclean: interrupted\n"
    assert list(tmp_path.iterdir()) == []


SIGNAL_AT = """
import os, signal, sys
{patch}
from vocclean.entry import main
source, out = sys.argv[1:]
sys.argv = ["vocclean", "-j", "3", "--chunk-records", "5", "-i", source, "-o", out, "normalize-script"]
main()
"""


def run_signalled(tmp_path, patch: str) -> subprocess.CompletedProcess:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(jsonl({"id": str(i), "text": "今天,天气很好。"}) for i in range(40)))
    code = SIGNAL_AT.format(patch=patch)
    return subprocess.run(
        [sys.executable, "-c", code, str(source), str(tmp_path / "out.jsonl")],
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )


def test_a_ctrl_c_while_python_imports_the_steps_is_raised_when_the_run_starts(tmp_path):
    """SIGINT is held during the imports (a KeyboardInterrupt inside one can half-load a C extension
    or be swallowed by it) and raised at the run's start: the run's own exit, 130."""
    patch = """class Interrupting:
    def find_spec(self, name, path=None, target=None):
        if name == "vocclean.text.shingles":
            os.kill(os.getpid(), signal.SIGINT)

sys.meta_path.insert(0, Interrupting())"""
    result = run_signalled(tmp_path, patch)
    assert result.returncode == 130, result.stderr
    assert result.stderr == b"vocclean: interrupted; no partial output was kept\n"
    assert not (tmp_path / "out.jsonl").exists()


def test_workers_are_forked_with_sigint_held_so_a_ctrl_c_cannot_kill_one_before_it_ignores_it(tmp_path):
    """Ctrl-C goes to every process of the terminal's group: a worker forked a moment before its
    initializer ignores SIGINT died of it, and the pool with it. Forked with SIGINT held, a Ctrl-C
    waits, and the initializer's SIG_IGN discards it."""
    log = tmp_path / "forks.txt"
    patch = f"""def forked():
    held = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    with open({str(log)!r}, "a") as stream:
        stream.write(f"{{held}}\\n")

os.register_at_fork(after_in_child=forked)"""
    result = run_signalled(tmp_path, patch)
    assert result.returncode == 0, result.stderr
    assert log.read_text().split() == ["True", "True"]  # both workers of -j 3


def test_progress_is_off_in_a_pipe_and_forced_with_progress():
    data = jsonl({"text": "a"})
    assert vocclean("normalize-script", stdin=data).stderr == b""
    assert b"records" in vocclean("--progress", "normalize-script", stdin=data).stderr


def test_output_is_byte_identical_across_runs(tmp_path):
    for name in ("a.jsonl", "b.jsonl"):
        result = vocclean("-i", str(FIXTURES / "seeds"), "-o", str(tmp_path / name), "--annotate", "clean")
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_quick_start_command_cleans_the_seeds(tmp_path):
    result = subprocess.run(
        ["bin/vocclean", "-i", "fixtures/seeds", "-o", str(tmp_path / "cleaned.jsonl"), "clean"],
        capture_output=True,
        cwd=REPO,
        timeout=600,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (tmp_path / "cleaned.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == sorted(p.name for p in (FIXTURES / "seeds").iterdir())
    assert all(r["text"].strip() for r in records)


@pytest.mark.parametrize("step", PER_ARTICLE_STEPS)
def test_each_step_conserves_records(tmp_path, step):
    data = seeds_jsonl() + b"not json\n"
    result = vocclean("--rejects", str(tmp_path / "r.jsonl"), step, stdin=data)
    written = len(result.stdout.splitlines())
    rejected = len((tmp_path / "r.jsonl").read_text().splitlines())
    assert written + rejected == 6


def test_clean_builds_its_steps_with_the_settings_in_vocclean_toml(tmp_path):
    (tmp_path / "vocclean.toml").write_text('[normalize-script]\nto = "taiwan"\n')
    data = jsonl({"id": "a", "text": "这是一个关于软件和网络的简体中文新闻报道，内容足够长。"})
    default = subprocess.run(
        [sys.executable, "-m", "vocclean", "clean"], input=data, capture_output=True, cwd=REPO, timeout=120
    )
    configured = subprocess.run(
        [sys.executable, "-m", "vocclean", "clean"],
        input=data,
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert json.loads(default.stdout)["text"].startswith("这是")
    assert json.loads(configured.stdout)["text"].startswith("這是")


BLAS_THREADS = """
import os
from vocclean.entry import single_threaded_blas
single_threaded_blas()
import numpy
print(os.environ["OPENBLAS_NUM_THREADS"], len(os.listdir("/proc/self/task")))
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc (Linux)")
@pytest.mark.parametrize(("chosen", "expected"), [(None, ["1", "1"]), ("2", ["2"])])
def test_the_command_starts_no_blas_threads_unless_the_user_asks(chosen, expected):
    """NumPy's OpenBLAS threads spin at start-up; the user's own OPENBLAS_NUM_THREADS is kept."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if chosen is not None:
        env["OPENBLAS_NUM_THREADS"] = chosen
    result = subprocess.run(
        [sys.executable, "-c", BLAS_THREADS], capture_output=True, text=True, env=env, check=True
    )
    setting, threads = result.stdout.split()
    assert [setting, threads][: len(expected)] == expected  # the user's choice: OpenBLAS caps it by cores


def test_without_signal_masks_holding_sigint_does_nothing(monkeypatch):
    """Windows has no pthread_sigmask: the command must still start."""
    from vocclean import interrupts

    monkeypatch.setattr(interrupts, "_MASKS", False)
    interrupts.hold()
    with interrupts.held():
        pass
    interrupts.release()
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_a_bug_exits_3_with_the_traceback_not_1_which_means_bad_records(tmp_path, monkeypatch):
    cli_main = sys.modules["vocclean.cli.main"]  # the module (the package exports the group as main)

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_main, "run", broken)
    given = tmp_path / "in.jsonl"
    given.write_bytes(jsonl({"id": "a", "text": "正文"}))
    result = CliRunner().invoke(
        main, ["-i", str(given), "-o", str(tmp_path / "out.jsonl"), "normalize-script"]
    )
    assert result.exit_code == 3
    assert "vocclean: internal error (RuntimeError: boom). This is a bug in vocclean" in result.stderr
    assert "Traceback" in result.stderr and not (tmp_path / "out.jsonl").exists()
    usage = CliRunner().invoke(main, ["-i", str(given), "no-such-step"])
    assert usage.exit_code == 2  # click's own errors are not bugs


def test_an_error_raised_while_a_ctrl_c_unwinds_a_library_is_the_interrupt_exit_130(tmp_path, monkeypatch):
    """threading's locks, left half-way by a KeyboardInterrupt, raise RuntimeError: not a bug of ours."""
    cli_main = sys.modules["vocclean.cli.main"]

    def interrupted(*_args, **_kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("release unlocked lock") from None  # __context__ is still the interrupt

    monkeypatch.setattr(cli_main, "run", interrupted)
    given = tmp_path / "in.jsonl"
    given.write_bytes(jsonl({"id": "a", "text": "正文"}))
    result = CliRunner().invoke(
        main, ["-i", str(given), "-o", str(tmp_path / "out.jsonl"), "normalize-script"]
    )
    assert (result.exit_code, result.stderr) == (130, "vocclean: interrupted; no partial output was kept\n")


def test_paths_an_engine_cannot_reach_are_refused_before_the_run(tmp_path):
    given = tmp_path / "in.jsonl"
    given.write_bytes(jsonl({"id": "a", "text": "正文"}))
    url = CliRunner().invoke(main, ["-i", str(given), "-o", "memory://bucket/out.jsonl", "fix-encoding"])
    assert url.exit_code == 2
    assert "memory://bucket/out.jsonl: a URL; fsspec URLs are read and written by --engine dask" in url.stderr
    assert not os.path.exists("memory:")  # no folder named after the URL
    remote = CliRunner().invoke(
        main, ["--engine", "dask", "--scheduler", "tcp://127.0.0.1:1", "-i", "in.jsonl", "fix-encoding"]
    )
    assert remote.exit_code == 2 and "in.jsonl: a relative path; the workers of --scheduler" in remote.stderr
    resume_args = ["--engine", "dask", "-i", str(given), "-o", f"{tmp_path}/o/", "--resume", "fix-encoding"]
    resume = CliRunner().invoke(main, resume_args)
    assert resume.exit_code == 2 and "the Dask engine keeps no manifest" in resume.stderr
    (tmp_path / "file").write_text("")
    blocked = f"{tmp_path}/file/out.jsonl"  # under a file: cannot be made
    for engine in ("local", "dask"):
        done = CliRunner().invoke(main, ["--engine", engine, "-i", str(given), "-o", blocked, "clean"])
        assert done.exit_code == 2 and done.stderr.startswith(f"vocclean: I/O error {blocked}: "), done.stderr


def test_a_file_url_is_a_local_path(tmp_path):
    given = tmp_path / "in.jsonl"
    given.write_bytes(jsonl({"id": "a", "text": "正文"}))
    done = CliRunner().invoke(
        main, ["-i", f"file://{given}", "-o", f"file://{tmp_path}/out.jsonl", "fix-encoding"]
    )
    assert done.exit_code == 0, done.stderr
    assert json.loads((tmp_path / "out.jsonl").read_bytes()) == {"id": "a", "text": "正文"}


def test_a_message_during_the_progress_line_starts_a_line_of_its_own(capsys):
    from vocclean.messages import warn
    from vocclean.progress import Progress

    class Bytes:
        bytes = 2_000_000

    progress = Progress(True, Bytes())
    progress.next_update = 0  # draw now
    progress.update(10)
    warn("in.jsonl:3: invalid JSON")
    progress.finish(20)
    lines = capsys.readouterr().err.split("\n")
    assert lines[0].startswith("\r10 records  2.0 MB")
    assert lines[1] == "vocclean: in.jsonl:3: invalid JSON"
    assert lines[2].startswith("\r20 records") and lines[3] == ""


def test_an_interrupt_dropped_by_a_finaliser_is_raised_again_after_it():
    """Python prints and drops an exception raised in a __del__ (or a gc callback); a Ctrl-C that
    lands there must still stop the run."""
    script = (
        "import signal\n"
        "from vocclean import interrupts\n"
        "interrupts.terminate_as_interrupt()\n"
        "class Dropper:\n"
        "    def __del__(self):\n"
        "        raise KeyboardInterrupt\n"
        "try:\n"
        "    Dropper()\n"
        "    for _ in range(10**7):\n"
        "        pass\n"
        "    print('went on')\n"
        "except KeyboardInterrupt:\n"
        "    print('stopped')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=REPO, timeout=60)
    assert (done.stdout, done.stderr) == (b"stopped\n", b"")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dedup-articles", "--threshold", "nan"], b"Invalid value for '--threshold': 'nan' is not a number"),
        (["dedup-paragraphs", "--similarity", "nan"], b"'--similarity': 'nan' is not a number"),
        (["strip-boilerplate", "--learn", "--learn-min-share", "nan"], b"'--learn-min-share': 'nan'"),
        (["strip-boilerplate", "--cut-from", "nan"], b"Invalid value for '--cut-from'"),
        (["fix-encoding", "--drop-unrecoverable", "nan"], b"'--drop-unrecoverable': 'nan' is not a number"),
        (["check", "--max-duplicate-rate", "nan"], b"'--max-duplicate-rate': 'nan' is not a number"),
        (["dedup-articles", "--bands", "129"], b"128 permutations cannot make 129 bands"),
        (["fix-encoding", "--encoding", "base64"], b"'base64' does not decode bytes to text"),
        (["fix-encoding", "--encoding", "idna"], b"'idna' does not decode bytes to text"),
    ],
)
def test_option_values_a_step_cannot_use_are_usage_errors_before_the_run(args, message):
    """nan passed click's ranges (every comparison with it is false): a traceback with exit 1, or a
    threshold that matched nothing; a codec that does not decode text rejected every record."""
    result = vocclean(*args, stdin=jsonl({"id": "a", "text": "正文"}))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and b"Traceback" not in result.stderr
    assert result.stdout == b""
