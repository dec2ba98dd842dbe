"""Reading and rewriting kernel messages as they cross the websocket.

Both wire formats live here (DESIGN §5): the binary ``v1.kernel.websocket.
jupyter.org`` subprotocol of JupyterLab 4 / Notebook 7, and the legacy JSON
text (or binary-with-buffers) framing of nbclassic. Only the parts the proxy
needs are unpacked. Decoding never raises: a frame it cannot read is reported
as ``None`` and passed on untouched, for jupyter_server to judge.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from typing import Any

from jupyter_server.services.kernels.connection.base import (
    deserialize_binary_message,
    serialize_binary_message,
)

from kernel_agent.core.protocol import REPORT_KEY, REPORT_METADATA_KEY, REPORT_TOPIC

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


#: JSON without ``json.loads``' encoding sniffing (browsers send UTF-8)
_parse_json = json.JSONDecoder().decode


def _json_part(part: bytes) -> Any:
    return _parse_json(part.decode("utf-8"))


def _v1_count(frame: bytes) -> int:
    """How many offsets a v1 frame claims, or 0 when its offset table would not
    fit in it (jupyter_server trusts the count and would read past the end)."""
    count = int.from_bytes(frame[:8], "little") if len(frame) >= 8 else 0
    return count if 8 * (count + 1) <= len(frame) else 0


def _v1_parts(frame: bytes) -> tuple[str, list[bytes]] | None:
    """Channel and message parts of a v1 frame, as jupyter_server reads them."""
    count = _v1_count(frame)
    if count < 2:
        return None
    offsets = struct.unpack_from(f"<{count}Q", frame, 8)
    try:
        channel = frame[offsets[0] : offsets[1]].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return channel, [frame[offsets[i] : offsets[i + 1]] for i in range(1, count - 1)]


#: an execute_request's type in a JSON header, as every client writes it
_EXECUTE_REQUEST_TYPE = re.compile(rb'"msg_type"\s*:\s*"execute_request"')


def is_v1_execute_request(frame: object) -> bool:
    """Whether ``frame`` is a v1 shell execute_request that jupyter_server can
    split, told without decoding any JSON: its counts and offsets hold, and its
    header says the type.

    For requests forwarded before they are read (the proxy's fast path; they
    are read right after, with :class:`Incoming`). Splitting and parsing the
    header costs ~10 µs more, and in a server that sat idle, several times
    that. A header that spells the type with escapes is not recognised here
    and takes the usual way.
    """
    if not isinstance(frame, bytes) or _v1_count(frame) < 6:  # channel, 4 parts, end
        return False
    channel, header, parent = struct.unpack_from("<3Q", frame, 8)
    if frame[channel:header] != b"shell":
        return False
    return _EXECUTE_REQUEST_TYPE.search(frame, header, parent) is not None


def _v1_frame(channel: str, parts: list[bytes]) -> bytes:
    """The inverse of :func:`_v1_parts` (jupyter_server's ``serialize_msg_to_ws_v1``)."""
    encoded = channel.encode("utf-8")
    offsets = [8 * (len(parts) + 3), 8 * (len(parts) + 3) + len(encoded)]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return b"".join((struct.pack(f"<{len(offsets) + 1}Q", len(offsets), *offsets), encoded, *parts))


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


class Incoming:
    """One browser→kernel frame, decoded once and only as far as asked.

    The frame is split and its header read up front (that decides whether it
    is well formed); metadata and content are parsed on first use, so large
    comm messages that are neither execute requests nor widget updates are
    not parsed at all. ``well_formed`` says whether jupyter_server can decode
    the frame without raising or blowing up: its decoders trust the counts and
    offsets a frame claims (a 4-byte legacy frame can claim two billion
    buffers), so such frames are dropped instead.
    """

    def __init__(self, frame: Frame, protocol: str | None) -> None:
        self.frame = frame
        self.protocol = protocol
        self.channel = "shell"
        self._parts: list[bytes] | None = None  # v1
        self._msg: dict[str, Any] | None = None  # legacy
        self._metadata: dict[str, Any] | None = None
        self._content: dict[str, Any] | None = None
        self.header: dict[str, Any] = {}
        self.well_formed = self._decode()

    def _decode(self) -> bool:
        if self.protocol == V1_PROTOCOL:
            if not isinstance(self.frame, bytes):
                return False
            decoded = _v1_parts(self.frame)
            if decoded is None or len(decoded[1]) < 4:
                return False
            self.channel, self._parts = decoded
            try:
                header = _json_part(self._parts[0])
            except (ValueError, UnicodeDecodeError):
                return False
            if not _has_message_type(header):
                return False
            self.header = header
            return True
        msg = _legacy_message(self.frame)
        if msg is None or not _has_message_type(msg.get("header")):
            return False
        if not all(isinstance(msg.get(key, {}), dict) for key in ("parent_header", "metadata")):
            return False
        if not isinstance(msg.get("content"), dict):
            return False
        self._msg, self.header = msg, msg["header"]
        self.channel = str(msg.get("channel", "shell"))
        return True

    @property
    def msg_type(self) -> str:
        return str(self.header.get("msg_type", ""))

    @property
    def metadata(self) -> dict[str, Any]:
        """Parsed on first use; ValueError or UnicodeDecodeError if it is not JSON."""
        if self._metadata is None:
            self._metadata = self._part(2, "metadata")
        return self._metadata

    @property
    def content(self) -> dict[str, Any]:
        if self._content is None:
            self._content = self._part(3, "content")
        return self._content

    def _part(self, index: int, key: str) -> dict[str, Any]:
        if self._parts is not None:
            return _as_dict(_json_part(self._parts[index]))
        return _as_dict((self._msg or {}).get(key))

    def is_execute_request(self) -> bool:
        """Whether the header says execute_request on the shell channel (content unread)."""
        return self.well_formed and self.channel == "shell" and self.msg_type == "execute_request"

    def execute_request(self) -> ExecuteRequest | None:
        """The execute_request this frame carries on the shell channel, else None."""
        if not self.is_execute_request():
            return None
        try:
            content, metadata = self.content, self.metadata
        except (ValueError, UnicodeDecodeError):
            return None
        code, msg_id = content.get("code"), self.header.get("msg_id")
        if not isinstance(code, str) or not isinstance(msg_id, str):
            return None
        return ExecuteRequest(msg_id, code, metadata, bool(content.get("silent", False)))

    def widget_update(self) -> str | None:
        """The comm id of a browser's widget state update (a slider moved), else None."""
        if not self.well_formed or self.msg_type != "comm_msg":
            return None
        try:
            content = self.content
        except (ValueError, UnicodeDecodeError):
            return None
        data = content.get("data")
        if not isinstance(data, dict) or data.get("method") != "update":
            return None
        comm_id = content.get("comm_id")
        return comm_id if isinstance(comm_id, str) else None

    def with_changes(
        self,
        metadata: dict[str, Any] | None = None,
        user_expressions: dict[str, str] | None = None,
    ) -> Frame:
        """The same message with keys added to its metadata and its content's
        user_expressions (the browser's own keys are kept).

        Metadata: nbclassic's missing cellId, and the agent report query that
        rides on a browser's own request (saves a round trip per run); user
        expressions: the same query for kernels without reply metadata hooks.
        """
        if not self.well_formed or not (metadata or user_expressions):
            return self.frame
        try:
            new_metadata = {**self.metadata, **(metadata or {})}
            new_content = self.content
            if user_expressions:
                mine = _as_dict(new_content.get("user_expressions"))
                new_content = {**new_content, "user_expressions": {**mine, **user_expressions}}
            if self._parts is not None:
                parts = list(self._parts)
                if metadata:
                    parts[2] = json.dumps(new_metadata).encode()
                if user_expressions:
                    parts[3] = json.dumps(new_content).encode()
                return _v1_frame(self.channel, parts)
            msg = {**(self._msg or {}), "metadata": new_metadata, "content": new_content}
            if isinstance(self.frame, bytes):
                return bytes(serialize_binary_message(msg))
            return json.dumps(msg)
        except (ValueError, UnicodeDecodeError, TypeError):
            return self.frame  # not ours to judge: jupyter_server gets it as it came


def _has_message_type(header: Any) -> bool:
    return isinstance(header, dict) and isinstance(header.get("msg_type"), str)


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

    @property
    def follows(self) -> bool:
        """The reply says its report follows on iopub (``kernel_agent.runtime.after_reply``)."""
        return isinstance(self.metadata, dict) and self.metadata.get("follows") is True


def is_agent_report(zmq_parts: list[Any]) -> bool:
    """Whether iopub frames are an agent report (``kernel_agent.runtime.after_reply``), told
    by the topic frame alone: the server's own iopub socket reads those; browsers
    are not sent them."""
    return bool(zmq_parts) and _bytes(zmq_parts[0]) == REPORT_TOPIC


#: the header key naming a cascaded run's cell (``kernel_channel.CELL_ID_HEADER``)
_CASCADED_CELL_KEY = b'"cascade_cell_id"'
#: where a message's header and parent header are, counted from the ``<IDS|MSG>`` delimiter
_HEADER, _PARENT = 2, 3


def _part_field(zmq_parts: list[Any], offset: int, needle: bytes, key: str) -> Any:
    """``key`` of the JSON part ``offset`` after the delimiter, or None. A byte search
    for ``needle`` first: most messages are the pages' own and are not parsed."""
    try:
        delimiter = next(i for i, part in enumerate(zmq_parts) if _bytes(part) == b"<IDS|MSG>")
        part = _bytes(zmq_parts[delimiter + offset])
    except (StopIteration, IndexError):
        return None
    if needle not in part:
        return None
    try:
        return _json_part(part).get(key)
    except (ValueError, AttributeError):
        return None


def cascaded_cell(zmq_parts: list[Any]) -> str | None:
    """The cell of a cascaded run an iopub message belongs to (the server's request
    header, echoed as its parent), or None for every other message."""
    cell = _part_field(zmq_parts, _PARENT, _CASCADED_CELL_KEY, "cascade_cell_id")
    return cell if isinstance(cell, str) else None


def is_status(zmq_parts: list[Any]) -> bool:
    """Whether iopub frames are a ``status`` message (busy, idle, starting)."""
    return _part_field(zmq_parts, _HEADER, b'"status"', "msg_type") == "status"


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
