"""Chain commands that are not steps: ``check`` and ``diff`` take over the run.

A step command returns a Step; an action command returns a ``ChainAction``.
The group's result callback finds the action among the chain's results and
hands it the other commands' steps (the chain it runs) instead of running a
normal cleaning run. With no other command in the chain, an action uses every
step in ``clean``'s order, each built from its own command so that the
config file and ``VOCCLEAN_*`` settings of that step apply.
"""

from __future__ import annotations

import click
from click.core import ParameterSource

from vocclean.runner import RunOptions
from vocclean.steps.base import Step

CLEAN_ORDER = ("fix-encoding", "normalize-script", "strip-boilerplate", "dedup-paragraphs", "dedup-articles")


class ChainAction:
    """What an action command returns; ``execute`` runs it and returns the exit code."""

    name = "action"

    def execute(self, steps: list[Step], options: RunOptions, ctx: click.Context) -> int:
        raise NotImplementedError


def find_action(items: list[object]) -> ChainAction | None:
    actions = [item for item in items if isinstance(item, ChainAction)]
    if len(actions) > 1:
        names = " and ".join(action.name for action in actions)
        raise click.UsageError(f"{names} cannot be used in the same chain")
    return actions[0] if actions else None


def on_command_line(ctx: click.Context, name: str) -> bool:
    """Whether the group option ``name`` was typed, not read from vocclean.toml or VOCCLEAN_*.

    Actions refuse a cleaning run's option typed with them (``check --rejects``) but leave it
    alone when it comes from settings a corpus repository pins for its cleaning runs.
    """
    return ctx.find_root().get_parameter_source(name) == ParameterSource.COMMANDLINE


def default_steps(ctx: click.Context, inputs: tuple[str, ...], learn: bool | None = None) -> list[Step]:
    """Every step in clean's order, built by its command with no arguments (settings apply).

    ``learn`` forces strip-boilerplate's learning on or off; by default, as ``clean``
    does, it learns when every input is a file, unless a setting (config file,
    environment) says whether to learn.
    """
    root = ctx.find_root()
    group = root.command
    assert isinstance(group, click.Group)
    steps: list[Step] = []
    for name in CLEAN_ORDER:
        command = group.commands[name]
        arguments = []
        if name == "strip-boilerplate" and learn is not None:
            arguments = ["--learn" if learn else "--no-learn"]
        sub = command.make_context(name, arguments, parent=root)
        auto_learn = name == "strip-boilerplate" and learn is None and "-" not in inputs
        if auto_learn and sub.get_parameter_source("learn") == ParameterSource.DEFAULT:
            sub = command.make_context(name, ["--learn"], parent=root)
        with sub:
            built = command.invoke(sub)
        steps.extend(built if isinstance(built, list) else [built])
    return steps


def run_action(
    action: ChainAction,
    items: list[object],
    options: RunOptions,
    ctx: click.Context,
    reports: tuple[str, ...],
) -> int:
    """Run ``action`` over the chain's other steps; its exit code."""
    if reports and on_command_line(ctx, "report"):
        raise click.UsageError(f"--report is for cleaning runs; {action.name} prints its own output")
    steps = [item for item in items if item is not action]
    return action.execute(steps, options, ctx)  # type: ignore[arg-type]
