"""Reading and rewriting kernel messages as they cross the websocket.

Both wire formats live here (DESIGN §5): the binary ``v1.kernel.websocket.
jupyter.org`` subprotocol of JupyterLab 4 / Notebook 7, and the legacy JSON
text (or binary-with-buffers) framing of nbclassic. Only the parts the proxy
needs are unpacked. Decoding never raises: a frame it cannot read is reported
as ``None`` and passed on untouched, for jupyter_server to judge.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

from jupyter_server.services.kernels.connection.base import (
    deserialize_binary_message,
    deserialize_msg_from_ws_v1,
    serialize_binary_message,
    serialize_msg_to_ws_v1,
)

from kernel_agent.protocol import REPORT_KEY, REPORT_METADATA_KEY

V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"

Frame = str | bytes


@dataclass
class ExecuteRequest:
    """The parts of a browser's execute_request the cascade needs."""

    msg_id: str
    code: str
    metadata: dict[str, Any]
    silent: bool


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _v1_parts(frame: bytes) -> tuple[str, list[bytes]] | None:
    if len(frame) < 16:
        return None
    count = int.from_bytes(frame[:8], "little")
    if count < 2 or 8 * (count + 1) > len(frame):
        return None
    try:
        channel, parts = deserialize_msg_from_ws_v1(frame)
    except (UnicodeDecodeError, ValueError, IndexError):
        return None
    return str(channel), list(parts)


def _legacy_message(frame: Frame) -> dict[str, Any] | None:
    if isinstance(frame, bytes):
        # jupyter_server's decoder builds a struct format as long as the claimed
        # buffer count: check the count against the frame before calling it.
        count = int.from_bytes(frame[:4], "big") if len(frame) >= 4 else 0
        if count < 1 or 4 * (count + 1) > len(frame):
            return None
    try:
        msg = deserialize_binary_message(frame) if isinstance(frame, bytes) else json.loads(frame)
    except (ValueError, TypeError, KeyError, IndexError, struct.error, UnicodeDecodeError):
        return None
    return msg if isinstance(msg, dict) else None


def is_well_formed(frame: Frame, protocol: str | None) -> bool:
    """Whether jupyter_server can decode the frame without raising or blowing up.

    Its decoders trust the counts and offsets a frame claims (a 4-byte legacy
    frame can claim two billion buffers); such frames are dropped instead.
    """
    if protocol == V1_PROTOCOL:
        if not isinstance(frame, bytes):
            return False
        decoded = _v1_parts(frame)
        if decoded is None or len(decoded[1]) < 4:
            return False
        try:
            return _has_message_type(json.loads(decoded[1][0]))
        except (ValueError, UnicodeDecodeError):
            return False
    msg = _legacy_message(frame)
    if msg is None or not _has_message_type(msg.get("header")):
        return False
    return all(isinstance(msg.get(key, {}), dict) for key in ("parent_header", "metadata")) and (
        isinstance(msg.get("content"), dict)
    )


def _has_message_type(header: Any) -> bool:
    return isinstance(header, dict) and isinstance(header.get("msg_type"), str)


def read_execute_request(frame: Frame, protocol: str | None) -> ExecuteRequest | None:
    """An execute_request on the shell channel, or None for anything else."""
    try:
        if protocol == V1_PROTOCOL:
            if not isinstance(frame, bytes) or (decoded := _v1_parts(frame)) is None:
                return None
            channel, parts = decoded
            if channel != "shell" or len(parts) < 4:
                return None
            header = _as_dict(json.loads(parts[0]))
            if header.get("msg_type") != "execute_request":
                return None
            metadata, content = _as_dict(json.loads(parts[2])), _as_dict(json.loads(parts[3]))
        else:
            msg = _legacy_message(frame)
            if msg is None or msg.get("channel", "shell") != "shell":
                return None
            header = _as_dict(msg.get("header"))
            if header.get("msg_type") != "execute_request":
                return None
            metadata, content = _as_dict(msg.get("metadata")), _as_dict(msg.get("content"))
    except (ValueError, UnicodeDecodeError):
        return None
    code, msg_id = content.get("code"), header.get("msg_id")
    if not isinstance(code, str) or not isinstance(msg_id, str):
        return None
    return ExecuteRequest(msg_id, code, metadata, bool(content.get("silent", False)))


def read_widget_update(frame: Frame, protocol: str | None) -> str | None:
    """The comm id of a browser's widget state update (a slider moved), else None."""
    if protocol == V1_PROTOCOL:
        if not isinstance(frame, bytes) or b"comm_msg" not in frame[:4096]:
            return None
        decoded = _v1_parts(frame)
        if decoded is None or len(decoded[1]) < 4:
            return None
        try:
            header, content = json.loads(decoded[1][0]), json.loads(decoded[1][3])
        except (ValueError, UnicodeDecodeError):
            return None
    else:
        if "comm_msg" not in (frame if isinstance(frame, str) else ""):
            return None
        msg = _legacy_message(frame)
        if msg is None:
            return None
        header, content = msg.get("header"), msg.get("content")
    if not isinstance(header, dict) or header.get("msg_type") != "comm_msg":
        return None
    data = content.get("data") if isinstance(content, dict) else None
    if not isinstance(data, dict) or data.get("method") != "update":
        return None
    comm_id = content.get("comm_id")  # type: ignore[union-attr]
    return comm_id if isinstance(comm_id, str) else None


def with_changes(
    frame: Frame,
    protocol: str | None,
    metadata: dict[str, Any] | None = None,
    user_expressions: dict[str, str] | None = None,
) -> Frame:
    """The same message with keys added to its metadata and its content's user_expressions.

    Metadata: nbclassic's missing cellId, and the agent report query that
    rides on a browser's own request (saves a round trip per run); user
    expressions: the same query for kernels without reply metadata hooks.
    """
    try:
        return _rewritten(frame, protocol, metadata, user_expressions)
    except (ValueError, UnicodeDecodeError, TypeError):
        return frame  # not ours to judge: jupyter_server gets it as it came


def _rewritten(
    frame: Frame,
    protocol: str | None,
    metadata: dict[str, Any] | None,
    user_expressions: dict[str, str] | None,
) -> Frame:
    if protocol == V1_PROTOCOL and isinstance(frame, bytes):
        decoded = _v1_parts(frame)
        if decoded is None:
            return frame
        channel, parts = decoded
        new_metadata, content = _added(
            json.loads(parts[2]), json.loads(parts[3]), metadata, user_expressions
        )
        if metadata:
            parts[2] = json.dumps(new_metadata).encode()
        if user_expressions:
            parts[3] = json.dumps(content).encode()
        return bytes(serialize_msg_to_ws_v1(parts, channel))
    msg = _legacy_message(frame)
    if msg is None:
        return frame
    msg["metadata"], msg["content"] = _added(
        msg.get("metadata"), msg.get("content"), metadata, user_expressions
    )
    if isinstance(frame, bytes):
        return bytes(serialize_binary_message(msg))
    return json.dumps(msg)


def _added(
    metadata: Any,
    content: Any,
    extra_metadata: dict[str, Any] | None,
    user_expressions: dict[str, str] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A request's metadata and content with our keys merged in (the browser's kept)."""
    new_metadata = {**_as_dict(metadata), **(extra_metadata or {})}
    new_content = _as_dict(content)
    if user_expressions:
        mine = _as_dict(new_content.get("user_expressions"))
        new_content = {**new_content, "user_expressions": {**mine, **user_expressions}}
    return new_metadata, new_content


@dataclass(frozen=True)
class CarriedReport:
    """An agent report as it rode on a reply, still undecoded.

    ``metadata``: the payload in the reply's metadata (ipykernel); ``expression``:
    the user expression result (other kernels). Decoded by ``agent_link``.
    """

    metadata: Any = None
    expression: dict[str, Any] | None = None

    @classmethod
    def of(cls, content: Any, metadata: Any) -> CarriedReport | None:
        """The report in an execute_reply's content and metadata, if it has one."""
        carried = _as_dict(metadata).get(REPORT_METADATA_KEY)
        expression = _as_dict(_as_dict(content).get("user_expressions")).get(REPORT_KEY)
        if carried is None and not isinstance(expression, dict):
            return None
        return cls(carried, expression if isinstance(expression, dict) else None)


@dataclass
class Reply:
    """A shell reply travelling to the browser."""

    msg_type: str
    parent_msg_id: str
    status: str
    #: the agent report that rode on the request, if any
    report: CarriedReport | None = None


def _reply(parent: Any, content: Any, metadata: Any) -> Reply:
    parent, content = _as_dict(parent), _as_dict(content)
    return Reply(
        "execute_reply",
        str(parent.get("msg_id", "")),
        str(content.get("status", "")),
        CarriedReport.of(content, metadata),
    )


def read_shell_reply(session: Any, zmq_parts: list[Any]) -> Reply | None:
    """Header, parent, status and report of a kernel→browser shell message (ZMQ frames)."""
    try:
        _, parts = session.feed_identities(zmq_parts)
        header = session.unpack(_bytes(parts[1]))
        if header.get("msg_type") != "execute_reply":
            return None
        parent = session.unpack(_bytes(parts[2]))
        metadata = session.unpack(_bytes(parts[3]))
        content = session.unpack(_bytes(parts[4]))
    except Exception:
        return None
    return _reply(parent, content, metadata)


def read_json_reply(frame: Any) -> Reply | None:
    """The same, for a gateway's JSON text message (it carries its channel)."""
    if not isinstance(frame, str) or '"execute_reply"' not in frame:
        return None  # cheap test first: outputs can be large
    try:
        msg = json.loads(frame)
        if msg.get("channel") != "shell" or msg["header"]["msg_type"] != "execute_reply":
            return None
        parent, content = msg.get("parent_header"), msg.get("content")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return _reply(parent, content, msg.get("metadata"))


def _bytes(part: Any) -> bytes:
    return part.bytes if hasattr(part, "bytes") else bytes(part)
