"""Comparing a cell's saved outputs with a fresh run's, as ``--execute`` does.

Outputs are reduced to what a reader sees and a rerun must reproduce:
printed text per stream, the ``text/plain`` of each displayed value, each
image's content hash, and each error's ``ename``/``evalue``. Execution
counts inside outputs, metadata and other mimetypes' markup are not compared.

One known-volatile difference is ignored, where it is justified: memory
addresses in reprs (``<object at 0x7f3a...>``) change from process to process
whatever the notebook does, so every ``0x`` + 6 or more hex digits is compared
as ``0x…``. Cells whose source uses the timing magics (``%time``, ``%timeit``)
have their streams skipped: they print measured durations.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .notebook import join_text

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
_TIMING = re.compile(r"^\s*%{1,2}(?:time|timeit)\b", re.M)
_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml", "image/bmp")


def normalize(text: str) -> str:
    return _ADDRESS.sub("0x…", text)


def uses_timing(source: str) -> bool:
    return _TIMING.search(source) is not None


@dataclass
class Seen:
    """What a reader sees of a cell's outputs."""

    streams: dict[str, str] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    #: mimetype sets of displayed values with neither text/plain nor an image
    other: list[tuple[str, ...]] = field(default_factory=list)


def seen(outputs: Iterable[Mapping[str, Any]]) -> Seen:
    view = Seen()
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            name = str(output.get("name", "stdout"))
            view.streams[name] = view.streams.get(name, "") + join_text(output.get("text", ""))
        elif kind in ("display_data", "execute_result"):
            _display(view, output.get("data") or {})
        elif kind == "error":
            view.errors.append(
                (str(output.get("ename", "")), normalize(str(output.get("evalue", ""))))
            )
    view.streams = {name: normalize(text) for name, text in view.streams.items() if text}
    return view


def _display(view: Seen, data: Mapping[str, Any]) -> None:
    images = [mime for mime in _IMAGES if mime in data]
    if images:
        payload = join_text(data[images[0]])
        if images[0] != "image/svg+xml":
            payload = "".join(payload.split())  # base64 line breaks differ by writer
        view.images.append(hashlib.sha1(payload.encode("utf-8")).hexdigest()[:12])
    elif "text/plain" in data:
        view.values.append(normalize(join_text(data["text/plain"])))
    else:
        view.other.append(tuple(sorted(data)))


@dataclass(frozen=True)
class Difference:
    rule: str
    message: str


def differences(
    saved: Sequence[Mapping[str, Any]], fresh: Sequence[Mapping[str, Any]], source: str
) -> list[Difference]:
    """How a fresh run's outputs differ from the saved ones (empty: the same)."""
    old, new = seen(saved), seen(fresh)
    found = []
    if not uses_timing(source):
        for name in sorted(set(old.streams) | set(new.streams)):
            before, after = old.streams.get(name, ""), new.streams.get(name, "")
            if before != after:
                found.append(Difference("CC201", f"{name} differs: {_change(before, after)}"))
    if old.errors != new.errors:
        found.append(
            Difference("CC203", f"error differs: {_errors(old)} saved, {_errors(new)} fresh")
        )
    if old.values != new.values:
        found.append(
            Difference(
                "CC202", f"displayed value differs: {_change(_join(old.values), _join(new.values))}"
            )
        )
    if old.images != new.images:
        found.append(
            Difference(
                "CC204",
                f"images differ: {len(old.images)} saved, {len(new.images)} fresh "
                f"(content hashes {old.images} vs {new.images})",
            )
        )
    if old.other != new.other:
        found.append(
            Difference(
                "CC205", f"other displayed outputs differ: {old.other} saved, {new.other} fresh"
            )
        )
    return found


def _join(values: Sequence[str]) -> str:
    return "\n".join(values)


def _errors(view: Seen) -> str:
    if not view.errors:
        return "none"
    return "; ".join(f"{name}: {value}" for name, value in view.errors)


def _change(before: str, after: str, width: int = 60) -> str:
    """The first differing line, saved then fresh."""
    old, new = before.splitlines(), after.splitlines()
    for i in range(max(len(old), len(new))):
        a = old[i] if i < len(old) else "<nothing>"
        b = new[i] if i < len(new) else "<nothing>"
        if a != b:
            return f"line {i + 1}: saved {a[:width]!r}, fresh {b[:width]!r}"
    return "whitespace only"
