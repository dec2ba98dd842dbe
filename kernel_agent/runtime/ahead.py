"""Cascaded runs sent ahead: run one only if the run before it went as planned.

The server sends a cascade's next cells before the reply of the one running
(see ``AHEAD_KEY`` in :mod:`kernel_agent.core.protocol`), so the kernel goes
from one to the next without waiting for the server, as in Run All. Each such
request names the run it must follow and what that run must have read and
written. Just before the kernel takes it up, :class:`AheadGuard` checks that
against the agent's records; a request whose plan no longer holds (the run
before it failed, wrote other names, or another run came between) gets the
``aborted`` reply ipykernel gives requests queued behind a failure, and the
server plans again from what really happened.

ipykernel has no hook before an execute request, so the guard wraps the
request's entry in the kernel instance's ``shell_handlers`` table (the table
ipykernel dispatches from) and adds one entry to ``control_handlers``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..core.graph import CellRecord, effects_signature
from ..core.protocol import AHEAD_KEY, CANCEL_MSG_TYPE


class AheadGuard:
    """Decides whether a request sent ahead may run; remembers cancelled batches."""

    def __init__(
        self, last_run: Callable[[], CellRecord | None], execution_count: Callable[[], int]
    ) -> None:
        self._last_run = last_run
        self._execution_count = execution_count
        #: batches the server cancelled: their requests not yet started are aborted
        self.cancelled: set[str] = set()

    def allows(self, metadata: Any) -> bool:
        """True for every request not sent ahead, and for one whose plan holds."""
        cascade = metadata.get("cascade") if isinstance(metadata, dict) else None
        ahead = cascade.get(AHEAD_KEY) if isinstance(cascade, dict) else None
        if not isinstance(ahead, dict):
            return True
        after = ahead.get("after")
        if ahead.get("batch") in self.cancelled or not isinstance(after, dict):
            return False
        last = self._last_run()
        return (
            last is not None
            and last.ok
            and last.cell_id == after.get("cell")
            # no counted run came between (a console's, a run without a cell id)
            and last.execution_count is not None
            and last.execution_count + 1 == self._execution_count()
            # None: the plan after it does not rest on what it wrote
            and after.get("effects") in (None, effects_signature(last))
        )

    def cancel(self, batch: Any) -> None:
        if isinstance(batch, str):
            if len(self.cancelled) > 256:
                self.cancelled.clear()
            self.cancelled.add(batch)


def install(kernel: Any, guard: AheadGuard, settle: Callable[[], None]) -> bool:
    """Put ``guard`` before ipykernel's execute_request handler; False if the kernel
    has no handler tables (then the server never sends runs ahead).

    ``settle`` finishes a record left for after its reply, so the guard reads it.
    A wrapper left by an earlier agent is replaced, not wrapped again.
    """
    shell_handlers = getattr(kernel, "shell_handlers", None)
    control_handlers = getattr(kernel, "control_handlers", None)
    abort = getattr(kernel, "_send_abort_reply", None)
    if not isinstance(shell_handlers, dict) or not isinstance(control_handlers, dict):
        return False
    found = shell_handlers.get("execute_request")
    if found is None or abort is None:
        return False
    original: Callable[..., Any] = getattr(found, "cascade_original", None) or found

    async def execute_request(stream: Any, ident: Any, parent: Any) -> None:
        settle()
        if not guard.allows((parent or {}).get("metadata")):
            abort(stream, parent, ident)
            return
        result = original(stream, ident, parent)
        if inspect.isawaitable(result):
            await result

    def cancel_request(stream: Any, ident: Any, parent: Any) -> None:
        guard.cancel((parent.get("content") or {}).get("batch"))
        kernel.session.send(stream, "cascade_cancel_reply", {"status": "ok"}, parent, ident=ident)

    execute_request.cascade_original = original  # type: ignore[attr-defined]
    shell_handlers["execute_request"] = execute_request
    control_handlers[CANCEL_MSG_TYPE] = cancel_request
    return True
