"""A saved .ipynb as plain data: what each code cell claims about its last run.

Only what the check reads is kept: sources, execution counts, outputs, tags,
the kernel's language and our persisted metadata. Markdown and raw cells keep
their place (indexes are positions in the notebook's ``cells`` list) but are
otherwise ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class NotebookError(Exception):
    """The file cannot be read as a notebook (missing, not JSON, not nbformat 4)."""


@dataclass(frozen=True)
class Cell:
    """One code cell as saved."""

    index: int
    id: str | None
    source: str
    execution_count: int | None
    outputs: tuple[Mapping[str, Any], ...]
    tags: frozenset[str] = frozenset()

    @property
    def ran(self) -> bool:
        """Whether the cell claims anything: a count or some output."""
        return self.execution_count is not None or bool(self.outputs)

    @property
    def errors(self) -> list[Mapping[str, Any]]:
        return [o for o in self.outputs if o.get("output_type") == "error"]


@dataclass(frozen=True)
class SavedNotebook:
    path: str
    cells: tuple[Cell, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def language(self) -> str:
        """The kernel's language, lower case; "python" when the file does not say."""
        for key in ("kernelspec", "language_info"):
            section = self.metadata.get(key)
            if isinstance(section, Mapping):
                name = section.get("language" if key == "kernelspec" else "name")
                if isinstance(name, str) and name:
                    return name.lower()
        return "python"

    @property
    def kernel_name(self) -> str:
        spec = self.metadata.get("kernelspec")
        name = spec.get("name") if isinstance(spec, Mapping) else None
        return name if isinstance(name, str) and name else "python3"


def read_notebook(path: str | Path) -> SavedNotebook:
    """Read ``path``; :class:`NotebookError` says in one line why it is not a notebook."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise NotebookError(f"{path}: cannot read: {error}") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(f"{path}: not JSON ({error})") from error
    return notebook_from_dict(data, str(path))


def notebook_from_dict(data: Any, path: str = "<notebook>") -> SavedNotebook:
    """A notebook from its parsed JSON (nbformat 4)."""
    if not isinstance(data, Mapping) or "nbformat" not in data:
        raise NotebookError(f"{path}: not a notebook (no 'nbformat' key)")
    if data.get("nbformat") == 3:
        data = _upgrade_v3(data, path)
    if data.get("nbformat") != 4:
        version = data.get("nbformat")
        raise NotebookError(f"{path}: nbformat {version!r} is not supported (3 and 4 are)")
    if not isinstance(data.get("cells"), list):
        raise NotebookError(f"{path}: not a notebook (no 'cells' list)")
    cells = []
    for index, raw in enumerate(data["cells"]):
        if not isinstance(raw, Mapping):
            raise NotebookError(f"{path}: cell {index} is not an object")
        if raw.get("cell_type") == "code":
            cells.append(_code_cell(index, raw, path))
    metadata = data.get("metadata")
    return SavedNotebook(path, tuple(cells), metadata if isinstance(metadata, Mapping) else {})


def _upgrade_v3(data: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    import nbformat  # only for old files

    try:
        return dict(nbformat.convert(nbformat.from_dict(data), 4))
    except Exception as error:
        raise NotebookError(f"{path}: malformed nbformat 3 notebook ({error})") from error


def _code_cell(index: int, raw: Mapping[str, Any], path: str) -> Cell:
    count = raw.get("execution_count")
    outputs = raw.get("outputs") or []
    if not isinstance(outputs, list) or not all(isinstance(o, Mapping) for o in outputs):
        raise NotebookError(f"{path}: cell {index} has malformed outputs")
    metadata = raw.get("metadata")
    tags = metadata.get("tags", []) if isinstance(metadata, Mapping) else []
    cell_id = raw.get("id")
    return Cell(
        index=index,
        id=cell_id if isinstance(cell_id, str) else None,
        source=join_text(raw.get("source", "")),
        execution_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        outputs=tuple(outputs),
        tags=frozenset(t for t in tags if isinstance(t, str))
        if isinstance(tags, list)
        else frozenset(),
    )


def join_text(value: Any) -> str:
    """nbformat multiline strings are a string or a list of strings."""
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    return value if isinstance(value, str) else ""
