"""Moving a widget in the browser re-runs the cells that read it (issue: ipywidgets)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("ipywidgets")


async def test_slider_update_reruns_its_readers(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = [
        "import ipywidgets as widgets\nslider = widgets.IntSlider(value=1)",
        "print('square', slider.value ** 2)",
        "print('unrelated')",
    ]
    ids = make_notebook("widgets.ipynb", sources)
    client = await open_session("widgets.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("widgets.ipynb")
    probe = await client.execute("print(slider.model_id)")
    assert probe["status"] == "ok"
    model_id = client.executions(0)[-1].stdout.strip()

    mark = len(client.messages)
    for value in (2, 3, 4):  # a drag: several updates in a row, one cascade
        update = client.new_message(
            "comm_msg",
            {
                "comm_id": model_id,
                "data": {"method": "update", "state": {"value": value}, "buffer_paths": []},
            },
        )
        client.send(update)
    await client.wait_for(
        lambda m: m["msg_type"] == "execute_input" and m["content"]["code"] == sources[1]
    )
    graph = await cascade_api.settled("widgets.ipynb")
    runs = client.executions(mark)
    assert [r.stdout for r in runs] == ["square 16\n"], "one debounced re-run with the last value"
    assert {c["state"] for c in graph["cells"]} == {"fresh"}
