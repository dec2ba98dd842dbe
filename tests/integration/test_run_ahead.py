"""Cascaded cells sent ahead of the previous reply run exactly what one-at-a-time would.

The server sends a cascade's planned cells together; the kernel's agent runs
each only if the run before it did what the plan foresaw
(``kernel_agent.runtime.ahead``). These tests make the plan wrong on purpose
and check what a user sees: which cells ran, their outputs and counts.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from server_ext.runner import KernelRunner

from .collaboration import open_shared_notebook
from .test_collaboration import text_of


def _runner(server_app: Any, kernel_id: str) -> KernelRunner:
    return server_app.web_app.settings["cascade"].runners[kernel_id]  # type: ignore[no-any-return]


async def test_a_long_chain_runs_in_order_with_each_output(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["v0 = 1"] + [f"v{i} = v{i - 1} + 1\nprint('v{i}', v{i})" for i in range(1, 12)]
    ids = make_notebook("long.ipynb", sources)
    client = await open_session("long.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("long.ipynb")

    mark = len(client.messages)
    await client.execute("v0 = 100", ids[0])
    await cascade_api.settled("long.ipynb")

    # the graph can say settled before this client has read the last cells' messages
    # (on a busy machine it had read up to v5): what it sees once the last output came
    # (a print may come as several stream messages)
    def last_output_came(_: dict[str, Any]) -> bool:
        runs = client.executions(mark)
        return len(runs) == len(sources) and runs[-1].stdout == "v11 111\n"

    await client.wait_for(last_output_came, timeout=10)
    runs = client.executions(mark)
    assert [run.code for run in runs] == ["v0 = 100", *sources[1:]]
    assert [run.stdout for run in runs[1:]] == [f"v{i} {100 + i}\n" for i in range(1, 12)]
    counts = [run.execution_count for run in runs]
    assert counts == list(range(counts[0], counts[0] + len(runs)))


@pytest.mark.parametrize(("before", "after", "count"), [(2, 0, 0), (0, 5, 1)])
async def test_a_run_that_writes_other_than_planned_leads_the_cells_after_it(
    before: int,
    after: int,
    count: int,
    make_notebook: Any,
    open_session: Any,
    cascade_api: Any,
) -> None:
    # The third cell changes ``items`` in place only while x > 1: planned from
    # its last run, it does (or does not) write ``items``; its real run differs,
    # and the cells after it must show what restart-and-run-all shows.
    sources = [
        f"x = {before}",
        "items = []",
        "if x > 1:\n    items.append(x)\nprint('checked', x)",
        "print('count', len(items))",
        "print('other')",
    ]
    ids = make_notebook("other.ipynb", sources)
    client = await open_session("other.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("other.ipynb")

    mark = len(client.messages)
    await client.execute(f"x = {after}", ids[0])
    graph = await cascade_api.settled("other.ipynb")
    runs = client.executions(mark)
    # the binding of ``items`` re-runs first: the cell may change it in place
    assert [run.code for run in runs] == [f"x = {after}", *sources[1:4]]
    assert [run.stdout for run in runs[2:]] == [f"checked {after}\n", f"count {count}\n"]
    assert {cell["state"] for cell in graph["cells"]} == {"fresh"}


async def test_a_failing_cell_stops_the_cells_sent_after_it(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["x = 1", "y = 10 // (x - 2)", "z = x + 1\nprint('z', z)", "print('y', y)"]
    ids = make_notebook("fail.ipynb", sources)
    client = await open_session("fail.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("fail.ipynb")

    mark = len(client.messages)
    await client.execute("x = 2", ids[0])
    await cascade_api.settled("fail.ipynb")
    runs = client.executions(mark)
    assert [run.code for run in runs] == ["x = 2", sources[1]]
    assert runs[1].error == "ZeroDivisionError"


async def test_a_browser_run_during_a_cascade_goes_before_the_cells_sent_ahead(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = [
        "x = 1",
        "import time\ntime.sleep(0.6 if x > 1 else 0)\na = x",
        "b = a + 1",
        "c = b + 1\nprint('c', c)",
        "print('other')",
    ]
    ids = make_notebook("between.ipynb", sources)
    client = await open_session("between.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("between.ipynb")

    mark = len(client.messages)
    client.send(client.execute_message("x = 2", ids[0]))
    deadline = time.monotonic() + 10
    while (await cascade_api.graph("between.ipynb"))["cells"][1]["state"] != "running":
        assert time.monotonic() < deadline, "the cascade never started"
        await asyncio.sleep(0.02)
    await client.execute(sources[4], ids[4])
    await cascade_api.settled("between.ipynb")
    codes = [run.code for run in client.executions(mark)]
    assert codes[:3] == ["x = 2", sources[1], sources[4]], "the user's cell runs next"
    assert codes[3:] == sources[2:4], "the cascade resumes after it"


@pytest.mark.parametrize("run_ahead", [0, 32])
async def test_both_ways_show_the_same(
    run_ahead: int,
    make_notebook: Any,
    open_session: Any,
    cascade_api: Any,
    jp_serverapp: Any,
) -> None:
    sources = [
        "n = 3",
        "data = list(range(n))",
        "data.append(n * 10)\nprint(data)",
        "total = sum(data)\nprint('total', total)",
        "print('unrelated')",
    ]
    ids = make_notebook(f"same{run_ahead}.ipynb", sources)
    client = await open_session(f"same{run_ahead}.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled(f"same{run_ahead}.ipynb")
    config = _runner(jp_serverapp, client.kernel_id).config
    kept, config.run_ahead = config.run_ahead, run_ahead
    try:
        mark = len(client.messages)
        await client.execute("n = 4", ids[0])
        await cascade_api.settled(f"same{run_ahead}.ipynb")
    finally:
        config.run_ahead = kept
    runs = {run.code: run.stdout for run in client.executions(mark)}
    assert runs == {
        "n = 4": "",
        sources[1]: "",
        sources[2]: "[0, 1, 2, 3, 40]\n",
        sources[3]: "total 46\n",
    }


@pytest.mark.parametrize("rtc", [True])
async def test_a_long_chain_streams_into_a_shared_document(
    rtc: bool,
    jp_fetch: Any,
    jp_http_port: int,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    make_notebook: Any,
    open_session: Any,
    cascade_api: Any,
) -> None:
    sources = ["v0 = 1"] + [f"v{i} = v{i - 1} + 1\nprint('v{i}', v{i})" for i in range(1, 20)]
    ids = make_notebook("shared.ipynb", sources)
    async with open_shared_notebook(
        jp_fetch, jp_http_port, jp_base_url, jp_auth_header, "shared.ipynb"
    ) as shared:
        client = await open_session("shared.ipynb")
        await client.run_cells(sources, ids)
        await cascade_api.settled("shared.ipynb")
        for repetition in range(3):
            value = 10 * (repetition + 1)
            await client.execute(f"v0 = {value}", ids[0])
            await cascade_api.settled("shared.ipynb", timeout=30)
            cells = await shared.wait_until(
                lambda cells, value=value: text_of(cells[19]) == f"v19 {value + 19}\n"
            )
            assert [text_of(cell) for cell in cells[1:]] == [
                f"v{i} {value + i}\n" for i in range(1, 20)
            ]


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0"


@pytest.mark.parametrize(
    ("protocol", "agent"), [("v1", BROWSER), ("v1", None), ("legacy", BROWSER)]
)
async def test_every_message_of_cells_sent_ahead_reaches_the_page_in_order(
    protocol: str, agent: str | None, make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    # A Lab or Notebook 7 page (v1, a browser) gets a batch's messages held a little
    # (server_ext.held_messages): late, but each run's input and output come, in the
    # kernel's order, and the kernel's state ends idle; of the status flips in a held
    # burst only the last is sent. Other clients get every message at once.
    held = protocol == "v1" and agent is not None
    sources = ["w0 = 1"] + [f"w{i} = w{i - 1} + 1\nprint(w{i})" for i in range(1, 10)]
    path = f"order-{protocol}-{agent is not None}.ipynb"
    ids = make_notebook(path, sources)
    client = await open_session(path, protocol, user_agent=agent)
    await client.run_cells(sources, ids)
    await cascade_api.settled(path)

    mark = len(client.messages)
    await client.execute("w0 = 50", ids[0])
    await cascade_api.settled(path)

    def kinds() -> list[tuple[str, str]]:
        cascaded = {run.msg_id for run in client.executions(mark)[1:]}
        seen = []
        for msg in client.messages[mark:]:
            parent = msg["parent_header"].get("msg_id")
            if msg["channel"] == "iopub" and parent in cascaded:
                kind = msg["msg_type"]
                if kind == "status":
                    kind = msg["content"]["execution_state"]
                seen.append((parent, kind))
        return seen

    def done() -> bool:
        runs = client.executions(mark)
        return len(runs) == len(sources) and (runs[-1].msg_id, "idle") in kinds()

    deadline = time.monotonic() + 10
    while not done():
        assert time.monotonic() < deadline, f"the last run did not go idle: {kinds()}"
        await asyncio.sleep(0.02)
    runs = client.executions(mark)
    assert [run.stdout for run in runs[1:]] == [f"{50 + i}\n" for i in range(1, 10)]
    per_run: dict[str, list[str]] = {}
    order: list[str] = []
    statuses = []
    for parent, kind in kinds():
        if kind in ("busy", "idle"):
            statuses.append(kind)
            if held:
                continue
        if not order or order[-1] != parent:
            order.append(parent)
        shown = per_run.setdefault(parent, [])
        if not shown or shown[-1] != kind:  # a print may come as several stream messages
            shown.append(kind)
    expected = ["execute_input", "stream"] if held else ["busy", "execute_input", "stream", "idle"]
    assert [per_run[run.msg_id] for run in runs[1:]] == [expected] * 9
    assert statuses[-1] == "idle"
    assert order == [run.msg_id for run in runs[1:]]  # one run's messages after another's
