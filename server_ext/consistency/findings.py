"""What the check reports: findings per notebook, in a shape that is stable JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .notebook import Cell
from .rules import RULES


@dataclass(frozen=True)
class CellRef:
    """A cell other than the reported one, involved in the finding."""

    id: str | None
    index: int
    execution_count: int | None

    @classmethod
    def of(cls, cell: Cell) -> CellRef:
        return cls(cell.id, cell.index, cell.execution_count)

    def label(self) -> str:
        count = "" if self.execution_count is None else f" [{self.execution_count}]"
        return f"cell {self.index}{count}"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "index": self.index, "execution_count": self.execution_count}


@dataclass(frozen=True)
class Finding:
    """One code cell whose saved output cannot be what restart-and-run-all shows."""

    rule: str
    cell: CellRef
    message: str
    #: the other cells involved (definers, readers), in notebook order
    cells: tuple[CellRef, ...] = ()
    #: the dependency that explains it (symbol paths), if any
    symbols: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": RULES[self.rule].name,
            "cell": self.cell.id,
            "index": self.cell.index,
            "execution_count": self.cell.execution_count,
            "cells": [ref.to_json() for ref in self.cells],
            "symbols": list(self.symbols),
            "message": self.message,
        }


@dataclass
class NotebookReport:
    path: str
    findings: list[Finding] = field(default_factory=list)
    #: why the notebook could not be checked (unreadable); then findings is empty
    error: str | None = None
    executed: bool = False
    #: notes that are not findings (e.g. "not a Python kernel: dependency rules skipped")
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "error": self.error,
            "executed": self.executed,
            "notes": list(self.notes),
            "findings": [f.to_json() for f in self.findings],
        }
