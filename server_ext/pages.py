"""The graph page: ``/cascade/graph?path=<notebook>`` and its assets under ``/cascade/static/``.

The page is plain HTML, JavaScript and a vendored layout library (frontend/);
it draws what ``GET /api/cascade/graph`` returns. Both routes need a logged-in
user allowed to read kernels, like the REST endpoint the page calls.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

PAGE_ROUTE = "cascade/graph"
STATIC_ROUTE = "cascade/static"


def frontend_dir() -> Path:
    """The assets: inside the installed package (wheel), else the source checkout."""
    package = Path(__file__).resolve().parent
    bundled = package / "_frontend"
    return bundled if bundled.is_dir() else package.parent / "frontend"


def _script_safe_json(value: Any) -> str:
    """JSON that cannot close the ``<script>`` element it is embedded in."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")


class GraphPageHandler(JupyterHandler):
    """GET /cascade/graph?path=<notebook> → the page drawing that notebook's cell graph."""

    auth_resource = "kernels"

    @web.authenticated
    @authorized
    def get(self) -> None:
        path = self.get_query_argument("path", default="").strip().strip("/")
        template = (frontend_dir() / "graph.html").read_text(encoding="utf-8")
        config = {"baseUrl": self.base_url, "path": path, "xsrfToken": self.xsrf_token.decode()}
        page = template.replace(
            "{{ static_url }}", url_path_join(self.base_url, STATIC_ROUTE)
        ).replace("{{ page_config }}", _script_safe_json(config))
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(page)


class StaticHandler(JupyterHandler, web.StaticFileHandler):
    """The page's own files, only for logged-in users; revalidated on every load."""

    auth_resource = "kernels"

    @web.authenticated
    @authorized
    def head(self, path: str) -> Awaitable[None]:  # type: ignore[override]
        return web.StaticFileHandler.get(self, path, include_body=False)

    @web.authenticated
    @authorized
    def get(self, path: str, include_body: bool = True) -> Awaitable[None]:  # type: ignore[override]
        return web.StaticFileHandler.get(self, path, include_body=include_body)

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-cache")


def page_handlers(base_url: str) -> list[tuple[Any, ...]]:
    return [
        (url_path_join(base_url, PAGE_ROUTE), GraphPageHandler),
        (
            url_path_join(base_url, STATIC_ROUTE, "(.*)"),
            StaticHandler,
            {"path": str(frontend_dir())},
        ),
    ]
