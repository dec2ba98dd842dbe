"""Faults and bad input: the server stays up, nothing is lost, cascades never hang."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

import pytest

from .browser import V1


async def wait_for_state(api: Any, path: str, cell_id: str, state: str) -> None:
    """Poll the graph (with a deadline) until a cell reaches a state."""
    for _ in range(400):
        graph = await api.graph(path)
        if any(c["id"] == cell_id and c["state"] == state for c in graph["cells"]):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{cell_id} never became {state}")


def v1_frame_of(channel: str, parts: list[bytes]) -> bytes:
    """A v1 frame of raw parts (jupyter_server's layout): bytes no client would send."""
    offsets = [8 * (len(parts) + 3)]
    for chunk in [channel.encode(), *parts]:
        offsets.append(offsets[-1] + len(chunk))
    head = struct.pack(f"<{len(offsets) + 1}Q", len(offsets), *offsets)
    return b"".join([head, channel.encode(), *parts])


@pytest.mark.parametrize("protocol", ["v1", "legacy"])
async def test_malformed_frames_leave_server_and_kernel_working(
    protocol: str, make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["a = 1", "print('a', a)"]
    ids = make_notebook("bad.ipynb", sources)
    client = await open_session("bad.ipynb", protocol)
    await client.run_cells(sources, ids)
    garbage: list[str | bytes] = [
        b"\x03\x05J\xba",  # legacy binary claiming 50 million buffers
        (2**40).to_bytes(8, "little") + b"xx",  # v1 with absurd offsets
        b"\x00" * 7,
        "{not json",
        json.dumps({"channel": "shell"}),  # no header
        json.dumps({"header": {"msg_type": "no_such_request", "msg_id": "x"}, "channel": "shell"}),
        json.dumps([1, 2, 3]),
    ]
    if protocol == "v1":  # an execute_request by its type, with a header that is not JSON
        broken = [b'{"msg_type": "execute_request", ', b"{}", b"{}", b'{"code": "a = 99"}']
        garbage.append(v1_frame_of("shell", broken))
    for frame in garbage:
        client.send_raw(frame)
    big = "x = 1\n" + "# " + "y" * 2_000_000
    reply = await client.execute(big, ids[0])
    assert reply["status"] == "ok"
    await cascade_api.settled("bad.ipynb")
    mark = len(client.messages)
    await client.execute("a = 5", ids[0])
    await cascade_api.settled("bad.ipynb")
    assert [r.stdout for r in client.executions(mark)] == ["", "a 5\n"]


async def test_interrupt_stops_the_cascade_and_leaves_cells_stale(
    jp_fetch: Any, make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = [
        "x = 1",
        "import time\nif x > 1:\n    print('sleeping')\n    time.sleep(30)\nprint('slow done', x)",
        "print('after', x)",
    ]
    ids = make_notebook("interrupt.ipynb", sources)
    client = await open_session("interrupt.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("interrupt.ipynb")
    mark = len(client.messages)
    await client.execute("x = 2", ids[0])
    await wait_for_state(cascade_api, "interrupt.ipynb", ids[1], "running")
    # An interrupt is only felt inside a request (an idle ipykernel ignores
    # SIGINT): wait until the cell is sleeping, as a user would see it print.
    await client.wait_for(
        lambda m: m["msg_type"] == "stream" and "sleeping" in m["content"].get("text", "")
    )
    await jp_fetch("api", "kernels", client.kernel_id, "interrupt", method="POST", body="")
    graph = await cascade_api.settled("interrupt.ipynb", timeout=20)
    states = {c["id"]: c["state"] for c in graph["cells"]}
    assert states[ids[1]] == "error"
    assert states[ids[2]] == "stale"
    runs = client.executions(mark)
    assert runs[1].error == "KeyboardInterrupt"
    assert all("slow done" not in r.stdout and "after" not in r.stdout for r in runs)


async def test_kernel_death_mid_cascade_does_not_hang(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["x = 1", "import os\nif x > 1:\n    os._exit(1)", "print('after', x)"]
    ids = make_notebook("death.ipynb", sources)
    client = await open_session("death.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("death.ipynb")
    rerun = client.execute_message("x = 2", ids[0])
    client.send(rerun)
    # Its reply comes, but maybe not its idle status: the cascade sends the next
    # cell at the reply, and that cell ends the kernel before its IOPub thread
    # has sent what it queued. (JupyterLab drops a request's wait on "restarting".)
    await client.answer(rerun["header"]["msg_id"])
    graph = await cascade_api.settled("death.ipynb", timeout=60)
    assert graph["busy"] is False
    # The kernel was restarted by jupyter_server. JupyterLab reconnects on
    # "restarting" (jupyter_server reads a kernel's ports for new websockets only),
    # and the notebook works again, reactively: no load of the agent failed.
    await client.wait_for(
        lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "restarting"
    )
    client.close()
    client = await open_session("death.ipynb", kernel_id=client.kernel_id)
    graph = await cascade_api.graph("death.ipynb")
    assert graph["available"] is True
    assert graph["reason"] is None
    reply = await client.execute("print('alive')", ids[2])
    assert reply["status"] == "ok"


async def test_two_browsers_at_once_are_serialized(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["a = 1", "b = 2", "print('sum', a + b)"]
    ids = make_notebook("two.ipynb", sources)
    first = await open_session("two.ipynb")
    second = await open_session("two.ipynb", kernel_id=first.kernel_id)
    await first.run_cells(sources, ids)
    await cascade_api.settled("two.ipynb")
    mark = len(first.messages)
    one = first.execute_message("a = 10", ids[0])
    two = second.execute_message("b = 20", ids[1])
    first.send(one)
    second.send(two)
    await first.finish(one["header"]["msg_id"])
    await second.finish(two["header"]["msg_id"])
    await cascade_api.settled("two.ipynb")
    runs = first.executions(mark)
    sums = [r.stdout for r in runs if r.code == sources[2]]
    assert sums[-1] == "sum 30\n"
    assert len(sums) <= 2, "the dependent cell ran at most once per trigger"
    graph = await cascade_api.graph("two.ipynb")
    assert {c["state"] for c in graph["cells"]} == {"fresh"}


async def test_agent_failure_leaves_plain_jupyter(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["v = 1", "print('v', v)"]
    ids = make_notebook("broken.ipynb", sources)
    client = await open_session("broken.ipynb")
    await client.run_cells(sources, ids)
    await client.execute("__cascade_agent__._prepare = None")  # the agent now raises
    mark = len(client.messages)
    reply = await client.execute("v = 2\nprint('still runs', v)", ids[0])
    assert reply["status"] == "ok"
    await cascade_api.settled("broken.ipynb")
    runs = client.executions(mark)
    assert [r.stdout for r in runs] == ["still runs 2\n"], "no cascade, no error for the user"


class TestAgentTimeout:
    @pytest.fixture
    def cascade_config(self) -> dict[str, Any]:
        return {"agent_timeout": 0.0}

    async def test_requests_pass_through_while_the_agent_loads(
        self, make_notebook: Any, open_session: Any
    ) -> None:
        make_notebook("slowagent.ipynb", ["print('hello')"])
        client = await open_session("slowagent.ipynb")
        reply = await client.execute("print('hello')", "cell-0")
        assert reply["status"] == "ok"
        assert client.executions(0)[-1].stdout == "hello\n"
        assert client.protocol == "v1" and V1
