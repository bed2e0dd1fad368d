"""The chained command group: global I/O options, then steps, folded and drained.

Each step command returns a Step object (click's imagepipe pattern); the
group's result callback hands them to ``vocclean.runner.run``.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from vocclean import __version__, interrupts, native
from vocclean.cli.actions import find_action, run_action
from vocclean.cli.group_options import before_chain, report_option, show_config_option
from vocclean.config import ConfiguredGroup, command_line
from vocclean.errors import VoccleanError
from vocclean.io.readers import DEFAULT_MAX_RECORD_BYTES
from vocclean.io.sources import is_url
from vocclean.io.writers import make_folder, named_path
from vocclean.report.files import write_reports
from vocclean.report.observer import RunObserver
from vocclean.runner import RunOptions, resolved, run

EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3
BUG = "This is a bug in vocclean: please report it with the command line and the traceback above."
EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_TERMINATED = 141, 130, 143


class VoccleanGroup(ConfiguredGroup):
    """The group: Ctrl-C while the steps are being built (before the run) ends like one during it,
    exit 130, instead of click's "Aborted!" and exit 1; one pressed earlier, while SIGINT was held
    (imports, parsing), is raised here."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            interrupts.release()  # held since the command's first line (vocclean.entry)
            interrupts.terminate_as_interrupt()
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            _interrupted(ctx, exc)
        except click.NoSuchOption as exc:  # a step's options are parsed here, in chain order
            if exc.option_name in {opt for param in self.params for opt in param.opts}:
                exc.message += f" {exc.option_name} is a global option: give it before the first step."
            raise


@click.group(
    cls=VoccleanGroup,
    chain=True,
    invoke_without_command=True,  # for --show-config alone; before_chain demands a command otherwise
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "-i",
    "--input",
    "inputs",
    multiple=True,
    metavar="PATH",
    help="Input file, directory (walked recursively), glob or - for stdin (default). Repeatable. "
    "JSONL (.jsonl/.json), plain-text articles (.txt) and Parquet; .gz/.bz2/.xz/.zst read transparently.",
)
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    metavar="PATH",
    help="Output JSONL file (compressed by extension), directory (one file per input), or - for stdout.",
)
@click.option("--rejects", metavar="PATH", help="Write every dropped record here, with the step and reason.")
@click.option("--text-field", default="text", show_default=True, help="JSON field holding the article.")
@click.option("--id-field", default="id", show_default=True, help="JSON field holding the record id.")
@click.option("--annotate", is_flag=True, help="Record what each step did under the 'vocclean' key.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr (default: on when stderr is a terminal).",
)
@click.option("--strict", is_flag=True, help="Stop with exit 1 at the first bad input record.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl", "text"]),
    default="jsonl",
    show_default=True,
    help="Output format: JSONL, or plain-text articles into the -o directory.",
)
@click.option(
    "--max-record-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_RECORD_BYTES,
    show_default=True,
    help="Longer lines or files are rejected without being read into memory.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for per-article steps (default: all cores). Output is the same for any -j.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local: this machine's cores. dask: a Dask cluster (pip install 'vocclean[dask]').",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Dask scheduler address, e.g. tcp://host:8786 (default: a local cluster of -j workers).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Directory to directory: skip the input files that the manifest in -o lists as finished.",
)
@click.option(
    "--chunk-records",
    type=click.IntRange(min=1),
    default=512,
    show_default=True,
    help="Records per chunk sent to a worker process (memory per chunk vs overhead).",
)
@report_option
@show_config_option
@click.version_option(
    __version__,
    prog_name="vocclean",
    message=f"%(prog)s, version %(version)s (boilerplate matcher: {native.running()})",
)
def main(**options) -> None:
    """Clean and deduplicate scraped articles. Steps chain in one process
    and read JSONL from stdin by default.

    \b
    Examples:
      vocclean -i dump/ -o cleaned.jsonl --rejects rejects.jsonl clean
      cat articles.jsonl | vocclean fix-encoding normalize-script | jq .text
      vocclean -i raw/ -o out/ fix-encoding strip-boilerplate

    \b
    Exit codes: 0 success; 1 finished but some records were rejected as bad
    input (or check found problems); 2 usage or I/O error; 3 a bug in
    vocclean (with a traceback); 130 interrupted (Ctrl-C); 141 output pipe
    closed (| head); 143 terminated (SIGTERM).
    """
    # A shell starts background jobs with SIGINT ignored; restore Python's handler so that
    # Ctrl-C (or kill -INT) always ends the run cleanly through KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    before_chain(click.get_current_context())


@main.result_callback()
def run_chain(steps, **options) -> None:
    flat = []
    for step in steps:
        flat.extend(step if isinstance(step, list) else [step])
    run_options = RunOptions(
        inputs=tuple(options["inputs"]) or ("-",),
        output=options["output"],
        rejects=options["rejects"],
        text_field=options["text_field"],
        id_field=options["id_field"],
        annotate=options["annotate"],
        progress=options["progress"],
        strict=options["strict"],
        format=options["output_format"],
        max_record_bytes=options["max_record_bytes"],
        jobs=options["jobs"],
        engine=options["engine"],
        scheduler=options["scheduler"],
        resume=options["resume"],
        chunk_records=options["chunk_records"],
    )
    ctx = click.get_current_context()
    if run_options.scheduler and run_options.engine != "dask":
        raise click.UsageError("--scheduler needs --engine dask")
    action = find_action(flat)
    reports = options["report"]
    observer = RunObserver() if reports else None
    try:
        run_options = resolved(run_options, reports)
        if action is not None:
            ctx.exit(run_action(action, flat, run_options, ctx, reports))
        for report in reports:
            _report_folder(report)
        result = run(flat, run_options, observer)
        if reports:
            write_reports(reports, result, run_options, observer, command_line(ctx))
    except VoccleanError as exc:
        click.echo(f"vocclean: {exc}", err=True)
        ctx.exit(exc.exit_code)
    except BrokenPipeError:
        # The reader went away (| head): a normal end. Silence the final flush too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        ctx.exit(EXIT_BROKEN_PIPE)
    except KeyboardInterrupt as exc:
        _interrupted(ctx, exc)
    except OSError as exc:
        name = f" {exc.filename}" if exc.filename else ""
        click.echo(f"vocclean: I/O error{name}: {exc.strerror or exc}", err=True)
        ctx.exit(EXIT_ERROR)
    except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
        raise
    except Exception as exc:  # a bug: not exit 1, which says the input had bad records
        interrupt = _during_interrupt(exc)
        if interrupt is not None:
            _interrupted(ctx, interrupt)
        traceback.print_exc()
        click.echo(f"vocclean: internal error ({type(exc).__name__}: {exc}). {BUG}", err=True)
        ctx.exit(EXIT_INTERNAL)
    ctx.exit(EXIT_PROBLEMS if result.bad_input else EXIT_OK)


def _report_folder(report: str) -> None:
    """The report is written last: a folder it cannot go in fails before the run."""
    if is_url(report):
        raise VoccleanError(f"--report {report}: a report is written to a local path, not a URL")
    with named_path(report):
        make_folder(Path(report).parent)


def _interrupted(ctx: click.Context, interrupt: KeyboardInterrupt) -> None:
    """The last line of an interrupted run (what it keeps, if anything), and its exit code."""
    terminated = isinstance(interrupt, interrupts.Terminated)
    kept = getattr(interrupt, "kept", None) or "no partial output was kept"
    click.echo(f"vocclean: {'terminated (SIGTERM)' if terminated else 'interrupted'}; {kept}", err=True)
    ctx.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)


def _during_interrupt(exc: BaseException) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt being handled when ``exc`` was raised (a library's lock or event loop
    left half-way by the Ctrl-C: the interrupt's doing, not a bug), if any."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return cause
        seen.add(id(cause))
        cause = cause.__context__
    return None


def current_run_inputs() -> tuple[str, ...]:
    """The group's -i values, for steps whose defaults depend on the input (file or stdin)."""
    root = click.get_current_context().find_root()
    return tuple(root.params.get("inputs") or ("-",))


# Step commands. Each module defines one click command returning a Step.
# (registrations below)
from vocclean.cli.fix_encoding import fix_encoding_command  # noqa: E402

main.add_command(fix_encoding_command)
from vocclean.cli.check import check_command  # noqa: E402
from vocclean.cli.diff import diff_command  # noqa: E402

main.add_command(check_command)
main.add_command(diff_command)
from vocclean.cli.dedup_paragraphs import dedup_paragraphs_command  # noqa: E402

main.add_command(dedup_paragraphs_command)
from vocclean.cli.normalize_script import normalize_script_command  # noqa: E402

main.add_command(normalize_script_command)
from vocclean.cli.strip_boilerplate import learn_boilerplate_command, strip_boilerplate_command  # noqa: E402

main.add_command(strip_boilerplate_command)
main.add_command(learn_boilerplate_command)
from vocclean.cli.dedup_articles import dedup_articles_command  # noqa: E402

main.add_command(dedup_articles_command)
from vocclean.cli.clean import clean_command  # noqa: E402

main.add_command(clean_command)
