"""The OpenAPI 3 document of every route of the extension, served at
``GET /api/cascade/openapi.json`` (the one place it is written down).

Paths are relative to the server's base URL (``servers[0].url`` is set to it
when served). The events websocket is described as what it is over HTTP: a
GET that upgrades (101) and otherwise answers 400. The tests check the
server against this document (tests/integration/test_openapi.py).
"""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

STATES = ["fresh", "stale", "waiting", "dirty", "error", "never_run", "queued", "running"]
RUN_STATUSES = ["queued", "running", "done", "error", "stopped"]
CELL_STATUSES = ["queued", "running", "done", "error", "skipped"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


_STR = {"type": "string"}
_STRS = {"type": "array", "items": _STR}
_NULL_STR = {"type": "string", "nullable": True}
_NULL_INT = {"type": "integer", "nullable": True}

#: refusals every route shares
_AUTH: dict[str, Any] = {
    "401": {"description": "Not authenticated (no or wrong token, no login)."},
    "403": {
        "description": "Authenticated, but the authorizer denies this user the action "
        "on `kernels` (another user on JupyterHub), or a missing `_xsrf` with cookie auth."
    },
}


def _query(name: str, description: str, example: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
        "example": example,
    }


_PATH_QUERY = _query("path", "The notebook's path, relative to the server root.", "notebook.ipynb")
_NOTEBOOK_BODY = _obj(["path"], path={"type": "string", "example": "notebook.ipynb"})


def _post(
    summary: str, body: dict[str, Any], ok: str, answer: dict[str, Any], **errors: str
) -> Any:
    responses = {ok: _json(answer, summary)}
    responses.update({code: _error(text) for code, text in errors.items()})
    return {
        "post": {
            "summary": summary,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": body}},
            },
            "responses": {**responses, **_AUTH},
        }
    }


def _get(summary: str, parameters: list[Any], answer: dict[str, Any], **errors: str) -> Any:
    responses = {"200": _json(answer, summary)}
    responses.update({code: _error(text) for code, text in errors.items()})
    return {
        "get": {"summary": summary, "parameters": parameters, "responses": {**responses, **_AUTH}}
    }


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["message"],
        "properties": {"message": _STR, "reason": _NULL_STR, "traceback": _NULL_STR},
    },
    "Graph": _obj(
        ["path", "kernel_id", "mode", "direction", "busy", "available", "cells", "edges"],
        path=_STR,
        kernel_id=_STR,
        mode={"type": "string", "enum": ["reactive", "lazy"]},
        direction={"type": "string", "enum": ["in_order", "any_order"]},
        busy={"type": "boolean"},
        available={"type": "boolean"},
        reason=_NULL_STR,
        cells={
            "type": "array",
            "items": _obj(
                ["id", "index", "execution_count", "state"],
                id=_STR,
                index={"type": "integer"},
                source=_STR,
                execution_count=_NULL_INT,
                state={"type": "string", "enum": STATES},
                reason=_NULL_STR,
            ),
        },
        edges={
            "type": "array",
            "items": _obj(["source", "target", "symbols"], source=_STR, target=_STR, symbols=_STRS),
        },
    ),
    "RunCell": _obj(
        ["id", "status", "execution_count", "outputs"],
        id=_STR,
        status={"type": "string", "enum": CELL_STATUSES},
        execution_count=_NULL_INT,
        outputs={
            "type": "array",
            "description": "nbformat 4 outputs",
            "items": _obj(["output_type"], output_type=_STR),
        },
    ),
    "Run": _obj(
        ["id", "path", "status", "cells"],
        id=_STR,
        path=_STR,
        status={"type": "string", "enum": RUN_STATUSES},
        cells={"type": "array", "items": _ref("RunCell")},
        message={"type": "string", "description": "why the run ended in error, if known"},
    ),
}

RUN_BODY = {
    "type": "object",
    "required": ["path", "cell"],
    "properties": {
        "path": {"type": "string", "example": "notebook.ipynb"},
        "cell": {
            "description": "A cell id (nbformat 4.5), or the 0-based index of a code cell.",
            "oneOf": [{"type": "string", "minLength": 1}, {"type": "integer", "minimum": 0}],
            "example": 0,
        },
        "cascade": {
            "type": "boolean",
            "default": True,
            "description": "false: run only this cell (no pull, no cascade)",
        },
        "start_kernel": {
            "type": "boolean",
            "default": False,
            "description": "start a kernel session for the notebook when it has none",
        },
    },
}

_LOGIN = {"description": "Not logged in: a redirect to the server's login page."}

_EVENTS = {
    "get": {
        "summary": "The push endpoint: a websocket (GET with `Upgrade: websocket`).",
        "description": (
            "Sends JSON text messages `{type: graph, graph: <GET graph body> | null, "
            "progress: {trigger, running, queued, done, total}, message?}` at connect and "
            "whenever the notebook's states, edges, queue, running cell, mode, direction "
            "or code cells change. Clients send nothing."
        ),
        "parameters": [_PATH_QUERY],
        "responses": {
            "101": {"description": "Switching protocols: the websocket is open."},
            "400": {"description": "Not a websocket upgrade, or no `path`."},
            **_AUTH,
        },
    }
}

_PAGE = {
    "get": {
        "summary": "The graph page, drawing a notebook's cell graph (HTML).",
        "parameters": [{**_PATH_QUERY, "required": False}],
        "responses": {
            "200": {"description": "The page.", "content": {"text/html": {}}},
            "302": _LOGIN,
            **_AUTH,
        },
    }
}

_STATIC_PARAMS = [{"name": "file", "in": "path", "required": True, "schema": _STR}]
_STATIC_ANSWERS: dict[str, Any] = {
    "200": {"description": "The file."},
    "302": _LOGIN,
    "304": {"description": "Not modified since the client's copy."},
    "404": {"description": "No such file."},
    **_AUTH,
}
_OUTSIDE = {"description": _AUTH["403"]["description"] + " Also: a path outside the assets."}


def _static() -> dict[str, Any]:
    responses: dict[str, Any] = {**_STATIC_ANSWERS, "403": _OUTSIDE}
    return {
        "summary": "The graph page's own assets.",
        "parameters": _STATIC_PARAMS,
        "responses": responses,
    }


_STATIC = {method: _static() for method in ("get", "head")}

PATHS: dict[str, Any] = {
    "/api/cascade/graph": _get(
        "A notebook's cells with their states, and the edges between them.",
        [_PATH_QUERY],
        _ref("Graph"),
        **{"400": "No `path`.", "404": "No kernel session has that path."},
    ),
    "/api/cascade/preview": _get(
        "The cells a run of `cell` would run, in order; nothing runs.",
        [_PATH_QUERY, _query("cell", "A cell id.", "cell-0")],
        _obj(
            ["path", "cell", "cells", "upstream"], path=_STR, cell=_STR, cells=_STRS, upstream=_STRS
        ),
        **{
            "400": "No `path` or `cell`.",
            "404": "No kernel session has that path, or no code cell has that id.",
            "409": "The dependency graph has a cycle (any_order).",
        },
    ),
    "/api/cascade/resolve": _post(
        "Run every stale, waiting and dirty cell in notebook order.",
        _NOTEBOOK_BODY,
        "202",
        _obj(["path", "kernel_id", "cells"], path=_STR, kernel_id=_STR, cells=_STRS),
        **{
            "400": "Not a JSON object with a `path`.",
            "404": "No kernel session has that path.",
            "409": "The kernel has no agent (reactivity unavailable).",
        },
    ),
    "/api/cascade/stop": _post(
        "Start no further cell of the cascade in progress.",
        _NOTEBOOK_BODY,
        "200",
        _obj(["path", "stopped"], path=_STR, stopped={"type": "boolean"}),
        **{"400": "Not a JSON object with a `path`.", "404": "No kernel session has that path."},
    ),
    "/api/cascade/mode": _post(
        "Change the session's mode and direction; runs nothing.",
        {
            **_NOTEBOOK_BODY,
            "properties": {
                **_NOTEBOOK_BODY["properties"],
                "mode": {"type": "string", "enum": ["reactive", "lazy"]},
                "direction": {"type": "string", "enum": ["in_order", "any_order"]},
            },
        },
        "200",
        _obj(["path", "mode", "direction"], path=_STR, mode=_STR, direction=_STR),
        **{
            "400": "Not a JSON object with a `path`, or a bad `mode` / `direction`.",
            "404": "No kernel session has that path.",
            "409": "The kernel has no agent (reactivity unavailable).",
        },
    ),
    "/api/cascade/run": _post(
        "Run a cell as a browser run would: pull, run, cascade.",
        RUN_BODY,
        "202",
        _obj(["id", "plan"], id=_STR, plan=_STRS),
        **{
            "400": "A bad body; the message names the field.",
            "404": "No notebook at `path`, no such cell, or no kernel session "
            "(and `start_kernel` false).",
            "409": "Another run or cascade of the notebook is active, the kernel has "
            "no agent, or an old notebook without cell ids is open in a page.",
        },
    ),
    "/api/cascade/runs/{id}": _get(
        "A REST run's status and its cells' outputs.",
        [
            {"name": "id", "in": "path", "required": True, "schema": _STR},
            {
                "name": "wait",
                "in": "query",
                "required": False,
                "description": "Long poll: answer when the run ends, or after this many seconds.",
                "schema": {"type": "number", "minimum": 0, "maximum": 60},
            },
        ],
        _ref("Run"),
        **{
            "400": "A bad `wait`.",
            "404": "No run with that id (runs are kept while the server runs, the newest 200).",
        },
    ),
    "/api/cascade/events": _EVENTS,
    "/api/cascade/openapi.json": {
        "get": {
            "summary": "This document.",
            "responses": {"200": _json({"type": "object"}, "The OpenAPI document."), **_AUTH},
        }
    },
    "/cascade/graph": _PAGE,
    "/cascade/static/{file}": _STATIC,
}
PATHS["/api/cascade/run"]["post"]["responses"]["202"]["headers"] = {
    "Location": {
        "description": "The run's status URL, `<base_url>api/cascade/runs/<id>`.",
        "schema": _STR,
    }
}


def document(base_url: str = "/") -> dict[str, Any]:
    """The OpenAPI document, for a server at ``base_url``."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "jupyter-cascade",
            "version": "0.1.0",
            "description": (
                "Reactive notebook execution as a Jupyter Server extension. Every route needs "
                "jupyter_server authentication (a token header, or a login cookie plus `_xsrf` "
                "for POST) and authorization on the `kernels` resource."
            ),
        },
        "servers": [{"url": base_url.rstrip("/") or "/"}],
        "security": [{"token": []}],
        "paths": copy.deepcopy(PATHS),
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`token <the server's token>`",
                }
            },
        },
    }


class OpenApiHandler(APIHandler):
    """GET /api/cascade/openapi.json → this module's document."""

    auth_resource = "kernels"

    @web.authenticated
    @authorized
    def get(self) -> None:
        self.set_status(HTTPStatus.OK)
        self.finish(document(self.base_url))


def openapi_handlers(base_url: str) -> list[tuple[str, type]]:
    return [(base_url.rstrip("/") + "/api/cascade/openapi.json", OpenApiHandler)]
