"""ipyflow's own tests, ported case by case onto our interfaces (see MAPPING.md)."""

from __future__ import annotations

from . import table_frontend

ALL_CASES = [*table_frontend.CASES]
