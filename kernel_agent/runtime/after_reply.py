"""Sending a run's report once its execute_reply is on its way.

The record of a run and its report cost the kernel a few hundred microseconds
(more on a cold cache). Taken before the reply, they hold the reply back by
that much; taken on the kernel's next loop turn, the reply has left already.
The report then follows on iopub (:data:`~kernel_agent.core.protocol.REPORT_MSG_TYPE`),
which the server reads on its own socket and keeps from the browsers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..core.protocol import REPORT_MSG_TYPE, REPORT_TOPIC


class ReportSender:
    """The kernel's iopub, as far as the agent needs it."""

    def __init__(self, kernel: Any) -> None:
        self._kernel = kernel

    @classmethod
    def for_shell(cls, shell: Any) -> ReportSender | None:
        """A sender for ipykernel's shell; None where the kernel lacks what it needs."""
        kernel = getattr(shell, "kernel", None)
        wanted = ("session", "iopub_socket", "get_parent")
        if kernel is None or not all(getattr(kernel, name, None) is not None for name in wanted):
            return None
        return cls(kernel)

    def request(self) -> dict[str, Any] | None:
        """The shell request being handled, if it has a message id to parent a report."""
        parent = self._kernel.get_parent("shell")
        return parent if msg_id_of(parent) else None

    @staticmethod
    def after_this_message(callback: Callable[[], None]) -> bool:
        """Run ``callback`` on the kernel's next loop turn: ipykernel's handler of
        an execute_request sends its reply and idle status without giving the
        loop a turn, and takes up the next shell message only after this turn.
        False without a running loop (a plain IPython shell)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        loop.call_soon(callback)
        return True

    def send(self, parent: dict[str, Any], payload: dict[str, Any]) -> None:
        kernel = self._kernel
        kernel.session.send(
            kernel.iopub_socket, REPORT_MSG_TYPE, payload, parent=parent, ident=REPORT_TOPIC
        )


def msg_id_of(message: Any) -> str | None:
    """A message's id, from its header."""
    header = (message or {}).get("header") if isinstance(message, dict) else None
    return header.get("msg_id") if isinstance(header, dict) else None
