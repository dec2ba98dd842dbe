"""The one place that speaks the kernel protocol from the server side.

A :class:`KernelChannel` owns a private client for one kernel. Requests sent on
it get their replies privately, while their iopub traffic is still broadcast to
every browser by the kernel (DESIGN §5) — exactly what cascaded runs need. All
execute requests the server makes (agent injection, queries, cascaded cells) go
through :meth:`KernelChannel.execute`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kernel_agent.core.protocol import CANCEL_MSG_TYPE

from .transports import Transport, transport_for

#: the header field of a cascaded request naming its cell (echoed in iopub parent headers)
CELL_ID_HEADER = "cascade_cell_id"
#: how often a query of ours that the kernel aborted is sent again (see ``execute``)
_ABORTED_RETRIES = 5

IopubHandler = Callable[[dict[str, Any]], None]
#: called with the request's msg_id and the payload of an agent report on iopub
ReportHandler = Callable[[str, dict[str, Any]], None]


class KernelGone(RuntimeError):
    """The kernel restarted, died or shut down before a request completed."""


@dataclass(frozen=True)
class Sent:
    """An execute request on its way: its reply message, then the end of its outputs."""

    msg_id: str
    reply: asyncio.Future[dict[str, Any]]
    outputs_done: asyncio.Future[None]


@dataclass
class _Pending:
    """An execute request waiting for both its reply and its final idle status."""

    on_iopub: IopubHandler | None
    #: the whole execute_reply message (header, metadata, content)
    reply: asyncio.Future[dict[str, Any]]
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class KernelChannel:
    """A private shell+iopub connection to one kernel, routing messages by parent id."""

    def __init__(self, kernel_id: str, kernel_manager: Any, log: logging.Logger) -> None:
        self._kernel_id = kernel_id
        self._kernel_manager = kernel_manager
        self._log = log
        self._transport: Transport | None = None
        self._pending: dict[str, _Pending] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._ready: asyncio.Future[None] | None = None
        #: from the kernel's kernel_info_reply, e.g. "python"; None until started
        self.language: str | None = None
        #: where the agent's reports that follow replies go (``kernel_agent.runtime.after_reply``)
        self.on_report: ReportHandler | None = None

    @property
    def reads_reports(self) -> bool:
        """Whether reports sent on iopub reach :attr:`on_report` (started, not a gateway)."""
        return self._transport is not None and self._transport.reads_reports

    async def ensure_started(self) -> None:
        if self._ready is None:
            self._ready = asyncio.ensure_future(self._start())
        await asyncio.shield(self._ready)

    async def _start(self) -> None:
        self._transport = transport_for(self._kernel_id, self._kernel_manager, self._log)
        await self._transport.start(self._deliver, wanted=self._pending.keys())
        await self._await_iopub_subscription()

    def _deliver(self, channel: str, msg: dict[str, Any]) -> None:
        try:
            if channel == "shell":
                self._on_shell(msg)
            elif channel == "iopub":
                self._on_iopub(msg)
            elif channel == "report":
                parent = str((msg.get("parent_header") or {}).get("msg_id", ""))
                if self.on_report is not None and parent:
                    self.on_report(parent, msg.get("content") or {})
            elif channel == "closed":
                self.fail_all("the kernel connection closed")
        except Exception:
            self._log.exception("cascade: error handling a kernel message")

    async def _await_iopub_subscription(self, attempts: int = 40) -> None:
        """SUB sockets join late: probe until our iopub sees a request's status.

        The probe is a kernel_info_request, whose reply also tells the language.
        """
        for _ in range(attempts):
            assert self._transport is not None
            msg = self._transport.session.msg("kernel_info_request", {})
            pending = self._register(msg["header"]["msg_id"], None)
            self._transport.send("shell", msg)
            try:
                reply = (await asyncio.wait_for(pending.reply, 5)).get("content") or {}
                await asyncio.wait_for(pending.idle.wait(), 0.25)
                self.language = str((reply.get("language_info") or {}).get("name", ""))
                return
            except asyncio.TimeoutError:
                continue
            finally:
                self._pending.pop(msg["header"]["msg_id"], None)
        raise KernelGone("the kernel's iopub channel did not answer")

    def _register(self, msg_id: str, on_iopub: IopubHandler | None) -> _Pending:
        pending = _Pending(on_iopub=on_iopub, reply=asyncio.get_running_loop().create_future())
        self._pending[msg_id] = pending
        return pending

    def _on_shell(self, msg: dict[str, Any]) -> None:
        pending = self._pending.get(msg.get("parent_header", {}).get("msg_id", ""))
        if pending is not None and not pending.reply.done():
            pending.reply.set_result(msg)

    def _on_iopub(self, msg: dict[str, Any]) -> None:
        pending = self._pending.get(msg.get("parent_header", {}).get("msg_id", ""))
        if pending is None:
            return
        if msg["msg_type"] == "status":
            if msg["content"].get("execution_state") == "idle":
                pending.idle.set()
        elif pending.on_iopub is not None:
            pending.on_iopub(msg)

    async def execute(
        self,
        code: str,
        *,
        silent: bool = False,
        store_history: bool = True,
        user_expressions: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run ``code``; return the execute_reply content once all its output arrived.

        For the server's own queries (agent injection, reports); cascaded cells
        use :meth:`submit`, which also takes metadata and an iopub handler.

        A query that lands right after a browser's run failed is answered
        ``aborted`` (ipykernel drops the requests queued behind a run sent with
        ``stop_on_error``): it did not run, so it is sent again. Taking that
        answer for a missing agent turned reactivity off for the kernel.
        """
        for _ in range(_ABORTED_RETRIES):
            reply, outputs_done = await self.submit(
                code, silent=silent, store_history=store_history, user_expressions=user_expressions
            )
            await outputs_done
            content: dict[str, Any] = reply.get("content") or {}
            if content.get("status") != "aborted":
                break
        return content

    async def submit(
        self,
        code: str,
        *,
        silent: bool = False,
        store_history: bool = True,
        user_expressions: dict[str, str] | None = None,
        metadata: dict[str, Any] | None = None,
        on_iopub: IopubHandler | None = None,
        cell_id: str | None = None,
    ) -> tuple[dict[str, Any], asyncio.Future[None]]:
        """Run ``code``; return its reply message, and a future done once all its output arrived.

        The reply comes before the kernel's last outputs and idle status: a
        caller that only needs the reply can send its next request meanwhile,
        so the kernel does not sit idle between two cascaded cells.
        """
        await self.ensure_started()
        sent = self.send(
            code,
            silent=silent,
            store_history=store_history,
            user_expressions=user_expressions,
            metadata=metadata,
            on_iopub=on_iopub,
            cell_id=cell_id,
        )
        return await sent.reply, sent.outputs_done

    def send(
        self,
        code: str,
        *,
        silent: bool = False,
        store_history: bool = True,
        user_expressions: dict[str, str] | None = None,
        metadata: dict[str, Any] | None = None,
        on_iopub: IopubHandler | None = None,
        cell_id: str | None = None,
    ) -> Sent:
        """Send an execute request without waiting (the channel must be started):
        a cascade sends its next cells while the kernel runs (``kernel_agent.runtime.ahead``).

        ``cell_id`` also goes into the request's header (as ``CELL_ID_HEADER``):
        the kernel echoes the header as the parent of every iopub message, so a
        page that did not send the request (nbclassic) knows the run's cell
        from its first message, even among cells of equal source.
        """
        if self._transport is None:
            raise KernelGone("the kernel channel is not started")
        content = {
            "code": code,
            "silent": silent,
            "store_history": store_history,
            "user_expressions": user_expressions or {},
            "allow_stdin": False,
            "stop_on_error": False,
        }
        msg = self._transport.session.msg("execute_request", content, metadata=metadata or {})
        if cell_id is not None:
            msg["header"][CELL_ID_HEADER] = cell_id
        msg_id = msg["header"]["msg_id"]
        pending = self._register(msg_id, on_iopub)
        try:
            self._transport.send("shell", msg)
        except BaseException:
            self._pending.pop(msg_id, None)
            raise

        async def outputs_done() -> None:
            try:
                # the idle status may be read before the reply (another socket):
                # the request stays routable until both came
                await pending.idle.wait()
                await asyncio.wait({pending.reply})
            finally:
                self._pending.pop(msg_id, None)

        return Sent(msg_id, pending.reply, asyncio.ensure_future(outputs_done()))

    def cancel(self, batch: str) -> None:
        """Abort the runs of ``batch`` the kernel has not started (on the control
        channel, which the kernel reads while it runs a cell)."""
        if self._transport is None:
            return
        msg = self._transport.session.msg(CANCEL_MSG_TYPE, {"batch": batch})
        with contextlib.suppress(Exception):  # a kernel gone meanwhile: nothing to abort
            self._transport.send("control", msg)

    def watch(self, msg_id: str, on_done: Callable[[str], None]) -> None:
        """Call ``on_done(status)`` when someone else's request finishes, seen on iopub.

        For browser requests whose websocket closed before their reply: the
        reply is lost to us, but the broadcast error/idle messages are not.
        """
        failed = False

        def on_iopub(msg: dict[str, Any]) -> None:
            nonlocal failed
            failed = failed or msg["msg_type"] == "error"

        async def wait() -> None:
            await self.ensure_started()
            pending = self._pending.setdefault(msg_id, self._register(msg_id, on_iopub))
            try:
                await pending.idle.wait()
            finally:
                self._pending.pop(msg_id, None)
            on_done("error" if failed else "ok")

        task = asyncio.ensure_future(wait())
        self._tasks.append(task)  # type: ignore[arg-type]

    def fail_all(self, reason: str) -> None:
        """Wake every waiter: the kernel went away (restart, death, shutdown)."""
        for pending in list(self._pending.values()):
            if not pending.reply.done():
                pending.reply.set_exception(KernelGone(reason))
            pending.idle.set()

    async def close(self) -> None:
        self.fail_all("the kernel channel was closed")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._transport is not None:
            with contextlib.suppress(Exception):
                await self._transport.close()
        self._transport, self._ready, self._tasks = None, None, []
