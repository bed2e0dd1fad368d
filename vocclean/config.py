"""Settings from files and the environment, under the command line.

Precedence, highest first: the command line, ``VOCCLEAN_*`` environment
variables, ``vocclean.toml`` in the working directory (or, when there is none,
the ``[tool.vocclean]`` table of ``pyproject.toml`` there), the defaults.

A config file holds the global options at its top level and one table per
command, keyed by the option's long name::

    input = ["corpus/"]
    rejects = "rejects.jsonl"

    [check]
    max-boilerplate-rate = 0.02
    fail-on = ["invalid-record", "mojibake"]

    [dedup-articles]
    threshold = 0.8

Environment variables are click's: ``VOCCLEAN_<OPTION>`` for global options
and ``VOCCLEAN_<COMMAND>_<OPTION>`` for a command's (``-`` becomes ``_``), e.g.
``VOCCLEAN_REJECTS``, ``VOCCLEAN_CHECK_MAX_DUPLICATE_RATE``. Both are wired
through click's ``default_map`` and ``auto_envvar_prefix``, so every option of
every command, present or future, takes part, and click converts and checks
the values as it does on the command line.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

CONFIG_NAME = "vocclean.toml"
ENV_PREFIX = "VOCCLEAN"
META_CONFIG, META_ARGS, META_CHAIN = "vocclean.config", "vocclean.args", "vocclean.chain"
# Options that are actions, not settings.
NOT_SETTINGS = frozenset({"help", "version", "show_config"})
ALIGN_MAX = 40  # --show-config aligns the origins up to this column


class ConfigError(click.ClickException):
    """A config file that cannot be used: bad TOML, an unknown command or option (exit 2)."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"vocclean: {self.format_message()}", err=True)


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    label: str  # how --show-config names it
    table: dict[str, Any]


def find_config(directory: str | Path | None = None) -> ConfigFile | None:
    """``vocclean.toml`` in ``directory`` (default: the working directory), else pyproject's table."""
    directory = Path(directory or os.getcwd())
    own = directory / CONFIG_NAME
    if own.is_file():
        return ConfigFile(own, CONFIG_NAME, _read_toml(own))
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("vocclean")
        if isinstance(table, dict):
            return ConfigFile(pyproject, "pyproject.toml [tool.vocclean]", table)
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def default_map(group: click.Group, config: ConfigFile) -> dict[str, Any]:
    """The config as click's ``default_map``: group options by name, one dict per command."""
    result: dict[str, Any] = {}
    for key, value in config.table.items():
        if isinstance(value, dict):
            command = group.commands.get(key)
            if command is None:
                known = ", ".join(sorted(group.commands))
                raise ConfigError(f"{config.label}: [{key}]: no such command (commands: {known})")
            result[key] = _option_values(command, value, f"{config.label}: [{key}]")
        else:
            result.update(_option_values(group, {key: value}, config.label))
    return result


def _option_values(command: click.Command, table: dict[str, Any], where: str) -> dict[str, Any]:
    params = {str(p.name): p for p in _settings(command)}
    names = option_keys(command)
    values = {}
    for key, value in table.items():
        name = names.get(key)
        if name is None:
            known = ", ".join(sorted({_key(p) for p in _settings(command)}))
            raise ConfigError(f"{where}: unknown option {key!r} (options: {known})")
        if isinstance(value, dict):
            raise ConfigError(f"{where}: {key} must be a value, not a table")
        _check_value(params[name], value, f"{where}: {key}")
        values[name] = value
    return values


def _check_value(param: click.Option, value: Any, where: str) -> None:
    """Convert as click will, now, so that a bad value names the file and key it came from."""
    if isinstance(value, str) and (param.multiple or param.nargs != 1):
        value = param.type.split_envvar_value(value)
    try:
        param.type_cast_value(click.Context(click.Command(None)), value)
    except click.BadParameter as exc:
        raise ConfigError(f"{where}: {exc.message}") from None


def _settings(command: click.Command) -> list[click.Option]:
    return [
        p
        for p in command.params
        if isinstance(p, click.Option) and p.expose_value and p.name not in NOT_SETTINGS
    ]


def _key(param: click.Option) -> str:
    """The name a setting has in a config file: its first long option, without dashes."""
    long = [opt for opt in param.opts if opt.startswith("--")]
    return long[0][2:] if long else str(param.name).replace("_", "-")


def option_keys(command: click.Command) -> dict[str, str]:
    """Config key -> parameter name; a key may be the long option or the parameter name."""
    keys = {}
    for param in _settings(command):
        name = str(param.name)
        for key in (_key(param), name, name.replace("_", "-")):
            keys[key] = name
    return keys


class ConfiguredGroup(click.Group):
    """A click group that reads the config file and the environment when it starts."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        config = None
        if parent is None:
            config = find_config()
            extra.setdefault("auto_envvar_prefix", ENV_PREFIX)
            if config is not None and "default_map" not in extra:
                extra["default_map"] = default_map(self, config)
        arguments = list(args)
        ctx = super().make_context(info_name, args, parent=parent, **extra)
        ctx.meta[META_CONFIG] = config
        ctx.meta[META_ARGS] = arguments
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        # The chain's commands and their arguments, for --show-config (the group's callback
        # runs after click has taken them off the context).
        protected = getattr(ctx, "_protected_args", None)
        if protected is None:  # click < 8.2
            protected = ctx.protected_args
        ctx.meta[META_CHAIN] = [*protected, *ctx.args]
        return super().invoke(ctx)


def command_line(ctx: click.Context) -> list[str]:
    """The arguments the run was started with, for reports."""
    return ["vocclean", *ctx.find_root().meta.get(META_ARGS, [])]


# --- --show-config ----------------------------------------------------------------------------


def show_config(ctx: click.Context) -> str:
    """Every setting of the group and of each command: its effective value and where it came from."""
    group = ctx.command
    assert isinstance(group, click.Group)
    given = _chained_contexts(ctx, group)
    config: ConfigFile | None = ctx.meta.get(META_CONFIG)
    lines = [
        "# vocclean settings: the value in effect and where it comes from",
        "# (command line > VOCCLEAN_* environment > "
        + (f"{config.label} ({config.path})" if config else f"{CONFIG_NAME} or pyproject.toml (none found)")
        + " > default)",
        "",
    ]
    lines.extend(_section(ctx, config))
    for name in group.list_commands(ctx):
        command = group.commands[name]
        if not _settings(command):
            continue
        sub = given.get(name) or command.make_context(name, [], parent=ctx, resilient_parsing=True)
        lines.append("")
        lines.append(f"[{name}]")
        lines.extend(_section(sub, config))
    return "\n".join(lines) + "\n"


def _chained_contexts(ctx: click.Context, group: click.Group) -> dict[str, click.Context]:
    """Contexts of the commands named on the command line, parsed as the chain would parse them."""
    args = list(ctx.meta.get(META_CHAIN, []))
    contexts = {}
    while args:
        name, command, args = group.resolve_command(ctx, args)
        assert name is not None and command is not None
        sub = command.make_context(
            name,
            args,
            parent=ctx,
            allow_extra_args=True,
            allow_interspersed_args=False,
            resilient_parsing=True,
        )
        args, sub.args = sub.args, []
        contexts.setdefault(name, sub)
    return contexts


def _section(ctx: click.Context, config: ConfigFile | None) -> list[str]:
    rows = []
    for param in _settings(ctx.command):
        value = ctx.params.get(str(param.name))
        origin = _origin(ctx, param, config)
        if value is None or value == ():
            rows.append((f"# {_key(param)} is not set", origin))
        else:
            rows.append((f"{_key(param)} = {_toml_value(value)}", origin))
    width = min(max((len(text) for text, _ in rows), default=0), ALIGN_MAX)
    return [f"{text.ljust(width)}  # {origin}" for text, origin in rows]


def _origin(ctx: click.Context, param: click.Option, config: ConfigFile | None) -> str:
    source = ctx.get_parameter_source(str(param.name))
    if source == ParameterSource.COMMANDLINE:
        return "command line"
    if source == ParameterSource.ENVIRONMENT:
        name = param.envvar or f"{ctx.auto_envvar_prefix}_{str(param.name).upper()}"
        return f"environment {name}"
    if source == ParameterSource.DEFAULT_MAP:
        return config.label if config else "config"
    return "default"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple | frozenset | set):
        items = sorted(value) if isinstance(value, frozenset | set) else value
        return "[" + ", ".join(_toml_value(v) for v in items) + "]"
    return json.dumps(str(value), ensure_ascii=False)
