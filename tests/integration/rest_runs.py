"""Helpers for tests of ``POST /api/cascade/run`` and ``GET /api/cascade/runs/<id>``."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from tornado.httpclient import HTTPClientError


async def start_run(jp_fetch: Any, **body: Any) -> tuple[dict[str, Any], str]:
    """POST run; the 202 body and its Location header."""
    response = await jp_fetch("api", "cascade", "run", method="POST", body=json.dumps(body))
    assert response.code == 202, response.code
    return json.loads(response.body), response.headers["Location"]


async def refusal(jp_fetch: Any, body: Any) -> tuple[int, str]:
    """The status and message of a POST run that must fail."""
    raw = body if isinstance(body, str) else json.dumps(body)
    try:
        response = await jp_fetch("api", "cascade", "run", method="POST", body=raw)
    except HTTPClientError as error:
        assert error.response is not None
        return error.code, json.loads(error.response.body)["message"]
    raise AssertionError(f"accepted: {response.code} {response.body!r}")


async def run_status(jp_fetch: Any, run_id: str) -> dict[str, Any]:
    response = await jp_fetch("api", "cascade", "runs", run_id)
    return json.loads(response.body)  # type: ignore[no-any-return]


async def finished(jp_fetch: Any, run_id: str, timeout: float = 60) -> dict[str, Any]:
    """The run's body once it ended (polled with a deadline); every status seen is kept
    in the answer's ``"seen"``."""
    deadline, seen = time.monotonic() + timeout, []
    while True:
        body = await run_status(jp_fetch, run_id)
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] not in ("queued", "running"):
            return {**body, "seen": seen}
        assert time.monotonic() < deadline, f"run {run_id} still {body['status']}"
        await asyncio.sleep(0.02)


def text(cell: dict[str, Any]) -> str:
    return "".join(out.get("text", "") for out in cell.get("outputs", []))
