"""Ctrl-C at a moment of our choosing: SIGINT held back while Python imports and forks.

A KeyboardInterrupt raised inside an import can leave a C extension half
loaded (opencc's then reports an ImportError), be swallowed by the module
being imported (NumPy's random: the run then finished as if nothing had
happened), or end in click's "Aborted!" while it parses the command line; a
worker forked a moment before it set SIGINT aside dies of it, and the pool
with it. So the command holds SIGINT back (``hold``) from its first line
until the run starts (``release``: a Ctrl-C pressed meanwhile is raised
there, where it ends as every interrupt does, exit 130), and a pool forks its
workers with SIGINT held (``held``), which each worker then ignores.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

_SIGINT = {signal.SIGINT}
# Windows has no signal masks: there nothing is held (the entry point's KeyboardInterrupt guard
# covers the imports).
_MASKS = hasattr(signal, "pthread_sigmask")


def hold() -> None:
    if _MASKS:
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGINT)


def release() -> None:
    """Let SIGINT in again; one that arrived while held is raised now (KeyboardInterrupt)."""
    if _MASKS:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGINT)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """SIGINT held for the time of the block (then as it was before: a held one stays held)."""
    if not _MASKS:
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGINT)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


@contextlib.contextmanager
def ignored_by_children() -> Iterator[None]:
    """Processes started in the block ignore SIGINT (an ignored signal stays ignored across exec,
    and Python keeps it so), so only this process hears a Ctrl-C and stops them. SIGINT is held
    meanwhile: one that arrives is kept pending (Linux never discards a blocked signal) and raised
    when the block ends. Call it from the main thread.
    """
    with held():
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a job scheduler), raised as an interrupt: the run then ends
    as on Ctrl-C (temporary files removed, workers stopped), with exit 143."""


def terminate_as_interrupt() -> None:
    """From now on SIGTERM raises ``Terminated`` in the main thread (call it from there), and no
    interrupt is dropped: one raised inside a ``__del__`` or a gc callback, which Python prints
    ("Exception ignored in ...") and drops, is raised again as soon as that code returns (a
    distributed Future's ``__del__`` once swallowed a Ctrl-C, and the run went on to exit 0)."""
    signal.signal(signal.SIGTERM, _raise_terminated)
    if sys.unraisablehook is not _raise_again:
        global _next_hook
        _next_hook = sys.unraisablehook
        sys.unraisablehook = _raise_again


_next_hook = sys.unraisablehook


def _raise_again(unraisable: Any) -> None:
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        # Sent again from another thread, to the main thread, once this hook has returned: raised
        # in the hook (raise_signal runs the handler at once) it would be dropped too.
        signum = signal.SIGTERM if isinstance(unraisable.exc_value, Terminated) else signal.SIGINT
        threading.Thread(
            target=_send_later, args=(threading.main_thread().ident, signum), daemon=True
        ).start()
        return
    _next_hook(unraisable)


def _send_later(thread: int, signum: int) -> None:
    time.sleep(0.01)  # the hook has returned by then
    signal.pthread_kill(thread, signum)


def _raise_terminated(_signum: int, _frame: object) -> None:
    raise Terminated


def keep_note(interrupt: KeyboardInterrupt, kept: str) -> None:
    """Say what an interrupted run keeps (batch mode: its finished files), for the last message."""
    interrupt.kept = kept  # type: ignore[attr-defined]
