"""Where the time of a cascade goes in Lab (issue 24): a per-stage table.

For cascaded runs of a chain (after the timed repetitions, on the cascade
page, so the recording does not touch the timed rows), three clocks are put
on the page's ``performance.now()`` time line, with the keypress at 0:

- the page: the Shift+Enter keydown and the DOM change (as in the timed rows);
- Chromium's network stack, through CDP (``Network.webSocketFrameSent`` and
  ``Network.webSocketFrameReceived``, monotonic timestamps): the frame of the
  page's execute_request leaving, its execute_reply arriving, and the first
  collaboration (RTC, ``/api/collaboration/room/...``) frame that carries the
  last cell's new output. CDP's clock is mapped onto the page's with fetches
  made from the page (``performance.now()`` just before ``fetch`` against
  ``Network.requestWillBeSent``; the smallest of several differences);
- the server: its ``server_ext.timeline`` lines (wall clock, µs), which the
  bench's cascade server writes to a file: the page's execute_request read,
  its execute_reply sent on, the shared-document write with the last output;
- the kernel: header dates (wall clock, µs) of the trigger's and the cascaded
  cells' ``status: busy``, ``execute_reply`` / ``execute_result`` and
  ``status: idle``, read from the kernel websocket frames the page receives
  (cascaded runs are broadcast on iopub; their execute_reply goes to the
  server's private client, so the cell's ``execute_result`` stands in for
  it), mapped with ``performance.timeOrigin``.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from .pages import NotebookPage

CHANNELS = {"shell", "iopub", "control", "stdin"}


def kernel_message(data: bytes) -> dict[str, Any] | None:
    """A ``v1.kernel.websocket.jupyter.org`` frame as {channel, header, parent, content}."""
    if len(data) < 16:
        return None
    count = int.from_bytes(data[:8], "little")
    if not 5 <= count <= 64 or len(data) < 8 * (count + 1):
        return None
    offsets = [int.from_bytes(data[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(count)]
    if offsets != sorted(offsets) or offsets[-1] > len(data):
        return None
    try:
        channel = data[offsets[0] : offsets[1]].decode()
        if channel not in CHANNELS:
            return None
        parts = [json.loads(data[offsets[i] : offsets[i + 1]]) for i in (1, 2, 4)]
    except ValueError:
        return None
    return {"channel": channel, "header": parts[0], "parent": parts[1], "content": parts[2]}


def kernel_ms(date: str, origin: float) -> float:
    """A kernel header date on the page's time line (ms since its time origin)."""
    return datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp() * 1000 - origin


class FrameLog:
    """CDP websocket frames and requests of one page, on the page's clock."""

    def __init__(self, page: NotebookPage) -> None:
        self.page = page
        self.frames: list[tuple[str, float, int, str]] = []
        self.requests: list[tuple[float, str]] = []
        self.cdp = page.page.context.new_cdp_session(page.page)
        for event, direction in (("Sent", "sent"), ("Received", "recv")):
            self.cdp.on(f"Network.webSocketFrame{event}", self._frame(direction))
        self.cdp.on(
            "Network.requestWillBeSent",
            lambda e: self.requests.append((e["timestamp"] * 1000, e["request"]["url"])),
        )
        self.cdp.send("Network.enable")
        self.offset = self._calibrate()
        self.origin = float(page.js("() => performance.timeOrigin"))
        #: the id of the chain's last cell (the server's time line names cells by id)
        self.last_cell = page.server.graph(page.path)["cells"][-1]["id"]

    def _frame(self, direction: str) -> Any:
        def record(event: dict[str, Any]) -> None:
            response = event["response"]
            self.frames.append(
                (direction, event["timestamp"] * 1000, response["opcode"], response["payloadData"])
            )

        return record

    def _pump(self, condition: Any, what: str) -> Any:
        for _ in range(2000):  # each evaluate lets Playwright deliver pending CDP events
            value = condition()
            if value is not None:
                return value
            self.page.js("() => new Promise(r => setTimeout(r, 5))")
        raise TimeoutError(what)

    def _calibrate(self) -> float:
        """CDP ms − page ms: min over fetches of (requestWillBeSent − now() before fetch)."""
        diffs = []
        for i in range(8):
            url = f"{self.page.server.url}api/status?bench-clock={i}"
            before = float(
                self.page.js("(u) => { const t = performance.now(); fetch(u); return t; }", url)
            )
            seen = self._pump(
                lambda u=url: next((ts for ts, r in self.requests if r == u), None), "fetch seen"
            )
            diffs.append(seen - before)
        return min(diffs)

    def drain(self) -> None:
        self.page.js("() => new Promise(r => setTimeout(r, 20))")

    def clear(self) -> None:
        self.frames.clear()

    def stages(self, t0: float, t1: float, sources: list[str], last_text: str) -> dict[str, float]:
        """ms after the keypress of each stage of the cascade that ended at ``t1``."""
        out: dict[str, float] = {}
        kernel: list[tuple[str, float, dict[str, Any]]] = []
        rtc_first = None
        needle = last_text.encode()
        for direction, ts, opcode, payload in self.frames:
            page_ms = ts - self.offset
            if opcode != 2:
                continue
            data = base64.b64decode(payload)
            msg = kernel_message(data)
            if msg is not None:
                kernel.append((direction, page_ms, msg))
            elif direction == "recv" and needle in data and rtc_first is None and page_ms >= t0:
                rtc_first = page_ms
        request = next(
            (
                (ms, m)
                for d, ms, m in kernel
                if d == "sent" and m["header"]["msg_type"] == "execute_request" and ms >= t0 - 1
            ),
            None,
        )
        if request is None:
            return out
        out["page's execute_request frame sent (CDP)"] = request[0]
        req_id = request[1]["header"]["msg_id"]
        runs: dict[str, dict[str, float]] = defaultdict(dict)  # parent msg_id → stage → ms
        cell_of: dict[str, int] = {}
        for d, ms, m in kernel:
            if d != "recv":
                continue
            kind, parent = m["header"]["msg_type"], m["parent"].get("msg_id")
            at = kernel_ms(m["header"]["date"], self.origin)
            if kind == "status":
                runs[parent].setdefault(m["content"]["execution_state"], at)
            elif kind == "execute_input" and m["content"]["code"] in sources:
                cell_of[parent] = sources.index(m["content"]["code"])
            elif kind in ("execute_reply", "execute_result"):
                runs[parent].setdefault(kind, at)
                if kind == "execute_reply" and parent == req_id:
                    out["A's execute_reply frame received (CDP)"] = ms
        trigger = runs.get(req_id, {})
        for stage in ("busy", "execute_reply", "idle"):
            if stage in trigger:
                out[f"A {stage} (kernel clock)"] = trigger[stage]
        last = len(sources) - 1
        cascaded = {cell_of[p]: runs[p] for p in cell_of if p != req_id}
        if 1 in cascaded and last != 1 and "busy" in cascaded[1]:
            out["cell 1 busy (kernel clock)"] = cascaded[1]["busy"]
        name = "B" if last == 1 else f"cell {last}"
        for stage in ("busy", "execute_result", "idle"):
            if stage in cascaded.get(last, {}):
                out[f"{name} {stage} (kernel clock)"] = cascaded[last][stage]
        self._server_stages(out, req_id, name, cascaded.get(last, {}).get("execute_result"))
        if rtc_first is not None:
            out[f"RTC frame with {name}'s output received (CDP)"] = rtc_first
        out[f"{name}'s output in the DOM (end of the timed row)"] = t1
        return {k: v - t0 for k, v in out.items()}

    def _server_stages(
        self, out: dict[str, float], req_id: str, name: str, result: float | None
    ) -> None:
        """The server's clock (``server_ext.timeline``): the page's request in, its reply
        out, and the shared-document write that carried the last cell's output."""
        for ts, what, ids in self.page.server.timeline():
            ms = ts * 1000 - self.origin
            if what == "request" and req_id in ids:
                out.setdefault("server reads A's execute_request (server clock)", ms)
            elif what == "reply" and req_id in ids:
                out.setdefault("server sends A's execute_reply on (server clock)", ms)
            elif (
                what == "write"
                and self.last_cell in ids
                and result is not None
                and ms >= result - 1  # the clocks are one, but rounded to µs and ms
            ):
                out.setdefault(f"shared-document write with {name}'s output (server clock)", ms)


def format_stages(title: str, rows: dict[str, list[float]]) -> str:
    """A small Markdown table: stage, median ms from the keypress, repetitions."""
    order = sorted(rows, key=lambda k: sorted(rows[k])[len(rows[k]) // 2])
    lines = [f"{title}", "", "| stage | median ms after the keypress | n |", "|---|---|---|"]
    lines.append("| Shift+Enter keydown in the page | 0.0 | — |")
    for stage in order:
        values = sorted(rows[stage])
        lines.append(f"| {stage} | {values[len(values) // 2]:.1f} | {len(values)} |")
    return "\n".join(lines)
