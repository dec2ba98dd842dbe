"""The rule codes. ``CC1xx``: static rules (the saved file only); ``CC2xx``:
``--execute`` rules (a fresh restart-and-run-all compared with the file).

Codes are stable: CI configurations refer to them (``--ignore CC105``).
docs/check.md explains each with a passing and a failing example.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str


_RULES = [
    Rule("CC101", "ran-before-its-input", "ran before the cell above it reads from was last run"),
    Rule("CC102", "reads-name-defined-below", "reads a name only cells below it define"),
    Rule("CC103", "reads-undefined-name", "reads a name no cell of the notebook defines"),
    Rule("CC104", "source-changed", "its source changed after it ran"),
    Rule("CC105", "output-without-count", "has outputs but no execution count"),
    Rule("CC106", "read-from-below", "its last run read a value a cell below it had defined"),
    Rule("CC201", "stream-differs", "printed text (stdout/stderr) differs from a fresh run"),
    Rule("CC202", "result-differs", "a displayed value (text/plain) differs from a fresh run"),
    Rule("CC203", "error-differs", "raised where a fresh run does not, or the other way round"),
    Rule("CC204", "image-differs", "an image differs from a fresh run (content hash)"),
    Rule("CC205", "outputs-differ", "other outputs differ from a fresh run (kinds or count)"),
    Rule("CC206", "not-run", "a fresh run did not reach the cell (timeout or earlier error)"),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}
