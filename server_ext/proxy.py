"""The websocket seam: a mixin composed onto the configured kernel connection class.

It watches browser→kernel execute requests (to admit them: agent ready,
upstream cells run first) and kernel→browser execute replies (to trigger the
downstream cascade). Messages keep their order: once one request waits for
admission, everything after it from the same browser waits behind it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from typing import Any

from . import codec, timeline
from .held_messages import HeldMessages
from .runner import Admission, KernelRunner
from .service import CascadeService


class CascadeConnectionMixin:
    """Adds cascades to a ``BaseKernelWebsocketConnection`` subclass."""

    _cascade_queue: deque[tuple[codec.Incoming, codec.ExecuteRequest | None]]
    _cascade_draining: bool

    # Provided by the connection class we are mixed into.
    websocket_handler: Any
    session: Any
    kernel_id: str
    log: Any

    @property
    def _cascade_service(self) -> CascadeService | None:
        service = self.websocket_handler.settings.get("cascade")
        return service if isinstance(service, CascadeService) else None

    def _cascade_runner(self) -> KernelRunner | None:
        """This kernel's runner, while the kernel lives; looked up on every frame,
        so the answer is kept while the service still holds the same runner."""
        bound: tuple[CascadeService, Any, KernelRunner, str] | None
        bound = getattr(self, "_cascade_bound", None)
        if bound is not None:
            service, kernels, runner, kernel_id = bound  # kernel_id: a traitlet, slow to read
            if service.runners.get(kernel_id) is runner and kernel_id in kernels:
                return runner
        service, kernel_id = self._cascade_service, self.kernel_id
        if service is None or kernel_id not in service.kernel_manager:
            return None
        runner = service.runner_for(kernel_id)
        self._cascade_bound = (service, service.kernel_manager, runner, kernel_id)
        return runner

    @property
    def _cascade_protocol(self) -> str | None:
        return getattr(self, "_cascade_subprotocol", None)

    @property
    def subprotocol(self) -> str | None:
        """Fixed at connect: after close tornado forgets it, but held frames still flow."""
        cached = getattr(self, "_cascade_subprotocol", None)
        if cached is not None:
            return cached
        return getattr(super(), "subprotocol", None)

    async def connect(self) -> Any:  # type: ignore[override]
        # Nagle's algorithm adds ~40 ms to every small reply (DESIGN §5, Latency).
        self.websocket_handler.set_nodelay(True)
        self._cascade_subprotocol = self.websocket_handler.selected_subprotocol
        self._cascade_queue, self._cascade_draining = deque(), False
        self._cascade_sent: set[str] = set()
        self._cascade_unnoted: deque[tuple[KernelRunner, bytes]] = deque()
        self._cascade_fast_path = self._cascade_may_forward_unread()
        self._cascade_held: HeldMessages | None = None
        if self._cascade_protocol == codec.V1_PROTOCOL and _from_browser(self.websocket_handler):
            self._cascade_held = HeldMessages(self._cascade_forward)  # Lab, Notebook 7 pages
        connected = super().connect()  # type: ignore[misc]
        if inspect.isawaitable(connected):  # a Future (ZMQ) or a coroutine (gateway)
            await connected
        # Only now: jupyter_server skips its iopub check while the kernel is busy,
        # and our injection would make it busy.
        runner = self._cascade_runner()
        if runner is not None:
            runner.ensure_agent()

    def handle_incoming_message(self, incoming_msg: Any) -> None:
        self._cascade_note_unnoted()
        queue = getattr(self, "_cascade_queue", None)
        runner = self._cascade_runner() if queue is not None else None
        if runner is not None and not queue and self._cascade_forward_at_once(runner, incoming_msg):
            super().handle_incoming_message(incoming_msg)  # type: ignore[misc]
            self._cascade_note_after_send(runner, incoming_msg)
            return
        incoming = codec.Incoming(incoming_msg, self._cascade_protocol)
        if not incoming.well_formed:
            self.log.warning(
                "cascade: dropped a malformed websocket frame (%d bytes) for kernel %s",
                len(incoming_msg),
                self.kernel_id,
            )
            return
        request = None
        if runner is not None:
            request = incoming.execute_request()
            if request is not None and request.silent:
                request = None
            if request is None and (comm_id := incoming.widget_update()):
                runner.on_widget_update(comm_id)
        if queue is None or (not queue and request is None):
            super().handle_incoming_message(incoming_msg)  # type: ignore[misc]
            return
        if request is not None and runner is not None:
            # noted on arrival, so a reply that comes meanwhile sees it in flight
            legacy = self._cascade_protocol != codec.V1_PROTOCOL
            timeline.note("request", request.msg_id)
            runner.note_request(request.msg_id, request.code, request.metadata, legacy)
            self._cascade_sent.add(request.msg_id)
            admission = self._cascade_admit_now(runner, request) if not queue else None
            if admission is not None:
                super().handle_incoming_message(_admitted(incoming, admission))  # type: ignore[misc]
                return
        queue.append((incoming, request))
        if not self._cascade_draining:
            self._cascade_draining = True
            asyncio.ensure_future(self._cascade_drain())

    async def _cascade_drain(self) -> None:
        try:
            while self._cascade_queue:
                incoming, request = self._cascade_queue[0]
                frame = incoming.frame
                if request is not None:
                    frame = await self._cascade_admit(incoming, request)
                self._cascade_queue.popleft()
                super().handle_incoming_message(frame)  # type: ignore[misc]
        finally:
            self._cascade_draining = False

    def _cascade_may_forward_unread(self) -> bool:
        """Whether this connection's requests may be forwarded before we read them:
        v1 frames, and no ``allowed_message_types`` (jupyter_server then parses the
        header, and a broken one must not reach it). Both are fixed at connect."""
        kernels = getattr(self, "multi_kernel_manager", None)
        return self._cascade_protocol == codec.V1_PROTOCOL and not getattr(
            kernels, "allowed_message_types", None
        )

    def _cascade_forward_at_once(self, runner: KernelRunner, frame: Any) -> bool:
        """A v1 execute request that needs nothing from us first (see the runner),
        told before the frame is decoded (:func:`codec.is_v1_execute_request`)."""
        if not getattr(self, "_cascade_fast_path", False) or not codec.is_v1_execute_request(frame):
            return False
        try:
            return runner.forward_at_once()
        except Exception:
            self.log.exception("cascade: checking a request failed; it waits its turn")
            return False

    def _cascade_note_after_send(self, runner: KernelRunner, frame: bytes) -> None:
        """Note a request forwarded untouched once it is on its way to the kernel.

        jupyter_server's ZMQ stream sends from a callback it queued for the next
        loop turn; reading the request now would hold it back by our
        bookkeeping. The note is queued behind that send, so it still comes
        before the reply can be read, and whatever this connection handles
        first (a frame, a reply, the close) takes the notes due before it.
        """
        unnoted = self._cascade_unnoted
        unnoted.append((runner, frame))
        if len(unnoted) == 1:
            asyncio.get_running_loop().call_soon(self._cascade_note_unnoted)

    def _cascade_note_unnoted(self) -> None:
        unnoted = getattr(self, "_cascade_unnoted", None)
        while unnoted:
            self._cascade_note_forwarded(*unnoted.popleft())

    def _cascade_note_forwarded(self, runner: KernelRunner, frame: bytes) -> None:
        """Read what was forwarded untouched (see :meth:`_cascade_note_after_send`)."""
        incoming = codec.Incoming(frame, codec.V1_PROTOCOL)
        if not incoming.well_formed:
            self.log.warning(
                "cascade: forwarded an execute_request whose header is not JSON "
                "(%d bytes) to kernel %s, which drops it",
                len(frame),
                self.kernel_id,
            )
        request = incoming.execute_request()
        if request is None or request.silent:
            return
        timeline.note("request", request.msg_id)
        runner.forwarded(request.msg_id, request.code, request.metadata)
        self._cascade_sent.add(request.msg_id)

    def _cascade_admit_now(
        self, runner: KernelRunner, request: codec.ExecuteRequest
    ) -> Admission | None:
        try:
            return runner.admit_now(request.msg_id)
        except Exception:
            self.log.exception("cascade: admitting a request at once failed; it waits its turn")
            return None

    async def _cascade_admit(
        self, incoming: codec.Incoming, request: codec.ExecuteRequest
    ) -> codec.Frame:
        runner = self._cascade_runner()
        if runner is None:
            return incoming.frame
        try:
            admission = await runner.admit(request.msg_id)
        except Exception:
            self.log.exception("cascade: admitting a request failed; it runs as usual")
            return incoming.frame
        return _admitted(incoming, admission)

    def disconnect(self) -> Any:
        """Requests still running lose their reply with this socket: watch them on iopub."""
        self._cascade_note_unnoted()
        held: HeldMessages | None = getattr(self, "_cascade_held", None)
        if held is not None:
            held.drop()
        runner = self._cascade_runner()
        sent: set[str] = getattr(self, "_cascade_sent", set())
        if runner is not None and sent:
            runner.adopt(sent)
            sent.clear()
        return super().disconnect()  # type: ignore[misc]

    def handle_outgoing_message(self, stream: Any, *message: Any) -> None:
        """Kernel → browser. ZMQ connections pass (stream, frames); gateway ones (text).

        The browser gets every message first; reading a reply and our
        bookkeeping follow in the same loop step, so no later browser message
        can overtake them. jupyter_server does not modify the frames it sends.
        The agent's reports on iopub are for our own socket, not the browsers'.
        """
        iopub = _channel(stream) == "iopub"
        if message and iopub and codec.is_agent_report(message[0]):
            return
        held = getattr(self, "_cascade_held", None)
        if held is None:
            self._cascade_forward(stream, message)
        else:
            held.send(stream, message, iopub and self._cascade_holds(message))

    def _cascade_holds(self, message: tuple[Any, ...]) -> bool:
        """Whether an iopub message is a cascaded run's, held while a batch runs."""
        runner = self._cascade_runner()
        if runner is None or not runner.holding or not message:
            return False
        if not isinstance(message[0], list) or codec.cascaded_cell(message[0]) is None:
            return False
        if self._cascade_held is not None:
            runner.held.add(self._cascade_held)  # sent when the runner stops holding
        return True

    def _cascade_forward(self, stream: Any, message: tuple[Any, ...]) -> None:
        super().handle_outgoing_message(stream, *message)  # type: ignore[misc]
        self._cascade_note_unnoted()
        if message:
            shell = _channel(stream) == "shell"
            reply = codec.read_shell_reply(self.session, message[0]) if shell else None
        else:
            reply = codec.read_json_reply(stream)
        runner = self._cascade_runner() if reply is not None else None
        if reply is not None and runner is not None:
            timeline.note("reply", reply.parent_msg_id)
            getattr(self, "_cascade_sent", set()).discard(reply.parent_msg_id)
            runner.on_reply(reply.parent_msg_id, reply.status, reply.report)


def _from_browser(handler: Any) -> bool:
    """Whether the socket is a browser page's (what paints is what holding saves:
    :mod:`server_ext.held_messages`); programs get every message as it comes."""
    request = getattr(handler, "request", None)
    agent = request.headers.get("User-Agent", "") if request is not None else ""
    return isinstance(agent, str) and agent.startswith("Mozilla/")


def _channel(stream: Any) -> str | None:
    """The channel of a ZMQ connection's outgoing message (a stream, or its name on replay)."""
    return stream if isinstance(stream, str) else getattr(stream, "channel", None)


def _admitted(incoming: codec.Incoming, admission: Admission) -> codec.Frame:
    """The request with what the admission adds (cell id, report query)."""
    metadata = dict(admission.report.metadata)
    if admission.cell_id:
        metadata["cellId"] = admission.cell_id
    return incoming.with_changes(metadata, admission.report.user_expressions)


def compose_connection_class(base: type) -> type:
    """Our mixin over ``base``, unless ``base`` already has it."""
    if issubclass(base, CascadeConnectionMixin):
        return base
    return type(f"Cascade{base.__name__}", (CascadeConnectionMixin, base), {})
