"""A real jupyter_server with jupyter-cascade (and, where asked, jupyter-collaboration)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import nbformat
import pytest

from .browser import BrowserClient, CascadeApi


@pytest.fixture
def rtc() -> bool:
    """Override (or parametrize) to run a test with the live shared document."""
    return False


@pytest.fixture
def cascade_config() -> dict[str, Any]:
    return {}


@pytest.fixture
def server_overrides() -> dict[str, Any]:
    """Extra ServerApp settings for one test module (e.g. an authorizer)."""
    return {}


@pytest.fixture
def jp_server_config(
    jp_root_dir: Any, rtc: bool, cascade_config: dict[str, Any], server_overrides: dict[str, Any]
) -> dict:
    extensions = {"server_ext": True}
    config: dict[str, Any] = {
        "ServerApp": {"jpserver_extensions": extensions, **server_overrides},
        "Cascade": cascade_config,
    }
    if rtc:
        extensions.update({"jupyter_server_ydoc": True, "jupyter_server_fileid": True})
        config.update(
            {
                "SQLiteYStore": {"db_path": str(jp_root_dir / ".rtc_test.db")},
                "BaseFileIdManager": {
                    "root_dir": str(jp_root_dir),
                    "db_path": str(jp_root_dir / ".fid_test.db"),
                    "db_journal_mode": "OFF",
                },
                "YDocExtension": {"document_save_delay": 0.5, "document_cleanup_delay": 60},
            }
        )
    return config


@pytest.fixture
def make_notebook(jp_root_dir: Any) -> Callable[[str, list[str]], list[str]]:
    """Write a notebook of code cells; return the cell ids in order."""

    def make(path: str, sources: list[str]) -> list[str]:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
        for i, cell in enumerate(nb.cells):
            cell.id = f"cell-{i}"
        (jp_root_dir / path).write_text(nbformat.writes(nb), encoding="utf-8")
        return [cell.id for cell in nb.cells]

    return make


@pytest.fixture
def open_session(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any
) -> Callable[..., Awaitable[BrowserClient]]:
    """Start a kernel session for a notebook and connect to it as a browser would."""
    clients: list[BrowserClient] = []

    async def open_(
        path: str,
        protocol: str = "v1",
        kernel_id: str | None = None,
        kernel: str = "python3",
        user_agent: str | None = None,
    ) -> BrowserClient:
        if kernel_id is None:
            response = await jp_fetch(
                "api",
                "sessions",
                method="POST",
                body=json.dumps({"path": path, "type": "notebook", "kernel": {"name": kernel}}),
            )
            kernel_id = json.loads(response.body)["kernel"]["id"]
        client = await BrowserClient.connect(jp_ws_fetch, kernel_id, protocol, None, user_agent)
        clients.append(client)
        return client

    yield open_  # type: ignore[misc]
    for client in clients:
        client.close()


@pytest.fixture
def cascade_api(jp_fetch: Any) -> CascadeApi:
    return CascadeApi(jp_fetch)
