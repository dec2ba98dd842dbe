"""REST endpoints: the cell graph and the preview of a run.

Every route goes through jupyter_server's authentication (``@web.authenticated``)
and authorization (``@authorized`` on the ``kernels`` resource: the graph shows
a kernel's state and code).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from kernel_agent.core.planning import (
    CycleError,
    NotebookCell,
    ancestors,
    plan_downstream,
    plan_upstream,
)

from .cell_states import cells_json
from .graph_text import graph_head
from .runner import KernelRunner
from .service import CascadeService


class _CascadeHandler(APIHandler):
    auth_resource = "kernels"

    @property
    def service(self) -> CascadeService:
        return self.settings["cascade"]  # type: ignore[no-any-return]

    def _required(self, name: str) -> str:
        value = self.get_query_argument(name, default="").strip()
        if not value:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, f"missing query argument {name!r}")
        return value

    async def _notebook(self) -> tuple[str, str, KernelRunner, list[NotebookCell]]:
        """The notebook named by ``?path=``, its kernel's runner and its code cells."""
        path = self._required("path").strip("/")
        kernel_id = await self.service.find_kernel(path)
        if kernel_id is None:
            raise web.HTTPError(HTTPStatus.NOT_FOUND, f"no kernel session for {path!r}")
        runner = self.service.runner_for(kernel_id)
        model = await self.service.open_model(path, runner)
        try:
            cells = await model.code_cells()
        except web.HTTPError:
            raise
        except Exception as error:
            raise web.HTTPError(HTTPStatus.NOT_FOUND, f"cannot read notebook {path!r}") from error
        return path, kernel_id, runner, cells


class GraphHandler(_CascadeHandler):
    """GET /api/cascade/graph?path=<notebook> → cells with states, and edges.

    Body: ``{"path", "kernel_id", "mode", "direction", "busy", "available",
    "cells": [{"id", "index", "source", "execution_count", "state"}],
    "edges": [{"source", "target", "symbols"}]}``.
    """

    @web.authenticated
    @authorized
    async def get(self) -> None:
        path, kernel_id, runner, cells = await self._notebook()
        self.finish(self.service.graph_texts.text(path, kernel_id, runner, cells))


def graph_body(
    path: str, kernel_id: str, runner: KernelRunner, cells: list[NotebookCell]
) -> dict[str, Any]:
    """The body of ``GET /api/cascade/graph`` as a dict (the endpoints send the same
    as text, kept part by part between changes: :mod:`.graph_text`)."""
    state = runner.state
    known = {cell.id for cell in cells}
    return {
        **graph_head(path, kernel_id, runner),
        "cells": cells_json(runner, cells),
        "edges": [
            {"source": e.source, "target": e.target, "symbols": e.symbols}
            for e in state.graph.edges()
            if e.source in known and e.target in known
        ],
    }


class PreviewHandler(_CascadeHandler):
    """GET /api/cascade/preview?path=<notebook>&cell=<id> → the cells a run would run.

    Body: ``{"path", "cell", "cells": [ids in run order], "upstream": [ids]}``:
    ``upstream`` are the up-to-date cells it reads from (not run). Nothing is executed.
    """

    @web.authenticated
    @authorized
    async def get(self) -> None:
        path, _, runner, cells = await self._notebook()
        cell_id = self._required("cell")
        if cell_id not in {cell.id for cell in cells}:
            raise web.HTTPError(HTTPStatus.NOT_FOUND, f"no code cell {cell_id!r} in {path!r}")
        await runner.prepare_predictions(cells)
        graph = runner.state.graph
        predicted = runner.predicted(cells)
        try:
            upstream = plan_upstream(graph, cells, cell_id, predicted, runner.direction)
        except CycleError as error:
            raise web.HTTPError(HTTPStatus.CONFLICT, str(error)) from error
        downstream = plan_downstream(graph, cells, [cell_id], predicted)
        sources = [c for c in ancestors(graph, cells, cell_id, predicted) if c not in upstream]
        self.finish(
            {
                "path": path,
                "cell": cell_id,
                "cells": [*upstream, cell_id, *downstream],
                "upstream": sources,
            }
        )


def handlers(base_url: str) -> list[tuple[str, type]]:
    prefix = base_url.rstrip("/") + "/api/cascade"
    return [(prefix + "/graph", GraphHandler), (prefix + "/preview", PreviewHandler)]
