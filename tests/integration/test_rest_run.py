"""POST /api/cascade/run and GET /api/cascade/runs/<id> on a real server and kernel."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import nbformat
import pytest
from tornado.httpclient import HTTPClientError

from .collaboration import open_shared_notebook
from .rest_runs import finished, refusal, run_status, start_run, text


def saved(jp_root_dir: Any, path: str) -> Any:
    return nbformat.reads((jp_root_dir / path).read_text(encoding="utf-8"), as_version=4)


async def test_run_with_no_page_saves_outputs_and_counts(
    jp_fetch: Any, jp_root_dir: Any, jp_base_url: str, make_notebook: Any
) -> None:
    sources = ["x = 1", "y = x + 1\nprint('y', y)", "print('other')"]
    ids = make_notebook("nopage.ipynb", sources)
    answer, location = await start_run(jp_fetch, path="nopage.ipynb", cell=1, start_kernel=True)
    assert answer["plan"] == ids[:2], "the never-run definer above is pulled first"
    assert location == f"{jp_base_url}api/cascade/runs/{answer['id']}"
    run = await finished(jp_fetch, answer["id"])
    assert run["status"] == "done" and run["path"] == "nopage.ipynb"
    cells = {cell["id"]: cell for cell in run["cells"]}
    assert [c["status"] for c in run["cells"]] == ["done", "done"]
    assert text(cells[ids[1]]) == "y 2\n"
    assert cells[ids[1]]["outputs"][0]["output_type"] == "stream"

    notebook = saved(jp_root_dir, "nopage.ipynb")
    counts = [cell.execution_count for cell in notebook.cells]
    assert counts[0] is not None and counts[1] is not None and counts[2] is None
    assert counts[1] == cells[ids[1]]["execution_count"]
    assert text(notebook.cells[1]) == "y 2\n"
    assert [cell.source for cell in notebook.cells] == sources

    # an edit saved since (another program): the run picks it up and cascades
    notebook.cells[0].source = "x = 5"
    (jp_root_dir / "nopage.ipynb").write_text(nbformat.writes(notebook), encoding="utf-8")
    answer, _ = await start_run(jp_fetch, path="nopage.ipynb", cell=ids[0])
    run = await finished(jp_fetch, answer["id"])
    assert run["status"] == "done"
    assert [c["id"] for c in run["cells"] if c["status"] == "done"] == ids[:2]
    notebook = saved(jp_root_dir, "nopage.ipynb")
    assert text(notebook.cells[1]) == "y 6\n"
    assert notebook.cells[0].source == "x = 5"
    assert notebook.cells[2].execution_count is None, "the unrelated cell never ran"


async def test_no_cascade_runs_only_that_cell(jp_fetch: Any, make_notebook: Any) -> None:
    ids = make_notebook("only.ipynb", ["x = 1", "print('x', x)"])
    answer, _ = await start_run(jp_fetch, path="only.ipynb", cell=0, start_kernel=True)
    await finished(jp_fetch, answer["id"])
    answer, _ = await start_run(jp_fetch, path="only.ipynb", cell=ids[0], cascade=False)
    assert answer["plan"] == [ids[0]]
    run = await finished(jp_fetch, answer["id"])
    assert [c["id"] for c in run["cells"]] == [ids[0]]


async def test_run_lifecycle_error_and_stop(
    jp_fetch: Any, jp_root_dir: Any, make_notebook: Any
) -> None:
    sources = ["import time\nx = 1", "time.sleep(0.6)\ny = x", "z = y + 1", "w = z + 1"]
    ids = make_notebook("life.ipynb", sources)
    answer, _ = await start_run(jp_fetch, path="life.ipynb", cell=3, start_kernel=True)
    run = await finished(jp_fetch, answer["id"])
    assert run["status"] == "done" and "running" in run["seen"]
    assert [c["id"] for c in run["cells"]] == ids

    # a cascade that gets stopped: the cells not run are skipped
    answer, _ = await start_run(jp_fetch, path="life.ipynb", cell=0)
    assert answer["plan"] == ids
    while (await run_status(jp_fetch, answer["id"]))["cells"][1]["status"] != "running":
        await asyncio.sleep(0.02)
    stop = await jp_fetch(
        "api", "cascade", "stop", method="POST", body=json.dumps({"path": "life.ipynb"})
    )
    assert json.loads(stop.body)["stopped"] is True
    run = await finished(jp_fetch, answer["id"])
    assert run["status"] == "stopped"
    assert [c["status"] for c in run["cells"]] == ["done", "done", "skipped", "skipped"]

    # a cell that raises: status error, its outputs carry the error
    notebook = saved(jp_root_dir, "life.ipynb")
    notebook.cells[2].source = "z = y + undefined_name"
    (jp_root_dir / "life.ipynb").write_text(nbformat.writes(notebook), encoding="utf-8")
    answer, _ = await start_run(jp_fetch, path="life.ipynb", cell=ids[2])
    run = await finished(jp_fetch, answer["id"])
    assert run["status"] == "error"
    failed = next(c for c in run["cells"] if c["id"] == ids[2])
    assert failed["status"] == "error" and failed["outputs"][-1]["ename"] == "NameError"
    assert saved(jp_root_dir, "life.ipynb").cells[2].outputs[-1]["ename"] == "NameError"


async def test_old_notebook_runs_by_index(jp_fetch: Any, jp_root_dir: Any) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.nbformat_minor = 4
    notebook.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("a = 2")]
    notebook.cells.append(nbformat.v4.new_code_cell("print('a', a * 3)"))
    for cell in notebook.cells:
        del cell["id"]
    (jp_root_dir / "old.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    answer, _ = await start_run(jp_fetch, path="old.ipynb", cell=1, start_kernel=True)
    run = await finished(jp_fetch, answer["id"])
    assert run["status"] == "done"
    notebook = saved(jp_root_dir, "old.ipynb")
    assert notebook.nbformat_minor >= 5 and all(cell.get("id") for cell in notebook.cells)
    assert text(notebook.cells[2]) == "a 6\n"


class TestWithSharedDocument:
    @pytest.fixture
    def rtc(self) -> bool:
        return True

    async def test_outputs_reach_the_open_document(
        self,
        jp_fetch: Any,
        jp_http_port: int,
        jp_base_url: str,
        jp_auth_header: dict[str, str],
        make_notebook: Any,
    ) -> None:
        ids = make_notebook("live.ipynb", ["x = 20", "print('x', x + 1)"])
        async with open_shared_notebook(
            jp_fetch, jp_http_port, jp_base_url, jp_auth_header, "live.ipynb"
        ) as shared:
            answer, _ = await start_run(jp_fetch, path="live.ipynb", cell=ids[1], start_kernel=True)
            run = await finished(jp_fetch, answer["id"])
            assert run["status"] == "done"
            cells = await shared.wait_until(
                lambda cells: text(cells[1]) == "x 21\n" and cells[1]["execution_count"]
            )
            assert cells[1]["execution_count"] == run["cells"][1]["execution_count"]
            assert cells[0]["execution_count"] == run["cells"][0]["execution_count"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "JSON"),
        ([1], "object"),
        ({"cell": 0}, "'path'"),
        ({"path": "a.ipynb"}, "'cell'"),
        ({"path": "a.ipynb", "cell": True}, "'cell'"),
        ({"path": "a.ipynb", "cell": -1}, "'cell'"),
        ({"path": "a.ipynb", "cell": 0, "cascade": "yes"}, "'cascade'"),
        ({"path": "a.ipynb", "cell": 0, "start_kernel": 1}, "'start_kernel'"),
    ],
)
async def test_bad_body_is_400_naming_the_field(jp_fetch: Any, body: Any, field: str) -> None:
    code, message = await refusal(jp_fetch, body)
    assert (code, field in message) == (400, True), message


async def test_unknown_notebook_cell_or_session_is_404(jp_fetch: Any, make_notebook: Any) -> None:
    make_notebook("there.ipynb", ["x = 1"])
    for body, words in [
        ({"path": "nowhere.ipynb", "cell": 0, "start_kernel": True}, "no notebook"),
        ({"path": "there.ipynb", "cell": "nope", "start_kernel": True}, "no code cell"),
        ({"path": "there.ipynb", "cell": 1, "start_kernel": True}, "index 1"),
        ({"path": "there.ipynb", "cell": 0}, "start_kernel"),
    ]:
        code, message = await refusal(jp_fetch, body)
        assert (code, words in message) == (404, True), message


async def test_busy_notebook_is_409(jp_fetch: Any, make_notebook: Any) -> None:
    make_notebook("busy.ipynb", ["import time; time.sleep(1.0)"])
    answer, _ = await start_run(jp_fetch, path="busy.ipynb", cell=0, start_kernel=True)
    code, message = await refusal(jp_fetch, {"path": "busy.ipynb", "cell": 0})
    assert code == 409 and "in progress" in message
    await finished(jp_fetch, answer["id"])


@pytest.fixture
def bash_kernelspec(jp_data_dir: Any) -> str:
    """bash_kernel (a test dependency), visible to the test server."""
    spec_dir = jp_data_dir / "kernels" / "bash"
    spec_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "bash_kernel", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "Bash", "language": "bash"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return "bash"


async def test_kernel_without_agent_is_409(
    jp_fetch: Any, jp_root_dir: Any, bash_kernelspec: str
) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("echo hi")])
    notebook.metadata["kernelspec"] = {
        "name": bash_kernelspec,
        "display_name": "Bash",
        "language": "bash",
    }
    (jp_root_dir / "sh.ipynb").write_text(nbformat.writes(notebook), encoding="utf-8")
    code, message = await refusal(jp_fetch, {"path": "sh.ipynb", "cell": 0, "start_kernel": True})
    assert code == 409 and "reactivity is unavailable for bash kernels" in message


async def test_unknown_run_is_404(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as error:
        await run_status(jp_fetch, "no-such-run")
    assert error.value.code == 404
