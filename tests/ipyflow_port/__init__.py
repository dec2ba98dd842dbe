"""ipyflow's own tests, ported case by case onto our interfaces (see MAPPING.md)."""

from __future__ import annotations

from . import differences, table_frontend, table_slicing, table_staleness

ALL_CASES = differences.apply([*table_frontend.CASES, *table_staleness.CASES, *table_slicing.CASES])
