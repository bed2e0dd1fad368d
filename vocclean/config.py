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

A string for a repeatable option is one value: ``input = "my corpus/"`` is
``input = ["my corpus/"]``. A value of the wrong TOML type (``annotate = 1``)
is refused, not converted.

Environment variables are ``VOCCLEAN_<KEY>`` for global options and
``VOCCLEAN_<COMMAND>_<KEY>`` for a command's, where KEY is the option's config
key (its first long option) upper-cased with ``-`` as ``_``: ``VOCCLEAN_INPUT``,
``VOCCLEAN_CHECK_FORMAT``. The spelling click would derive from the Python
parameter name (``VOCCLEAN_INPUTS``) is read too, after the documented one.
Both sources are wired through click's ``default_map`` and ``envvar``, so
every option of every command, present or future, takes part, and click
converts and checks the values as it does on the command line; a bad value
names the file and key, or the variable, it came from.
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
    """A setting that cannot be used: bad TOML, an unknown command or option, a bad value (exit 2)."""

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
            if command is None and key in option_keys(group):
                raise ConfigError(
                    f"{config.label}: [{key}]: {key} is an option, not a command: "
                    f"set it at the top level as {key} = VALUE"
                )
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
        values[name] = _config_value(command, params[name], value, f"{where}: {key}")
    return values


def _config_value(command: click.Command, param: click.Option, value: Any, where: str) -> Any:
    """The value for click, checked now (TOML type, then as click will) so that a bad one names its key."""
    if param.multiple and isinstance(value, str):
        value = [value]  # one value, not split on spaces as an environment variable is
    types, one, many, listed = _expected_type(param)
    items = value if listed and isinstance(value, list) else [value]
    if (param.multiple and not isinstance(value, list)) or not all(_is(item, types) for item in items):
        what = f"{one} or a list of {many}" if listed else one
        raise ConfigError(f"{where}: expected {what}, not {_shown(value)}")
    try:
        param.process_value(click.Context(command), value)
    except click.BadParameter as exc:
        raise ConfigError(f"{where}: {exc.message}") from None
    return value


# click's types, the TOML type of their values, and its name for one value and for several.
TOML_TYPES = [
    (click.types.BoolParamType, (bool,), "true or false", "booleans"),
    (click.types.IntParamType, (int,), "an integer", "integers"),
    (click.types.FloatParamType, (int, float), "a number", "numbers"),
    (click.types.StringParamType | click.Choice | click.Path | click.File, (str,), "a string", "strings"),
]


def _expected_type(param: click.Option) -> tuple[tuple[type, ...], str, str, bool]:
    """The TOML type of a setting's values, its names, and whether a list of values is allowed."""
    for kind, types, one, many in TOML_TYPES:
        if isinstance(param.type, kind):
            return types, one, many, param.multiple or param.nargs != 1
    return (str,), "a string", "strings", True  # vocclean's own types (--fail-on) take a list, and check it


def _is(value: Any, types: tuple[type, ...]) -> bool:
    # TOML's true is a Python int too; it is no number here, and 1 is no boolean.
    return isinstance(value, types) and (isinstance(value, bool) == (bool in types))


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    return _toml_value(value) if isinstance(value, str | int | float | list) else str(value)


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


def name_variables(group: click.Group) -> None:
    """Give every setting its environment variables: the documented one (from its config key), then
    the one click derives from the parameter name, where that differs (read for existing users)."""
    commands = [(ENV_PREFIX, group), *((f"{ENV_PREFIX}_{n}", c) for n, c in group.commands.items())]
    for prefix, command in commands:
        for param in _settings(command):
            if param.envvar is None and param.allow_from_autoenv:
                names = [f"{prefix}_{_key(param)}", f"{prefix}_{param.name}"]
                param.envvar = list(dict.fromkeys(n.upper().replace("-", "_") for n in names))


def env_variable(param: click.Option) -> str | None:
    """The variable a setting's value was read from: the first of its variables that is set."""
    names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or [])
    return next((name for name in names if os.environ.get(name)), None)


def named_variable(exc: click.BadParameter) -> click.ClickException:
    """``exc`` naming the environment variable its value came from, if it did. (A config file's values
    are checked, naming the file and key, before click parses anything.)"""
    ctx, param = exc.ctx, exc.param
    if ctx is None or not isinstance(param, click.Option) or not param.name:
        return exc
    if ctx.get_parameter_source(param.name) != ParameterSource.ENVIRONMENT:
        return exc
    option = "/".join(param.opts) if ctx.parent is None else f"{ctx.info_name} {'/'.join(param.opts)}"
    return ConfigError(f"environment variable {env_variable(param)} ({option}): {exc.message}")


class ConfiguredGroup(click.Group):
    """A click group that reads the config file and the environment when it starts."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        config = None
        if parent is None:
            name_variables(self)
            config = find_config()
            extra.setdefault("auto_envvar_prefix", ENV_PREFIX)
            if config is not None and "default_map" not in extra:
                extra["default_map"] = default_map(self, config)
        arguments = list(args)
        try:
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        except click.BadParameter as exc:
            raise named_variable(exc) from None
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
        try:
            return super().invoke(ctx)
        except click.BadParameter as exc:  # a chained command's option, parsed here
            raise named_variable(exc) from None


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
        sub = given.get(name) or _settings_context(command, name, [], ctx)
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
        sub = _settings_context(command, name, args, ctx)
        args, sub.args = sub.args, []
        contexts.setdefault(name, sub)
    return contexts


def _settings_context(
    command: click.Command, name: str, args: list[str], parent: click.Context
) -> click.Context:
    """``command`` parsed as a run would parse it (an unknown option or a bad value is an error), except
    that a required option may be missing: --show-config shows it as not set."""
    extra = {"allow_extra_args": True, "allow_interspersed_args": False}
    try:
        return command.make_context(name, list(args), parent=parent, **extra)
    except click.MissingParameter:
        return command.make_context(name, list(args), parent=parent, resilient_parsing=True, **extra)


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
        return f"environment {env_variable(param)}"
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
