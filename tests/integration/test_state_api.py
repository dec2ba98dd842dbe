"""The state API (``from kernel_agent import code, deps, ...``) in a real kernel and server."""

from __future__ import annotations

from typing import Any

from .test_magics import run

SOURCES = [
    "x = 0",
    "y = x + 1\nz = y * 2",
    "class Cfg:\n    lr = 0.1\n\ncfg = Cfg()",
    "cfg.lr = 0.01\nw = 5",
    "from kernel_agent import cells, code, deps, lift, reproduce_cell, timestamp, users",
    "api cell",
    "result cell",
    "reproduce cell",
]


async def open_notebook(make_notebook: Any, open_session: Any, cascade_api: Any) -> tuple:
    ids = make_notebook("state.ipynb", SOURCES)
    client = await open_session("state.ipynb")
    for source, cell_id in zip(SOURCES[:5], ids[:5], strict=True):
        await run(client, cascade_api, "state.ipynb", source, cell_id)

    async def api(code: str, cell: int = 5) -> Any:
        return await run(client, cascade_api, "state.ipynb", code, ids[cell])

    return ids, client, api


async def test_code_deps_users_timestamp(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    _, _, api = await open_notebook(make_notebook, open_session, cascade_api)

    shown = await api("print(code(z))")
    assert shown.stdout == "# Cell 1\nx = 0\n\n# Cell 2\ny = x + 1\nz = y * 2\n"
    shown = await api("code('z')")
    assert shown.results == ["# Cell 1\nx = 0\n\n# Cell 2\ny = x + 1\nz = y * 2"]

    shown = await api("print(deps(z), users(x), users(y), deps('x'))")
    assert shown.stdout == "[<y>] [<y>] [<z>] []\n"

    shown = await api("print(timestamp(z)); print(timestamp('cfg.lr')); print(timestamp(x))")
    assert shown.stdout.splitlines() == [
        "Timestamp(cell_num=2, stmt_num=1)",
        "Timestamp(cell_num=4, stmt_num=0)",
        "Timestamp(cell_num=1, stmt_num=0)",
    ]

    # an object with no name of its own is found through the call's argument expression
    shown = await api("print(code(cfg.lr))")
    assert shown.stdout == (
        "# Cell 3\nclass Cfg:\n    lr = 0.1\n\ncfg = Cfg()\n\n# Cell 4\ncfg.lr = 0.01\nw = 5\n"
    )
    shown = await api("print(cells(2).slice()); c = cells(2); print(c.id, repr(c.code))")
    assert shown.stdout == (
        "# Cell 1\nx = 0\n\n# Cell 2\ny = x + 1\nz = y * 2\ncell-1 'y = x + 1\\nz = y * 2'\n"
    )

    shown = await api(
        "s = lift(z)\nprint(s, s.name, s.path, s.value, s.timestamp, s.deps, s.users)"
    )
    assert shown.stdout == "<z> z z 2 Timestamp(cell_num=2, stmt_num=1) [<y>] []\n"

    # a new run of an upstream cell: the slice and timestamps follow the history
    await api("x = 10", cell=0)
    shown = await api("print(timestamp(x), timestamp(z)); print(code(z))")
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("Timestamp(cell_num=")
    assert lines[0] != "Timestamp(cell_num=1, stmt_num=0)", "x was defined again"
    assert lines[1:] == ["# Cell 1", "x = 10", "", "# Cell 2", "y = x + 1", "z = y * 2"]


async def test_symbol_errors_are_clear(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    ids, client, api = await open_notebook(make_notebook, open_session, cascade_api)
    await api("a1 = b1 = [1, 2]")
    for code, ename, message in [
        ("code(*[a1])", "ValueError", "ambiguous symbol: the object is bound to a1, b1"),
        ("code(12345.678)", "LookupError", "unknown symbol"),
        ("timestamp('nope')", "LookupError", "no recorded run defined 'nope'"),
        ("deps('1 + 2')", "ValueError", "is not a symbol path"),
        ("cells(999)", "LookupError", "no recorded cell run has execution count 999"),
    ]:
        reply = await client.execute(code, ids[5])
        assert reply["status"] == "error", code
        assert reply["ename"] == ename and message in reply["evalue"], reply["evalue"]
        await cascade_api.settled("state.ipynb")


async def test_reproduce_cell_with_lookback(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    _, _, api = await open_notebook(make_notebook, open_session, cascade_api)
    first = await api("x + 10", cell=6)
    second = await api("x + 20", cell=6)
    assert first.results == ["10"] and second.results == ["20"]

    shown = await api(f"reproduce_cell({second.execution_count})", cell=7)
    assert shown.stdout == "x + 20\n------\n" and shown.results == ["20"]
    shown = await api(f"reproduce_cell({second.execution_count}, lookback=1)", cell=7)
    assert shown.stdout == "x + 10\n------\n" and shown.results == ["10"]
    shown = await api(f"reproduce_cell({first.execution_count}, show_input=False)", cell=7)
    assert shown.stdout == "" and shown.results == ["10"]
