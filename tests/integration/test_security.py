"""Every route of ours goes through jupyter_server's authentication and authorization."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

ROUTES = [
    ("api", "cascade", "graph"),
    ("api", "cascade", "preview"),
]
PARAMS = {"path": "nb.ipynb", "cell": "cell-0"}


async def status_of(jp_fetch: Any, route: tuple[str, ...], **kwargs: Any) -> int:
    try:
        response = await jp_fetch(*route, params=PARAMS, **kwargs)
    except HTTPClientError as error:
        return error.code
    return int(response.code)


@pytest.mark.parametrize("route", ROUTES, ids="/".join)
async def test_no_token_or_wrong_token_is_refused(jp_fetch: Any, route: tuple[str, ...]) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "token not-the-token"}):
        assert await status_of(jp_fetch, route, headers=headers) in (401, 403)


async def test_errors_carry_no_traceback(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("api", "cascade", "graph", params={"path": "../../etc/passwd"})
    assert error.value.code == 404
    body = json.loads(error.value.response.body)
    assert "no kernel session" in body["message"]
    assert not body.get("traceback")
    with pytest.raises(HTTPClientError) as missing:
        await jp_fetch("api", "cascade", "graph")
    assert missing.value.code == 400
    assert "path" in json.loads(missing.value.response.body)["message"]


class TestDenyingAuthorizer:
    @pytest.fixture
    def server_overrides(self) -> dict[str, Any]:
        return {"authorizer_class": "integration.authorizers.DenyKernels"}

    @pytest.mark.parametrize("route", ROUTES, ids="/".join)
    async def test_authorizer_denial_is_403(self, jp_fetch: Any, route: tuple[str, ...]) -> None:
        assert await status_of(jp_fetch, route) == 403

    async def test_kernel_websocket_keeps_its_own_checks(
        self, jp_serverapp: Any, jp_ws_fetch: Any
    ) -> None:
        kernel_id = await jp_serverapp.kernel_manager.start_kernel(kernel_name="python3")
        with pytest.raises(HTTPClientError) as error:
            await jp_ws_fetch("api", "kernels", kernel_id, "channels")
        assert error.value.code == 403


async def test_kernel_websocket_without_token_is_refused(
    jp_serverapp: Any, jp_ws_fetch: Any
) -> None:
    kernel_id = await jp_serverapp.kernel_manager.start_kernel(kernel_name="python3")
    with pytest.raises(HTTPClientError) as error:
        await jp_ws_fetch(
            "api", "kernels", kernel_id, "channels", headers={"Authorization": "token nope"}
        )
    assert error.value.code in (401, 403)


CONTROLS = ["resolve", "stop", "mode"]


async def post_status(jp_fetch: Any, route: str, **kwargs: Any) -> int:
    try:
        response = await jp_fetch(
            "api", "cascade", route, method="POST", body=json.dumps(PARAMS), **kwargs
        )
    except HTTPClientError as error:
        return error.code
    return int(response.code)


async def events_status(jp_ws_fetch: Any, **kwargs: Any) -> int:
    try:
        ws = await jp_ws_fetch("api", "cascade", "events", params=PARAMS, **kwargs)
    except HTTPClientError as error:
        return error.code
    ws.close()
    return 101


@pytest.mark.parametrize("route", CONTROLS)
async def test_controls_refuse_no_token_or_wrong_token(jp_fetch: Any, route: str) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "token not-the-token"}):
        assert await post_status(jp_fetch, route, headers=headers) in (401, 403)


async def test_events_websocket_refuses_no_token_or_wrong_token(jp_ws_fetch: Any) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "token not-the-token"}):
        assert await events_status(jp_ws_fetch, headers=headers) in (401, 403)
    assert await events_status(jp_ws_fetch) == 101, "with the token it opens"


class TestDenyingAuthorizerOnNewRoutes:
    @pytest.fixture
    def server_overrides(self) -> dict[str, Any]:
        return {"authorizer_class": "integration.authorizers.DenyKernels"}

    @pytest.mark.parametrize("route", CONTROLS)
    async def test_controls_denied(self, jp_fetch: Any, route: str) -> None:
        assert await post_status(jp_fetch, route) == 403

    async def test_events_denied(self, jp_ws_fetch: Any) -> None:
        assert await events_status(jp_ws_fetch) == 403


RUN_BODY = {"path": "nb.ipynb", "cell": 0, "start_kernel": True}


async def run_status(jp_fetch: Any, **kwargs: Any) -> int:
    try:
        response = await jp_fetch(
            "api", "cascade", "run", method="POST", body=json.dumps(RUN_BODY), **kwargs
        )
    except HTTPClientError as error:
        return error.code
    return int(response.code)


async def get_status(jp_fetch: Any, *route: str, **kwargs: Any) -> int:
    try:
        response = await jp_fetch("api", "cascade", *route, **kwargs)
    except HTTPClientError as error:
        return error.code
    return int(response.code)


async def test_run_routes_refuse_no_token_or_wrong_token(jp_fetch: Any) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "token not-the-token"}):
        assert await run_status(jp_fetch, headers=headers) in (401, 403)
        for route in (("runs", "some-id"), ("openapi.json",)):
            assert await get_status(jp_fetch, *route, headers=headers) in (401, 403)


async def test_run_with_cookie_auth_needs_xsrf(jp_fetch: Any, jp_serverapp: Any) -> None:
    """A browser's login cookie alone is refused; with the _xsrf token it passes
    (token auth, as every other test here uses, is exempt)."""
    anonymous = {"Authorization": ""}
    page = await jp_fetch("login", headers=anonymous)
    xsrf = next(
        c.split(";")[0].split("=", 1)[1]
        for c in page.headers.get_list("Set-Cookie")
        if c.startswith("_xsrf=")
    )
    token = jp_serverapp.identity_provider.token
    login = await jp_fetch(
        "login",
        method="POST",
        headers={**anonymous, "Cookie": f"_xsrf={xsrf}"},
        body=f"password={token}&_xsrf={xsrf}",
        follow_redirects=False,
        raise_error=False,
    )
    cookies = "; ".join(c.split(";")[0] for c in login.headers.get_list("Set-Cookie"))
    assert login.code == 302 and "username-" in cookies, login.code
    browser = {**anonymous, "Cookie": f"{cookies}; _xsrf={xsrf}"}
    assert await run_status(jp_fetch, headers=browser) == 403
    answer = await run_status(jp_fetch, headers={**browser, "X-XSRFToken": xsrf})
    assert answer == 404, "authenticated: the missing notebook is the answer"


class TestUserDeniedExecute:
    @pytest.fixture
    def server_overrides(self) -> dict[str, Any]:
        return {"authorizer_class": "integration.authorizers.DenyExecute"}

    async def test_run_is_403_while_reading_is_allowed(self, jp_fetch: Any) -> None:
        assert await run_status(jp_fetch) == 403
        assert await get_status(jp_fetch, "runs", "unknown") == 404, "reading runs is allowed"


class TestAnotherUser:
    """JupyterHub: someone else's server refuses every route of ours (README, Deploying)."""

    @pytest.fixture
    def server_overrides(self) -> dict[str, Any]:
        return {"authorizer_class": "integration.authorizers.OwnerOnly"}

    async def test_run_and_events_are_403(self, jp_fetch: Any, jp_ws_fetch: Any) -> None:
        assert await run_status(jp_fetch) == 403
        assert await events_status(jp_ws_fetch) == 403
        for route in (("runs", "some-id"), ("openapi.json",), ("graph",)):
            assert await get_status(jp_fetch, *route, params=PARAMS) == 403
