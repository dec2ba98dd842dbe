"""Every HTTP route of the extension against its OpenAPI document, with schemathesis.

The server runs in this test's event loop (pytest-jupyter), and schemathesis'
client is blocking, so the fuzzing runs in a worker thread while the loop
serves. Bounded: a few examples per operation and generation mode (~20 s).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server_ext.openapi import PATHS

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 8}


def _settings(examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def _exercise(operation: Any, strategy: Any, examples: int, call: Any) -> str | None:
    """Run ``examples`` cases of ``strategy``; the first failure, as text."""

    @_settings(examples)
    @hypothesis.given(case=strategy)
    def check(case: Any) -> None:
        response = call(case)
        case.validate_response(response, checks=CHECKS)

    try:
        check()
    except (Exception, FailureGroup) as error:  # hypothesis re-raises the minimal case
        return f"{operation.method.upper()} {operation.path}: {error}"
    return None


def fuzz(
    spec: dict[str, Any], base_url: str, headers: dict[str, str]
) -> tuple[dict[str, set[int]], list[str]]:
    """(the statuses each route answered, the failures) for every operation of ``spec``."""
    schema = schemathesis.openapi.from_dict(spec)
    seen: dict[str, set[int]] = {}
    failures = []

    def call(case: Any) -> Any:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        seen.setdefault(case.operation.path, set()).add(response.status_code)
        return response

    for result in schema.get_all_operations():
        operation = result.ok()
        strategies = [(s, 1) for s in schema.get_strategies_from_examples(operation)]
        for mode, examples in EXAMPLES.items():
            has_input = operation.body or any(True for _ in operation.iter_parameters())
            if mode == GenerationMode.NEGATIVE and not has_input:
                continue  # nothing to get wrong
            strategies.append((operation.as_strategy(generation_mode=mode), examples))
        for strategy, examples in strategies:
            failure = _exercise(operation, strategy, examples, call)
            if failure:
                failures.append(failure)
    return seen, failures


async def test_every_route_answers_as_documented(
    jp_fetch: Any,
    jp_http_port: int,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    make_notebook: Any,
) -> None:
    make_notebook("notebook.ipynb", ["x = 1", "y = x + 1"])  # the document's examples
    session = {"path": "notebook.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
    await jp_fetch("api", "sessions", method="POST", body=json.dumps(session))
    spec = json.loads((await jp_fetch("api", "cascade", "openapi.json")).body)
    assert spec["servers"] == [{"url": jp_base_url.rstrip("/")}]

    base_url = f"http://127.0.0.1:{jp_http_port}{jp_base_url.rstrip('/')}"
    seen, failures = await asyncio.to_thread(fuzz, spec, base_url, jp_auth_header)
    assert set(seen) == set(PATHS), "every documented route was exercised"
    assert not failures, "\n\n".join(failures)
    assert {202, 400, 404} <= seen["/api/cascade/run"], seen

    # a real run's status body (fuzzing only meets unknown ids)
    body = {"path": "notebook.ipynb", "cell": 0, "cascade": False}
    await asyncio.to_thread(_until_accepted, spec, base_url, jp_auth_header, body)


def _until_accepted(
    spec: dict[str, Any], base_url: str, headers: dict[str, str], body: dict[str, Any]
) -> None:
    """POST run (again while an earlier run is active: 409), then validate GET runs/<id>."""
    schema = schemathesis.openapi.from_dict(spec)
    post = schema["/api/cascade/run"]["POST"]
    for _ in range(200):
        response = post.Case(body=body, media_type="application/json").call_and_validate(
            base_url=base_url, headers=headers, checks=CHECKS
        )
        if response.status_code == 202:
            break
        assert response.status_code == 409, response.status_code
        time.sleep(0.05)
    run_id = response.json()["id"]
    status = schema["/api/cascade/runs/{id}"]["GET"]
    for _ in range(400):
        answer = status.Case(path_parameters={"id": run_id}).call_and_validate(
            base_url=base_url, headers=headers, checks=CHECKS
        )
        if answer.json()["status"] not in ("queued", "running"):
            break
        time.sleep(0.05)
    assert answer.json()["status"] == "done", answer.json()
    assert answer.json()["cells"][0]["execution_count"], answer.json()
