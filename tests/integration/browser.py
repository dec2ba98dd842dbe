"""A kernel websocket client that behaves like JupyterLab 4 (v1) or nbclassic (legacy).

It sends execute requests with the metadata each frontend sends, records
everything the server sends back, and groups iopub traffic by request so a
test can see every execution — its own and the cascaded ones.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session
from jupyter_server.services.kernels.connection.base import (
    deserialize_binary_message,
    deserialize_msg_from_ws_v1,
    serialize_msg_to_ws_v1,
)

V1 = "v1.kernel.websocket.jupyter.org"


def _pack(value: Any) -> bytes:
    return json.dumps(value, default=json_default).encode()


@dataclass
class Execution:
    """One execution seen on iopub: its code, count and outputs."""

    msg_id: str
    code: str = ""
    execution_count: int | None = None
    stdout: str = ""
    stderr: str = ""
    results: list[str] = field(default_factory=list)
    error: str | None = None


class BrowserClient:
    """One browser tab's websocket to one kernel."""

    def __init__(self, ws: Any, kernel_id: str, protocol: str) -> None:
        self.ws = ws
        self.kernel_id = kernel_id
        self.protocol = protocol
        #: JupyterLab sends cell ids even when it falls back to the legacy framing
        self.lab_metadata = protocol == "v1"
        self.session = Session(key=b"", session=uuid.uuid4().hex)
        self.messages: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(
        cls,
        jp_ws_fetch: Any,
        kernel_id: str,
        protocol: str,
        session_id: str | None = None,
        user_agent: str | None = None,
    ) -> BrowserClient:
        """``protocol``: "v1" (Lab 4 / Notebook 7), "legacy" (nbclassic), or "lab-legacy"
        (Lab offering v1 but the server choosing legacy framing, as behind a gateway).
        ``user_agent``: the handshake's User-Agent (a browser's, to be taken for a page)."""
        session_id = session_id or uuid.uuid4().hex
        kwargs: dict[str, Any] = {"subprotocols": [V1]} if protocol in ("v1", "lab-legacy") else {}
        if user_agent is not None:
            kwargs["headers"] = {"User-Agent": user_agent}
        ws = await jp_ws_fetch(
            "api", "kernels", kernel_id, "channels", params={"session_id": session_id}, **kwargs
        )
        framing = "v1" if ws.selected_subprotocol == V1 else "legacy"
        client = cls(ws, kernel_id, framing)
        client.lab_metadata = protocol in ("v1", "lab-legacy")
        client.session.session = session_id
        await client.kernel_info()
        return client

    async def _read(self) -> None:
        while True:
            frame = await self.ws.read_message()
            if frame is None:
                return
            self.messages.append(self._decode(frame))
            self._arrived.set()

    def _decode(self, frame: str | bytes) -> dict[str, Any]:
        if self.protocol == "v1":
            channel, parts = deserialize_msg_from_ws_v1(frame)
            header, parent, metadata, content = (json.loads(p) for p in parts[:4])
            return {
                "channel": channel,
                "header": header,
                "parent_header": parent,
                "metadata": metadata,
                "content": content,
                "msg_type": header["msg_type"],
            }
        msg = deserialize_binary_message(frame) if isinstance(frame, bytes) else json.loads(frame)
        msg["msg_type"] = msg["header"]["msg_type"]
        return msg

    def send(self, msg: dict[str, Any], channel: str = "shell") -> None:
        if self.protocol == "v1":
            self.ws.write_message(serialize_msg_to_ws_v1(msg, channel, _pack), binary=True)
        else:
            self.ws.write_message(json.dumps({**msg, "channel": channel}, default=json_default))

    def send_raw(self, frame: str | bytes) -> None:
        self.ws.write_message(frame, binary=isinstance(frame, bytes))

    async def wait_for(self, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        """The first message (already received or arriving) that matches."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for msg in self.messages[seen:]:
                if predicate(msg):
                    return msg
            seen = len(self.messages)
            self._arrived.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no matching kernel message arrived")
            await asyncio.wait_for(self._arrived.wait(), remaining)

    def new_message(self, msg_type: str, content: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """A message with a random msg_id, as browsers make them.

        (jupyter_client's ids are session_pid_counter: with the server in this
        process and sharing our session id, its own requests would collide.)
        """
        msg = self.session.msg(msg_type, content, **kw)
        msg["header"]["msg_id"] = msg["msg_id"] = uuid.uuid4().hex
        return msg

    async def request(self, msg_type: str, content: dict[str, Any], **kw: Any) -> dict[str, Any]:
        msg = self.new_message(msg_type, content, **kw)
        self.send(msg)
        msg_id = msg["header"]["msg_id"]
        return await self.wait_for(
            lambda m: m["channel"] == "shell" and m["parent_header"].get("msg_id") == msg_id
        )

    async def kernel_info(self) -> dict[str, Any]:
        return await self.request("kernel_info_request", {})

    def execute_message(self, code: str, cell_id: str | None) -> dict[str, Any]:
        """An execute_request as Lab 4 (with cellId) or nbclassic (metadata {}) sends it."""
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        metadata: dict[str, Any] = {}
        if self.lab_metadata and cell_id is not None:
            metadata = {"cellId": cell_id, "deletedCells": [], "recordTiming": False}
        return self.new_message("execute_request", content, metadata=metadata)

    async def execute(self, code: str, cell_id: str | None = None) -> dict[str, Any]:
        """Run code; return the execute_reply content once the kernel is idle again."""
        msg = self.execute_message(code, cell_id)
        self.send(msg)
        return await self.finish(msg["header"]["msg_id"])

    async def run_cells(self, sources: list[str], cell_ids: list[str]) -> None:
        """Run cells one after the other, as a user running them top to bottom."""
        for source, cell_id in zip(sources, cell_ids, strict=True):
            reply = await self.execute(source, cell_id)
            assert reply["status"] == "ok", reply

    async def answer(self, msg_id: str, msg_type: str = "execute_reply") -> dict[str, Any]:
        """The first message of ``msg_type`` the kernel sent for request ``msg_id``."""
        return await self.wait_for(
            lambda m: m["msg_type"] == msg_type and m["parent_header"].get("msg_id") == msg_id
        )

    async def finish(self, msg_id: str, msg_type: str = "execute_reply") -> dict[str, Any]:
        reply = await self.answer(msg_id, msg_type)
        await self.wait_for(
            lambda m: (
                m["msg_type"] == "status"
                and m["parent_header"].get("msg_id") == msg_id
                and m["content"]["execution_state"] == "idle"
            )
        )
        return reply["content"]  # type: ignore[no-any-return]

    def executions(self, since: int = 0) -> list[Execution]:
        """Executions whose execute_input arrived after message index ``since``."""
        found: dict[str, Execution] = {}
        for msg in self.messages[since:]:
            if msg["channel"] != "iopub":
                continue
            parent = msg["parent_header"].get("msg_id", "")
            content = msg["content"]
            if msg["msg_type"] == "execute_input":
                found[parent] = Execution(parent, content["code"], content["execution_count"])
            run = found.get(parent)
            if run is None:
                continue
            if msg["msg_type"] == "stream":
                if content["name"] == "stdout":
                    run.stdout += content["text"]
                else:
                    run.stderr += content["text"]
            elif msg["msg_type"] == "execute_result":
                run.results.append(content["data"].get("text/plain", ""))
            elif msg["msg_type"] == "error":
                run.error = content["ename"]
        return list(found.values())

    def close(self) -> None:
        self.ws.close()
        self._reader.cancel()


class CascadeApi:
    """The extension's REST endpoints, as a test client."""

    def __init__(self, jp_fetch: Any) -> None:
        self.fetch = jp_fetch

    async def runs_caused_by(
        self, client: BrowserClient, path: str, code: str, cell_id: str
    ) -> list[Execution]:
        """Run one cell as the user would; every run that followed, once settled."""
        mark = len(client.messages)
        await client.execute(code, cell_id)
        await self.settled(path)
        return client.executions(mark)

    async def graph(self, path: str) -> dict[str, Any]:
        response = await self.fetch("api", "cascade", "graph", params={"path": path})
        return json.loads(response.body)  # type: ignore[no-any-return]

    async def preview(self, path: str, cell: str) -> list[str]:
        response = await self.fetch(
            "api", "cascade", "preview", params={"path": path, "cell": cell}
        )
        return json.loads(response.body)["cells"]  # type: ignore[no-any-return]

    async def settled(self, path: str, timeout: float = 60) -> dict[str, Any]:
        """The graph once no cascade is queued or running (polled with a deadline)."""
        deadline = time.monotonic() + timeout
        while True:
            graph = await self.graph(path)
            if not graph["busy"]:
                return graph
            if time.monotonic() > deadline:
                raise TimeoutError(f"cascade on {path} still busy after {timeout}s")
            await asyncio.sleep(0.05)
