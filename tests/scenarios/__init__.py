"""Scenario suite: DESIGN §2 semantics through the real server, judged by restart-and-run-all."""

from __future__ import annotations

from . import basics, control, data, functions, magics, paths, syntax, variants
from .table import Scenario

ALL_SCENARIOS: list[Scenario] = [
    *basics.SCENARIOS,
    *paths.SCENARIOS,
    *functions.SCENARIOS,
    *syntax.SCENARIOS,
    *data.SCENARIOS,
    *magics.SCENARIOS,
    *variants.SCENARIOS,
    *control.SCENARIOS,
]
