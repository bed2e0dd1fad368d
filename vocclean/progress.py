"""A progress line on stderr (records, MB, rate), shown only on a terminal."""

from __future__ import annotations

import sys
import time

from vocclean.messages import progress_line


class Progress:
    def __init__(self, enabled: bool | None, byte_count) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.byte_count = byte_count
        self.started = time.monotonic()
        self.next_update = self.started + 0.5
        self.shown = False

    def update(self, records: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now < self.next_update:
            return
        self.next_update = now + 0.5
        self._show(records, now)

    def _show(self, records: int, now: float) -> None:
        megabytes = self.byte_count.bytes / 1e6
        rate = megabytes / max(now - self.started, 1e-9)
        progress_line(f"{records:,} records  {megabytes:,.1f} MB  {rate:,.1f} MB/s ")
        self.shown = True

    def finish(self, records: int) -> None:
        if self.enabled:
            self._show(records, time.monotonic())
            progress_line(None)
