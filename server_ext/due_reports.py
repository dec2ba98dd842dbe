"""Browser replies whose agent report follows on iopub (``kernel_agent.runtime.after_reply``).

The reply and its report come on different sockets, so either may be read
first. A reply waits here for its report, which then finishes it as if it had
ridden on the reply; a report read first waits for its reply. A report that
never comes (the kernel died, the agent failed to send it) finishes its reply
without one after :data:`REPORT_WAIT`, and the server then asks the agent for
the records itself, as for any reply without a report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .codec import CarriedReport

#: seconds a reply waits for its report; the agent sends it on the kernel's next
#: loop turn, so this is only reached when it never comes
REPORT_WAIT = 5.0

#: (msg_id, status, report or None) → the runner's handling of a finished reply
Finish = Callable[[str, str, CarriedReport | None], None]


class DueReports:
    """The replies waiting for their report, and the reports that came first."""

    def __init__(self, finish: Finish) -> None:
        self._finish = finish
        self._due: dict[str, tuple[str, asyncio.TimerHandle]] = {}
        self._early: dict[str, dict[str, Any]] = {}
        self._all_in = asyncio.Event()
        self._all_in.set()

    def __bool__(self) -> bool:
        """Whether some reply still waits for its report."""
        return bool(self._due)

    def wait_for(self, msg_id: str, status: str) -> CarriedReport | None:
        """The report of a reply that says it follows, when it came already;
        else None, and the reply is finished when it comes."""
        early = self.came_first(msg_id)
        if early is not None:
            return early
        timer = asyncio.get_running_loop().call_later(REPORT_WAIT, self._overdue, msg_id)
        self._due[msg_id] = (status, timer)
        self._all_in.clear()
        return None

    def arrived(self, msg_id: str, payload: dict[str, Any], awaited: bool) -> None:
        """A report came; ``awaited``: its request is one we track (else dropped)."""
        due = self._due.pop(msg_id, None)
        if due is None:
            if awaited:
                self._early[msg_id] = payload
            return
        status, timer = due
        timer.cancel()
        self._note_all_in()
        self._finish(msg_id, status, CarriedReport(payload))

    def came_first(self, msg_id: str) -> CarriedReport | None:
        """A report read before its reply, for a reply that has none (an adopted
        request, watched on iopub after its websocket closed)."""
        early = self._early.pop(msg_id, None)
        return CarriedReport(early) if early is not None else None

    async def all_in(self) -> None:
        """Until no reply waits for its report."""
        while self._due:
            await self._all_in.wait()

    def clear(self) -> None:
        """The kernel restarted or died: no report will come."""
        due, self._due = self._due, {}
        self._early.clear()
        for _, timer in due.values():
            timer.cancel()
        self._note_all_in()

    def _overdue(self, msg_id: str) -> None:
        due = self._due.pop(msg_id, None)
        if due is None:
            return
        self._note_all_in()
        self._finish(msg_id, due[0], None)

    def _note_all_in(self) -> None:
        if not self._due:
            self._all_in.set()
