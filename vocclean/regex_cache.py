"""Compiled regular expressions kept on disk between runs: ``compile`` is ``re.compile``, faster.

Python compiles a pattern in every process, and strip-boilerplate compiles
many large ones: its rule packs at start-up, and an alternation per first
character and length on first use (xwlb, ``clean -j 1``: 229 compiles,
0.19 s of 3 s; each ``-j`` worker of the cleaning pass compiles its own
alternations again). What ``re`` builds from a pattern is its parsed
program (a list of integers) and the group names; this module keeps those
in a file per pattern, and a later compile of the same pattern in any
process builds the pattern object from the file without parsing it. The
large character classes that ``vocclean.text`` modules compile at import
(punctuation, hanzi, script, mojibake, junk, damage: 0.04 s of every
start) come from here too.

Safe by construction: a program is written only when the pattern built from
it equals the one ``re.compile`` makes (patterns compare their flags,
program and source), and the directory's name carries the interpreter's
build and the regex engine's version, so another Python never reads it. A
file that does not load is compiled again and replaced; an unwritable
directory only costs the compile. Where (``$VOCCLEAN_CACHE_DIR``, ``off``):
as ``vocclean.table_cache``, under ``regex-<digest>/``. The files depend
only on the patterns (the rule packs in use): a few KB each, and the
directory can be deleted at any time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from array import array
from pathlib import Path

from vocclean.table_cache import cache_dir, write_atomically

try:  # the engine ``re.compile`` uses (CPython); without it, this module only calls ``re.compile``
    import _sre
    from re import _compiler, _parser
except ImportError:  # pragma: no cover - other interpreters
    _sre = None


@functools.lru_cache(maxsize=4096)  # as re.compile's own cache: a pattern compiled twice is read once
def compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, from the disk cache when the pattern was compiled before."""
    path = _entry_path(pattern, flags)
    compiled = _load(path, pattern) if path is not None else None
    if compiled is None:
        compiled = re.compile(pattern, flags)
        if path is not None:
            _store(path, pattern, flags, compiled)
    return compiled


# The interpreter's build and its regex engine's version name the directory: another Python never reads it.
_ENGINE = (
    None
    if _sre is None
    else hashlib.sha256(
        f"{sys.version}\0{sys.implementation.cache_tag}\0{_sre.MAGIC}\0{_sre.CODESIZE}".encode()
    ).hexdigest()[:16]
)


def _directory() -> Path | None:
    base = cache_dir()
    if base is None or _ENGINE is None:
        return None
    return base / f"regex-{_ENGINE}"


def _entry_path(pattern: str, flags: int) -> Path | None:
    directory = _directory()
    if directory is None:
        return None
    name = hashlib.sha256(f"{flags}\0{pattern}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return directory / f"{name}.sre"


def _parts(pattern: str, flags: int) -> tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]:
    """What ``re._compiler.compile`` hands to ``_sre.compile``: flags, program, groups, names."""
    parsed = _parser.parse(pattern, flags)
    code = _compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    return flags | parsed.state.flags, code, parsed.state.groups - 1, groupindex, tuple(indexgroup)


def _build(pattern: str, parts: tuple) -> re.Pattern[str]:
    final_flags, code, groups, groupindex, indexgroup = parts
    return _sre.compile(pattern, final_flags, code, groups, groupindex, indexgroup)


def _load(path: Path, pattern: str) -> re.Pattern[str] | None:
    try:
        data = path.read_bytes()
        header, _, program = data.partition(b"\n")
        meta = json.loads(header)
        code = array("I")
        code.frombytes(program)
        parts = (meta["flags"], code.tolist(), meta["groups"], meta["groupindex"], tuple(meta["indexgroup"]))
        return _build(pattern, parts)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError):
        return None  # absent, truncated or not ours: compiled again


def _store(path: Path, pattern: str, flags: int, compiled: re.Pattern[str]) -> None:
    try:
        parts = _parts(pattern, flags)
        if _build(pattern, parts) != compiled:
            return  # this interpreter's re builds patterns another way: nothing is kept
        final_flags, code, groups, groupindex, indexgroup = parts
        meta = {"flags": final_flags, "groups": groups, "groupindex": groupindex, "indexgroup": indexgroup}
        data = json.dumps(meta).encode() + b"\n" + array("I", code).tobytes()
        write_atomically(path, lambda stream: stream.write(data))
    except (OSError, ValueError, TypeError, RuntimeError, AttributeError, OverflowError):
        return  # a read-only disk, or an re without these internals: the pattern was compiled anyway
