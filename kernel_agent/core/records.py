"""A cell's run record: what its last run read and wrote, and when.

The agent makes one per run and reports it; the server's graph replica is
built from the same records. Here too what planning sees of a record at
once (:func:`effects_signature`, :func:`reads_history`). Pure data, stdlib only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


def is_history(path: str) -> bool:
    """IPython's output history: ``_``, ``__``, ``___``, ``_N``, ``Out[N]``."""
    return path.startswith("Out[") or (path.startswith("_") and path.strip("_0123456789") == "")


@dataclass
class CellRecord:
    """What the last run of one cell read and wrote, and when."""

    cell_id: str
    ts: int
    code: str
    uses: frozenset[str]
    defines: frozenset[str]
    ok: bool = True
    execution_count: int | None = None
    #: paths this run rebound whole (a subset of ``defines``): see :func:`.chains.kills`
    binds: frozenset[str] = frozenset()
    #: when the cell ran before this run (an in-place change applied twice shows here)
    prev_ts: int | None = None
    #: random generator state this run drew from (see :func:`.chains.unseeded`)
    draws: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.cell_id,
            "ts": self.ts,
            "code": self.code,
            "uses": sorted(self.uses),
            "defines": sorted(self.defines),
            "ok": self.ok,
            "execution_count": self.execution_count,
            "binds": sorted(self.binds),
            "prev_ts": self.prev_ts,
            "draws": sorted(self.draws),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellRecord:
        return cls(
            cell_id=str(data["id"]),
            ts=int(data["ts"]),
            code=str(data["code"]),
            uses=frozenset(data["uses"]),
            defines=frozenset(data["defines"]),
            ok=bool(data.get("ok", True)),
            execution_count=data.get("execution_count"),
            binds=frozenset(data.get("binds") or ()),
            prev_ts=data.get("prev_ts"),
            draws=frozenset(data.get("draws") or ()),
        )


def effects_signature(record: CellRecord) -> str:
    """What a run read and wrote, as planning sees it, in one short string.

    IPython's output history is left out: its names carry the execution count,
    which differs on every run (planning ahead is off where a cell reads it).
    """
    parts = [
        sorted(record.uses),
        sorted(path for path in record.defines if not is_history(path)),
        sorted(path for path in record.binds if not is_history(path)),
        sorted(record.draws),
    ]
    return hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:20]


def reads_history(records: Iterable[CellRecord]) -> bool:
    """Whether a run read IPython's output history (``_``, ``Out[3]``)."""
    return any(is_history(path) for record in records for path in record.uses)
