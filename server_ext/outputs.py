"""Turning a run's iopub messages into nbformat outputs, as a frontend would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}


@dataclass
class OutputCollector:
    """Accumulates one cell run's outputs (stream merging, clear_output, display ids)."""

    outputs: list[dict[str, Any]] = field(default_factory=list)
    execution_count: int | None = None
    _clear_on_next: bool = False

    def add(self, msg: dict[str, Any]) -> bool:
        """Apply one iopub message; True when the outputs changed."""
        kind, content = msg.get("msg_type"), msg.get("content", {})
        if kind == "execute_input":
            self.execution_count = content.get("execution_count")
            return False
        if kind == "clear_output":
            if content.get("wait"):
                self._clear_on_next = True
                return False
            self.outputs = []
            return True
        if kind == "update_display_data":
            return self._update_display(content)
        if kind not in OUTPUT_TYPES:
            return False
        if self._clear_on_next:
            self.outputs, self._clear_on_next = [], False
        self._append(kind, content)
        return True

    def _append(self, kind: str, content: dict[str, Any]) -> None:
        if kind == "stream":
            last = self.outputs[-1] if self.outputs else None
            if last and last["output_type"] == "stream" and last["name"] == content["name"]:
                last["text"] += content.get("text", "")
            else:
                self.outputs.append(
                    {"output_type": "stream", "name": content["name"], "text": content["text"]}
                )
        elif kind == "error":
            self.outputs.append(
                {
                    "output_type": "error",
                    "ename": content.get("ename", ""),
                    "evalue": content.get("evalue", ""),
                    "traceback": list(content.get("traceback", [])),
                }
            )
        else:
            output = {
                "output_type": kind,
                "data": content.get("data", {}),
                "metadata": content.get("metadata", {}),
            }
            if kind == "execute_result":
                output["execution_count"] = content.get("execution_count")
            display_id = (content.get("transient") or {}).get("display_id")
            if display_id:
                output["_display_id"] = display_id
            self.outputs.append(output)

    def _update_display(self, content: dict[str, Any]) -> bool:
        display_id = (content.get("transient") or {}).get("display_id")
        changed = False
        for output in self.outputs:
            if display_id and output.get("_display_id") == display_id:
                output["data"] = content.get("data", {})
                output["metadata"] = content.get("metadata", {})
                changed = True
        return changed

    def nbformat_outputs(self) -> list[dict[str, Any]]:
        """The outputs as stored in a .ipynb (no private display-id keys)."""
        return [{k: v for k, v in out.items() if k != "_display_id"} for out in self.outputs]
