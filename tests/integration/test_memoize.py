"""``%%memoize`` in a real kernel behind the server: hits skip the body, survive a restart.

A hit is proven by a side effect of the body (a character appended to a file
per run), never by timing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .test_magics import run


def memo_cell(counter: Path, options: str = "") -> str:
    return (
        f"%%memoize {options}\n"
        f"open({str(counter)!r}, 'a').write('x')\n"
        "squares = [i * base for i in range(4)]\n"
        "sum(squares)"
    )


def body_runs(counter: Path) -> int:
    return len(counter.read_text()) if counter.exists() else 0


def displays(client: Any, msg_id: str) -> list[dict[str, Any]]:
    return [
        m["content"]["data"]
        for m in client.messages
        if m["msg_type"] == "display_data" and m["parent_header"].get("msg_id") == msg_id
    ]


async def test_equal_inputs_skip_the_body_changed_inputs_rerun(
    tmp_path: Path, make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    counter = tmp_path / "runs.txt"
    memo = memo_cell(counter, f"--dir {tmp_path / 'cache'}")
    sources = ["base = 3", memo, "print('squares', squares)"]
    ids = make_notebook("memo.ipynb", sources)
    client = await open_session("memo.ipynb")
    first = [
        await run(client, cascade_api, "memo.ipynb", source, cell_id)
        for source, cell_id in zip(sources, ids, strict=True)
    ]
    assert body_runs(counter) == 1 and first[1].results == ["18"]

    again = await run(client, cascade_api, "memo.ipynb", memo, ids[1])
    assert body_runs(counter) == 1, "equal inputs: the body did not run"
    assert again.results == ["18"], "the last expression's result is replayed"

    graph = await cascade_api.settled("memo.ipynb")
    edges = {(e["source"], e["target"]): e["symbols"] for e in graph["edges"]}
    assert edges[(ids[0], ids[1])] == ["base"], "the agent sees through %%memoize"
    assert edges[(ids[1], ids[2])] == ["squares"]

    mark = len(client.messages)
    await run(client, cascade_api, "memo.ipynb", "base = 4", ids[0])
    cascaded = {r.code: r for r in client.executions(mark)}
    assert body_runs(counter) == 2, "a changed input re-runs the body"
    assert cascaded[memo].results == ["24"]
    assert cascaded[sources[2]].stdout == "squares [0, 4, 8, 12]\n"

    mark = len(client.messages)
    await run(client, cascade_api, "memo.ipynb", "base = 3", ids[0])
    cascaded = {r.code: r for r in client.executions(mark)}
    assert body_runs(counter) == 2, "back to earlier inputs: a hit"
    assert cascaded[memo].results == ["18"]
    assert cascaded[sources[2]].stdout == "squares [0, 3, 6, 9]\n", "defined names are restored"


async def test_disk_cache_survives_a_kernel_restart(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    jp_fetch: Any,
    make_notebook: Any,
    open_session: Any,
    cascade_api: Any,
) -> None:
    monkeypatch.setenv("CASCADE_MEMOIZE_DIR", str(tmp_path / "env-cache"))  # the kernel inherits it
    counter = tmp_path / "runs.txt"
    memo = memo_cell(counter)
    sources = ["base = 5", memo, "print('squares', squares)"]
    ids = make_notebook("restart.ipynb", sources)
    client = await open_session("restart.ipynb")
    for source, cell_id in zip(sources, ids, strict=True):
        await run(client, cascade_api, "restart.ipynb", source, cell_id)
    assert body_runs(counter) == 1
    assert list((tmp_path / "env-cache").glob("*.pickle")), "the entry is on disk"

    await jp_fetch("api", "kernels", client.kernel_id, "restart", method="POST", body="{}")
    mark = len(client.messages)
    await run(client, cascade_api, "restart.ipynb", memo, ids[1])  # pulls `base = 5` first
    runs = {r.code: r for r in client.executions(mark)}
    assert list(runs) == sources[:2]
    assert body_runs(counter) == 1, "a new kernel hits the disk cache"
    assert runs[memo].results == ["30"]
    shown = await run(client, cascade_api, "restart.ipynb", sources[2], ids[2])
    assert shown.stdout == "squares [0, 5, 10, 15]\n"


async def test_output_levels_and_memory_only_values(
    tmp_path: Path, make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    counter = tmp_path / "runs.txt"
    cache = tmp_path / "cache"
    body = (
        f"open({str(counter)!r}, 'a').write('x')\n"
        "from IPython.display import HTML, display\n"
        "print('computing')\n"
        "display(HTML('<b>table</b>'))\n"
        "7 * 6"
    )
    ids = make_notebook("levels.ipynb", ["cell"])
    client = await open_session("levels.ipynb")

    def cell(options: str) -> str:
        return f"%%memoize {options} --dir {cache}\n{body}"

    first = await run(client, cascade_api, "levels.ipynb", cell(""), ids[0])
    assert first.stdout == "computing\n" and first.results == ["42"]
    assert displays(client, first.msg_id) == [{"text/html": "<b>table</b>", "text/plain": ANY}]

    hit = await run(client, cascade_api, "levels.ipynb", cell(""), ids[0])
    assert (hit.stdout, hit.results, displays(client, hit.msg_id)) == ("", ["42"], [])
    quiet = await run(client, cascade_api, "levels.ipynb", cell("--quiet"), ids[0])
    assert (quiet.stdout, quiet.results, displays(client, quiet.msg_id)) == ("", [], [])
    verbose = await run(client, cascade_api, "levels.ipynb", cell("--verbose"), ids[0])
    assert verbose.stdout == "computing\n" and verbose.results == ["42"]
    assert displays(client, verbose.msg_id)[0]["text/html"] == "<b>table</b>"
    assert body_runs(counter) == 1, "every later run was a hit"

    generator = (
        f"%%memoize --dir {cache}\nopen({str(counter)!r}, 'a').write('x')\ngen = (i for i in [1])"
    )
    first = await run(client, cascade_api, "levels.ipynb", generator, ids[0])
    assert "memoize: cached in memory only (gen: TypeError" in first.stderr
    again = await run(client, cascade_api, "levels.ipynb", generator, ids[0])
    assert body_runs(counter) == 2 and again.stderr == "", "a memory-only entry still hits"


class _Anything:
    def __eq__(self, other: object) -> bool:
        return True


ANY = _Anything()


async def test_in_place_changes_are_restored_on_a_hit(
    tmp_path: Path, make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    counter = tmp_path / "runs.txt"
    sources = [
        "class Model:\n    def __init__(self):\n        self.fitted = 0\n"
        "    def fit(self, n):\n        self.fitted = n\n\nmodel = Model()",
        f"%%memoize --dir {tmp_path / 'cache'}\nopen({str(counter)!r}, 'a').write('x')\n"
        "model.fit(3)",
        "print('fitted', model.fitted)",
    ]
    ids = make_notebook("fit.ipynb", sources)
    client = await open_session("fit.ipynb")
    for source, cell_id in zip(sources, ids, strict=True):
        await run(client, cascade_api, "fit.ipynb", source, cell_id)
    assert body_runs(counter) == 1

    mark = len(client.messages)
    await run(client, cascade_api, "fit.ipynb", sources[0], ids[0])  # a fresh, unfitted model
    cascaded = {r.code: r for r in client.executions(mark)}
    assert body_runs(counter) == 1, "the unfitted model equals the earlier input: a hit"
    assert cascaded[sources[2]].stdout == "fitted 3\n", "the fitted model is restored"
