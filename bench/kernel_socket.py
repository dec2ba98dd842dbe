"""A kernel websocket client that speaks like JupyterLab 4.

It uses the binary ``v1.kernel.websocket.jupyter.org`` subprotocol and puts
``cellId``, ``deletedCells`` and ``recordTiming`` in every execute request's
metadata, as Lab does. Every message received is kept with the client's
receive time (``time.perf_counter``) and the kernel's header date, so a
benchmark can time both what the client sees and what the kernel did.
"""

from __future__ import annotations

import ast
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import websocket

V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"


def encode_v1(channel: str, parts: list[bytes]) -> bytes:
    """Frame a message as the v1 subprotocol does: offsets, channel, then parts."""
    chunks = [channel.encode(), *parts]
    offsets = [8 * (len(chunks) + 2)]
    for chunk in chunks:
        offsets.append(offsets[-1] + len(chunk))
    head = len(offsets).to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in offsets)
    return head + b"".join(chunks)


def decode_v1(frame: bytes) -> tuple[str, list[bytes]]:
    count = int.from_bytes(frame[:8], "little")
    offsets = [int.from_bytes(frame[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(count)]
    channel = frame[offsets[0] : offsets[1]].decode()
    return channel, [frame[offsets[i] : offsets[i + 1]] for i in range(1, count - 1)]


def kernel_time(date: str) -> float:
    """A kernel header date as POSIX seconds (microsecond resolution)."""
    return datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp()


@dataclass
class Message:
    """One message from the server, as the client saw it."""

    received: float
    channel: str
    msg_type: str
    parent_id: str
    date: str
    content: dict[str, Any]


@dataclass
class Execution:
    """Timing of one execute request sent by this client."""

    msg_id: str
    sent: float
    replied: float = 0.0
    idle: float = 0.0
    reply: dict[str, Any] = field(default_factory=dict)

    @property
    def round_trip(self) -> float:
        """Seconds from sending the request to receiving its execute_reply."""
        return self.replied - self.sent


class KernelSocket:
    """One browser tab's websocket to one kernel (blocking, single-threaded)."""

    def __init__(self, ws: websocket.WebSocket, kernel_id: str) -> None:
        self.ws = ws
        self.kernel_id = kernel_id
        self.session = uuid.uuid4().hex
        self.messages: list[Message] = []
        #: the REST session that started the kernel, when the server opened one
        self.session_id: str | None = None

    @classmethod
    def connect(cls, port: int, token: str, kernel_id: str) -> KernelSocket:
        session = uuid.uuid4().hex
        url = f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels?session_id={session}"
        ws = websocket.create_connection(
            url,
            header=[f"Authorization: token {token}"],
            subprotocols=[V1_PROTOCOL],
            timeout=120,
        )
        if ws.getsubprotocol() != V1_PROTOCOL:
            raise RuntimeError(f"server chose subprotocol {ws.getsubprotocol()!r}")
        sock = cls(ws, kernel_id)
        sock.session = session
        sock.request("kernel_info_request", {}, "kernel_info_reply")
        return sock

    def close(self) -> None:
        with contextlib.suppress(OSError, websocket.WebSocketException):
            self.ws.close()

    # -- sending and receiving -------------------------------------------------

    def send(self, msg_type: str, content: dict[str, Any], metadata: dict[str, Any]) -> str:
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "username": "bench",
            "session": self.session,
            "date": datetime.now(timezone.utc).isoformat(),
            "version": "5.3",
        }
        parts = [json.dumps(p).encode() for p in (header, {}, metadata, content)]
        self.ws.send_binary(encode_v1("shell", parts))
        return msg_id

    def receive(self, timeout: float) -> Message | None:
        """The next message, or None after ``timeout`` seconds of silence."""
        self.ws.settimeout(timeout)
        try:
            frame = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        received = time.perf_counter()
        channel, parts = decode_v1(frame if isinstance(frame, bytes) else frame.encode())
        header, parent = json.loads(parts[0]), json.loads(parts[1])
        message = Message(
            received=received,
            channel=channel,
            msg_type=header.get("msg_type", ""),
            parent_id=parent.get("msg_id", ""),
            date=header.get("date", ""),
            content=json.loads(parts[3]) if len(parts) > 3 else {},
        )
        self.messages.append(message)
        return message

    def request(self, msg_type: str, content: dict[str, Any], wait_for: str) -> dict[str, Any]:
        msg_id = self.send(msg_type, content, {})
        while True:
            msg = self.receive(120)
            if msg is None:
                raise TimeoutError(f"no {wait_for}")
            if msg.parent_id == msg_id and msg.msg_type == wait_for:
                return msg.content

    def execute(self, code: str, cell_id: str, timeout: float = 600, **metadata: Any) -> Execution:
        """Run ``code`` as cell ``cell_id``; return once its reply and idle arrived.

        Extra keyword arguments go into the request's metadata (``cascade=False``
        is the per-run opt-out of jupyter-cascade; other servers ignore it).
        """
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        metadata = {"cellId": cell_id, "deletedCells": [], "recordTiming": False, **metadata}
        sent = time.perf_counter()
        run = Execution(self.send("execute_request", content, metadata), sent)
        deadline = sent + timeout
        while not (run.replied and run.idle):
            msg = self.receive(max(0.0, deadline - time.perf_counter()))
            if msg is None:
                raise TimeoutError(f"cell {cell_id} did not finish in {timeout} s")
            if msg.parent_id != run.msg_id:
                continue
            if msg.msg_type == "execute_reply":
                run.replied, run.reply = msg.received, msg.content
            elif msg.msg_type == "status" and msg.content.get("execution_state") == "idle":
                run.idle = msg.received
        if run.reply.get("status") != "ok":
            raise RuntimeError(f"cell {cell_id} failed: {run.reply}")
        return run

    def drain(self, quiet: float) -> None:
        """Read until the server has been silent for ``quiet`` seconds."""
        while self.receive(quiet) is not None:
            pass

    def evaluate(self, expression: str, code: str = "") -> Any:
        """The value of a literal expression, after running ``code``, silently."""
        content = {
            "code": code,
            "silent": True,
            "store_history": False,
            "user_expressions": {"value": expression},
            "allow_stdin": False,
            "stop_on_error": False,
        }
        reply = self.request("execute_request", content, "execute_reply")
        value = reply["user_expressions"]["value"]
        if value.get("status") != "ok":
            raise RuntimeError(f"{expression!r} failed: {value}")
        return ast.literal_eval(value["data"]["text/plain"])
