"""Reactive cascades through a real server and a real ipykernel, as browsers drive them."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from kernel_agent.core.protocol import PROTOCOL_VERSION, REPORT_MSG_TYPE
from server_ext import predict

PROTOCOLS = ["v1", "legacy"]


def stdout_by_code(client: Any, since: int) -> dict[str, str]:
    return {run.code: run.stdout for run in client.executions(since)}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_dependent_cell_reruns_with_new_output(
    protocol: str, make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["x = 1", "y = x + 1\nprint('y =', y)", "z = 100\nprint('z =', z)"]
    ids = make_notebook("nb.ipynb", sources)
    client = await open_session("nb.ipynb", protocol)
    await client.run_cells(sources, ids)
    await cascade_api.settled("nb.ipynb")

    mark = len(client.messages)
    reply = await client.execute("x = 41", ids[0])
    assert reply["status"] == "ok"
    graph = await cascade_api.settled("nb.ipynb")

    reruns = stdout_by_code(client, mark)
    assert reruns.get(sources[1]) == "y = 42\n"
    assert sources[2] not in reruns, "an unrelated cell must not re-run"
    states = {cell["id"]: cell["state"] for cell in graph["cells"]}
    assert states[ids[1]] == "fresh"


async def test_cascade_is_transitive_and_in_notebook_order(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["a = 1", "b = a * 10", "c = b + 1\nprint(c)", "print('a is', a)"]
    ids = make_notebook("chain.ipynb", sources)
    client = await open_session("chain.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("chain.ipynb")

    mark = len(client.messages)
    await client.execute("a = 2", ids[0])
    await cascade_api.settled("chain.ipynb")
    runs = client.executions(mark)
    assert [run.code for run in runs] == ["a = 2", *sources[1:]]
    assert runs[2].stdout == "21\n"
    assert runs[3].stdout == "a is 2\n"
    counts = [run.execution_count for run in runs]
    assert counts == sorted(counts), "cascaded runs take the next execution counts"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_error_stops_the_cascade(
    protocol: str, make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["n = 1", "m = 10 // n", "print('m', m)"]
    ids = make_notebook("err.ipynb", sources)
    client = await open_session("err.ipynb", protocol)
    await client.run_cells(sources, ids)
    await cascade_api.settled("err.ipynb")

    mark = len(client.messages)
    await client.execute("n = 0", ids[0])
    graph = await cascade_api.settled("err.ipynb")
    runs = client.executions(mark)
    assert [run.code for run in runs] == ["n = 0", sources[1]]
    assert runs[1].error == "ZeroDivisionError"
    states = {cell["id"]: cell["state"] for cell in graph["cells"]}
    assert states[ids[1]] == "error"
    assert states[ids[2]] == "stale", "the cell the error would have fed stays stale"


async def test_failing_trigger_cascades_nothing(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["v = 1", "print(v)"]
    ids = make_notebook("fail.ipynb", sources)
    client = await open_session("fail.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("fail.ipynb")
    mark = len(client.messages)
    reply = await client.execute("v = 2\nraise RuntimeError('boom')", ids[0])
    assert reply["status"] == "error"
    await cascade_api.settled("fail.ipynb")
    assert [run.code for run in client.executions(mark)] == ["v = 2\nraise RuntimeError('boom')"]


async def test_run_all_does_not_double_run(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["p = 1", "q = p + 1", "print(q)"]
    ids = make_notebook("runall.ipynb", sources)
    client = await open_session("runall.ipynb")
    messages = [client.execute_message(s, i) for s, i in zip(sources, ids, strict=True)]
    mark = len(client.messages)
    for msg in messages:  # Lab's "Run All" sends every request at once
        client.send(msg)
    for msg in messages:
        await client.finish(msg["header"]["msg_id"])
    await cascade_api.settled("runall.ipynb")
    mark2 = len(client.messages)
    await client.execute("p = 5", ids[0])
    await cascade_api.settled("runall.ipynb")
    assert [run.code for run in client.executions(mark)][:3] == sources
    assert len(client.executions(mark)) == 3 + len(client.executions(mark2))
    assert stdout_by_code(client, mark2)[sources[2]] == "6\n"


async def test_upstream_cells_run_first(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["base = 3", "double = base * 2", "print('result', double + 1)"]
    ids = make_notebook("pull.ipynb", sources)
    client = await open_session("pull.ipynb")
    mark = len(client.messages)
    await client.execute(sources[2], ids[2])  # never ran the cells above
    await cascade_api.settled("pull.ipynb")
    runs = client.executions(mark)
    assert [run.code for run in runs] == sources
    assert runs[2].stdout == "result 7\n"


async def test_many_new_cells_are_analysed_off_the_loop_and_all_pulled_first(
    make_notebook: Any, open_session: Any, cascade_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A saved notebook gains more never-run cells than the server analyses
    inline (a paste, a pull): the request waits while a worker thread analyses
    them, then every one of them runs first, in order."""
    make_notebook("grown.ipynb", ["v0 = 0"])
    client = await open_session("grown.ipynb")
    await client.execute("v0 = 0", "cell-0")
    await cascade_api.settled("grown.ipynb")

    threads: set[str] = set()
    real = predict.analyse_source

    def recording(source: str, *args: Any) -> Any:
        threads.add(threading.current_thread().name)
        return real(source, *args)

    monkeypatch.setattr(predict, "analyse_source", recording)
    n = 3 * predict.INLINE_ANALYSES
    chain = [f"v{i} = v{i - 1} + 1" for i in range(1, n)]
    sources = ["v0 = 0", *chain, f"print('last', v{n - 1})"]
    ids = make_notebook("grown.ipynb", sources)
    await cascade_api.graph("grown.ipynb")  # the graph page reads the saved cells first
    runs = await cascade_api.runs_caused_by(client, "grown.ipynb", sources[-1], ids[-1])
    assert [run.code for run in runs] == sources[1:]
    assert runs[-1].stdout == f"last {n - 1}\n"
    assert threads and threading.main_thread().name not in threads


async def test_graph_endpoint_reports_cells_and_edges(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["k = 2", "def f():\n    return k * 3", "print(f())", "unrelated = 0"]
    ids = make_notebook("graph.ipynb", sources)
    client = await open_session("graph.ipynb")
    await client.run_cells(sources[:3], ids[:3])
    graph = await cascade_api.settled("graph.ipynb")
    assert graph["path"] == "graph.ipynb"
    assert graph["kernel_id"] == client.kernel_id
    assert graph["mode"] == "reactive" and graph["direction"] == "in_order"
    states = [cell["state"] for cell in graph["cells"]]
    assert states == ["fresh", "fresh", "fresh", "never_run"]
    assert [cell["index"] for cell in graph["cells"]] == [0, 1, 2, 3]
    edges = {(e["source"], e["target"]): e["symbols"] for e in graph["edges"]}
    assert "f" in edges[(ids[1], ids[2])]
    assert "k" in edges[(ids[0], ids[2])], "globals read inside called functions are uses"

    mark = len(client.messages)
    await client.execute("k = 5", ids[0])
    await cascade_api.settled("graph.ipynb")
    assert stdout_by_code(client, mark)[sources[2]] == "15\n"


async def test_graph_endpoint_404_for_unknown_path(jp_fetch: Any) -> None:
    from tornado.httpclient import HTTPClientError

    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("api", "cascade", "graph", params={"path": "nope.ipynb"})
    assert error.value.code == 404


async def test_graph_endpoint_requires_auth(jp_fetch: Any) -> None:
    from tornado.httpclient import HTTPClientError

    with pytest.raises(HTTPClientError) as error:
        await jp_fetch(
            "api",
            "cascade",
            "graph",
            params={"path": "nb.ipynb"},
            headers={"Authorization": "token wrong"},
        )
    assert error.value.code in (401, 403)


async def test_reconnect_replay_cascades_once(
    make_notebook: Any, open_session: Any, cascade_api: Any, jp_ws_fetch: Any
) -> None:
    from .browser import BrowserClient

    sources = ["import time\nr = 1", "print('r is', r)"]
    ids = make_notebook("replay.ipynb", sources)
    client = await open_session("replay.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("replay.ipynb")

    slow = client.execute_message("time.sleep(1)\nr = 2", ids[0])
    client.send(slow)
    await client.answer(slow["header"]["msg_id"], "execute_input")
    client.close()  # the tab goes away while its cell runs
    again = await BrowserClient.connect(
        jp_ws_fetch, client.kernel_id, "v1", session_id=client.session.session
    )
    await again.answer(slow["header"]["msg_id"])  # replayed from jupyter_server's buffer
    graph = await cascade_api.settled("replay.ipynb")
    rerun = [cell for cell in graph["cells"] if cell["id"] == ids[1]][0]
    assert rerun["state"] == "fresh"
    mark = len(again.messages)
    await again.execute("print('done')")
    await cascade_api.settled("replay.ipynb")
    reruns = [run.code for run in again.executions(mark)]
    assert reruns == ["print('done')"], "the replayed reply did not start a second cascade"
    assert (
        rerun["execution_count"]
        == (await cascade_api.graph("replay.ipynb"))["cells"][1]["execution_count"]
    )


async def test_opt_out_by_marker_and_by_metadata(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["w = 1", "print('w is', w)"]
    ids = make_notebook("optout.ipynb", sources)
    client = await open_session("optout.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("optout.ipynb")

    mark = len(client.messages)
    await client.execute("# cascade: off\nw = 2", ids[0])
    graph = await cascade_api.settled("optout.ipynb")
    assert [r.code for r in client.executions(mark)] == ["# cascade: off\nw = 2"]
    assert {c["id"]: c["state"] for c in graph["cells"]}[ids[1]] == "stale"

    mark = len(client.messages)
    msg = client.execute_message("w = 3", ids[0])
    msg["metadata"]["cascade"] = False  # a frontend that can send the flag
    client.send(msg)
    await client.finish(msg["header"]["msg_id"])
    await cascade_api.settled("optout.ipynb")
    assert [r.code for r in client.executions(mark)] == ["w = 3"]

    mark = len(client.messages)
    await client.execute("w = 4", ids[0])  # no opt-out: the stale reader runs
    await cascade_api.settled("optout.ipynb")
    assert [r.stdout for r in client.executions(mark)] == ["", "w is 4\n"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_run_record_follows_the_reply_and_never_reaches_the_browser(
    protocol: str, make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    """On ipykernel the run's record is taken once the browser's reply is on its
    way: the reply's metadata says the report follows, the report comes on
    iopub to the server alone, and the browser's user_expressions stay exactly
    what it asked for."""
    ids = make_notebook("ride.ipynb", ["x = 1", "y = x"])
    client = await open_session("ride.ipynb", protocol)
    await client.run_cells(["x = 1"], ids[:1])
    msg = client.execute_message("y = x", ids[1])
    client.send(msg)
    reply = await client.answer(msg["header"]["msg_id"])
    assert reply["content"]["user_expressions"] == {}
    assert reply["metadata"]["cascade_report"] == {"version": PROTOCOL_VERSION, "follows": True}
    graph = await cascade_api.settled("ride.ipynb")
    # nbclassic sends no cellId: the server matched the code and added it
    edges = {(e["source"], e["target"]): e["symbols"] for e in graph["edges"]}
    assert edges == {(ids[0], ids[1]): ["x"]}
    # iopub keeps its order: once a later request's idle status is in, so is the report
    info = client.new_message("kernel_info_request", {})
    client.send(info)
    await client.finish(info["header"]["msg_id"], "kernel_info_reply")
    assert not [m for m in client.messages if m["msg_type"] == REPORT_MSG_TYPE]


async def test_a_run_sent_as_its_previous_reply_comes_waits_for_that_runs_record(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    """The record of a run reaches the server after its reply: a request sent the
    moment that reply is read must still see the run, so the stale cell between
    the two runs is pulled first and the last cell runs once, with the new value.

    The middle cell takes a moment: a client slower than the server's cascade
    (a loaded machine) would otherwise send the last cell after the cascade had
    already re-run it, and see it run twice, rightly."""
    sources = ["x = 1", "import time; time.sleep(0.25); y = x + 1", "print('y is', y)"]
    ids = make_notebook("due.ipynb", sources)
    client = await open_session("due.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("due.ipynb")

    mark = len(client.messages)
    first = client.execute_message("x = 5", ids[0])
    client.send(first)
    await client.answer(first["header"]["msg_id"])
    last = client.execute_message(sources[2], ids[2])
    client.send(last)
    await client.finish(last["header"]["msg_id"])
    await cascade_api.settled("due.ipynb")
    runs = client.executions(mark)
    assert [run.code for run in runs] == ["x = 5", *sources[1:]]
    assert runs[2].stdout == "y is 6\n"
