"""How the server reaches a kernel privately: ZMQ (local kernels) or a gateway websocket.

Both deliver every shell and iopub message to one callback and send message
dicts made by a jupyter_client Session, so :class:`~.kernel_channel.KernelChannel`
does not care where the kernel runs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Collection
from typing import Any, Protocol

import zmq
from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session, new_id
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from .codec import is_agent_report

MessageHandler = Callable[[str, dict[str, Any]], None]
#: how long a socket waits for a message before re-reading its state (see ``_receive``)
_RECHECK_SECONDS = 0.25
#: The msg_ids whose iopub messages are of interest (a live view: it changes).
ParentFilter = Collection[str]


class Transport(Protocol):
    session: Session
    reads_reports: bool

    async def start(self, deliver: MessageHandler, wanted: ParentFilter | None = None) -> None: ...
    def send(self, channel: str, msg: dict[str, Any]) -> None: ...
    async def close(self) -> None: ...


class ZmqTransport:
    """A private jupyter_client client on a local kernel's ZMQ sockets."""

    #: reads the agent's reports that follow replies on iopub (see ``codec.is_agent_report``)
    reads_reports = True

    def __init__(self, kernel_manager: Any, log: logging.Logger) -> None:
        # A session of our own: the kernel routes replies by the shell socket's
        # identity, which jupyter_client sets to the session id, and every
        # ``kernel_manager.client()`` shares the manager's. Another client made
        # that way in this process would take our replies.
        session = kernel_manager.session.clone()
        session.session = new_id()
        self._client = kernel_manager.client(session=session)
        self.session: Session = self._client.session
        self._log = log
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, deliver: MessageHandler, wanted: ParentFilter | None = None) -> None:
        self._client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=True)
        for name in ("shell", "iopub", "control"):
            channel = getattr(self._client, f"{name}_channel")
            only = wanted if name == "iopub" else None
            self._tasks.append(asyncio.ensure_future(self._read(name, channel, deliver, only)))

    async def _read(
        self, name: str, channel: Any, deliver: MessageHandler, wanted: ParentFilter | None
    ) -> None:
        """Deliver the channel's messages; on iopub, only those ``wanted`` are decoded.

        Our SUB socket sees every output of the kernel, most of it for browser
        runs: while none of our requests runs nothing is decoded, and otherwise
        reading just the parent header first spares a full decode (content,
        dates, signature) of the others.
        """
        socket, session = channel.socket, self.session
        while True:
            try:
                frames = await self._receive(name, socket)
                if name == "iopub" and is_agent_report(frames):
                    deliver("report", session.deserialize(session.feed_identities(frames)[1]))
                    continue
                if wanted is not None and not wanted:
                    continue  # nothing of ours is running: not even the parent is read
                _, parts = session.feed_identities(frames)
                if wanted is not None and len(parts) > 2:
                    parent = session.unpack(parts[2])
                    if str(parent.get("msg_id", "")) not in wanted:
                        continue
                msg = session.deserialize(parts)
            except asyncio.CancelledError:
                raise
            except Exception:  # the socket closed or sent garbage: stop reading
                self._log.debug("cascade: %s channel stopped reading", name, exc_info=True)
                deliver("closed", {})
                return
            deliver(name, msg)

    async def _receive(self, name: str, socket: Any) -> list[Any]:
        """The next message, re-reading the socket's state while none comes.

        zmq's file descriptor signals edges, not levels: after a burst of sends
        (a cascade's cells sent ahead) a reply's edge could be missed, and the
        reply sat unread while the kernel idled. Reading ``EVENTS`` makes
        pyzmq look again (``_future._AsyncSocket.get``). Only the sockets we
        send on (shell, control) need it; iopub waits without waking.
        """
        received = socket.recv_multipart()
        if name == "iopub":  # we never send on it: no send can take its edge
            return await received  # type: ignore[no-any-return]
        while not received.done():  # a message already queued is read without waiting
            await asyncio.wait({received}, timeout=_RECHECK_SECONDS)
            if not received.done() and socket.get(zmq.EVENTS) & zmq.POLLIN:
                self._log.debug("cascade: %s had a message unread; read it now", name)
        return received.result()  # type: ignore[no-any-return]

    def send(self, channel: str, msg: dict[str, Any]) -> None:
        sent = getattr(self._client, f"{channel}_channel")
        sent.send(msg)
        # the reply's edge may come while pyzmq handles this send: look again
        asyncio.get_running_loop().call_soon(sent.socket.get, zmq.EVENTS)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._client.stop_channels()


class GatewayTransport:
    """A private websocket to a kernel behind a Kernel/Enterprise Gateway.

    jupyter_server's own GatewayKernelClient polls its queues in a busy loop;
    one websocket read loop costs nothing while idle.
    """

    #: the gateway's browser websockets would pass the agent's iopub reports on
    reads_reports = False

    def __init__(self, kernel_id: str, log: logging.Logger) -> None:
        self._kernel_id = kernel_id
        self._log = log
        self.session = Session(key=b"")
        self._ws: WebSocketClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None

    def _request(self) -> HTTPRequest:
        from jupyter_server.gateway.gateway_client import GatewayClient
        from jupyter_server.utils import url_escape, url_path_join

        client = GatewayClient.instance()
        url = url_path_join(
            client.ws_url or "", client.kernels_endpoint, url_escape(self._kernel_id), "channels"
        )
        return HTTPRequest(
            f"{url}?session_id={self.session.session}", **client.load_connection_args()
        )

    async def start(self, deliver: MessageHandler, wanted: ParentFilter | None = None) -> None:
        self._ws = await websocket_connect(self._request())
        self._reader = asyncio.ensure_future(self._read(self._ws, deliver))

    async def _read(self, ws: WebSocketClientConnection, deliver: MessageHandler) -> None:
        while True:
            frame = await ws.read_message()
            if frame is None:
                deliver("closed", {})
                return
            try:
                msg = json.loads(frame)
                msg.setdefault("msg_type", msg["header"]["msg_type"])
            except (ValueError, KeyError, TypeError):
                self._log.warning("cascade: unreadable message from the gateway")
                continue
            deliver(str(msg.get("channel", "")), msg)

    def send(self, channel: str, msg: dict[str, Any]) -> None:
        if self._ws is None:
            raise RuntimeError("gateway websocket not started")
        frame = {**msg, "channel": channel, "buffers": []}
        self._ws.write_message(json.dumps(frame, default=json_default))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._ws is not None:
            self._ws.close()


def transport_for(kernel_id: str, kernel_manager: Any, log: logging.Logger) -> Transport:
    """The gateway websocket for gateway kernels, else a private ZMQ client."""
    if type(kernel_manager).__name__.startswith("Gateway"):
        return GatewayTransport(kernel_id, log)
    return ZmqTransport(kernel_manager, log)
