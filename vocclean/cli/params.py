"""Option types shared by the step commands."""

from __future__ import annotations

import math
from typing import Any

import click


class Ratio(click.FloatRange):
    """A number in a range, as click's FloatRange, but never ``nan``: every comparison with it is false,
    so FloatRange lets it through, and a threshold of nan matches nothing (or fails deep in a step)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number", param, ctx)
        return number
