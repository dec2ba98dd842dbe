"""A cascade's kernel messages to Lab / Notebook 7 pages while cells sent ahead run
(``server_ext.held_messages``): held a little, never lost, never reordered."""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_client.session import Session

from server_ext import codec
from server_ext.held_messages import HeldMessages
from server_ext.notebook import HOLD_SECONDS


def _iopub(session: Session, msg_type: str, parent_header: dict[str, Any]) -> list[bytes]:
    """The ZMQ frames of an iopub message, as a kernel connection receives them."""
    message = session.msg(msg_type, {"execution_state": "busy"}, parent=parent_header)
    return [b"kernel.k." + msg_type.encode(), *session.serialize(message)]


def test_cascaded_runs_are_told_by_their_parent_header() -> None:
    session = Session(key=b"k")
    cascaded = session.msg_header("execute_request")
    cascaded["cascade_cell_id"] = "cell-7"
    assert codec.cascaded_cell(_iopub(session, "status", cascaded)) == "cell-7"
    page_own = session.msg_header("execute_request")
    assert codec.cascaded_cell(_iopub(session, "status", page_own)) is None
    assert codec.cascaded_cell([b"topic", b"no delimiter"]) is None
    assert codec.cascaded_cell([]) is None


async def test_held_messages_go_out_in_order_with_the_next_one_not_held() -> None:
    sent: list[tuple[Any, tuple[Any, ...]]] = []
    held = HeldMessages(lambda stream, message: sent.append((stream, message)))
    held.send("iopub", ("busy",), hold=True)
    held.send("iopub", ("result",), hold=True)
    assert sent == []
    held.send("shell", ("reply",), hold=False)
    assert [message for _, message in sent] == [("busy",), ("result",), ("reply",)]


async def test_held_messages_never_wait_longer_than_the_documents_writes() -> None:
    sent: list[tuple[Any, ...]] = []
    held = HeldMessages(lambda stream, message: sent.append(message))
    held.send("iopub", ("idle",), hold=True)
    await asyncio.sleep(HOLD_SECONDS / 2)
    assert sent == []
    await asyncio.sleep(HOLD_SECONDS)
    assert sent == [("idle",)]


async def test_a_failing_send_does_not_lose_the_others_and_a_closed_page_drops_all() -> None:
    sent: list[tuple[Any, ...]] = []

    def forward(stream: Any, message: tuple[Any, ...]) -> None:
        if message == ("broken",):
            raise RuntimeError("closed stream")
        sent.append(message)

    held = HeldMessages(forward)
    for message in (("a",), ("broken",), ("b",)):
        held.send("iopub", message, hold=True)
    held.flush()
    assert sent == [("a",), ("b",)]
    held.send("iopub", ("c",), hold=True)
    held.drop()
    await asyncio.sleep(HOLD_SECONDS * 1.5)
    assert sent == [("a",), ("b",)]


def test_status_messages_are_told_by_their_header() -> None:
    session = Session(key=b"k")
    parent = session.msg_header("execute_request")
    assert codec.is_status(_iopub(session, "status", parent))
    assert not codec.is_status(_iopub(session, "execute_result", parent))
    assert not codec.is_status([b"topic", b"no delimiter"])


async def test_a_held_burst_keeps_only_its_last_status_and_every_other_message() -> None:
    """The page shows the state the burst ends in; the flips before it are not sent."""
    session = Session(key=b"k")
    parent = session.msg_header("execute_request")
    burst = [
        _iopub(session, kind, parent)
        for kind in ("status", "execute_input", "execute_result", "status", "status", "stream")
    ]
    sent: list[list[bytes]] = []
    held = HeldMessages(lambda stream, message: sent.append(message[0]))
    for frames in burst:
        held.send("iopub", (frames,), hold=True)
    held.flush()
    assert sent == [burst[1], burst[2], burst[4], burst[5]]
    held.send("iopub", (burst[0],), hold=True)  # a lone status goes as it is
    held.send("shell", (b"reply",), hold=False)
    assert sent[4:] == [burst[0], b"reply"]
