"""Browser tests: real Jupyter servers driven by Debian's Chromium through Playwright.

Chromium comes from the system (``apt-get install chromium``, see .ci/run);
these tests never download a browser. Servers are module-scoped (one per app
per test module); every test gets a fresh browser context.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .servers import CHROMIUM, CHROMIUM_ARGS, LAB_SETTINGS, JupyterServer

HERE = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives a real Jupyter frontend in headless Chromium"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.timeout(240))


_CONSOLE = pytest.StashKey[list[str]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On failure, attach the browser's console errors and the servers' log tails."""
    report = yield
    if report.when == "call" and report.failed:
        console = item.stash.get(_CONSOLE, [])
        if console:
            report.sections.append(("browser console errors", "\n".join(console[-40:])))
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, JupyterServer):
                report.sections.append((f"jupyter {value.app} log", value.log()[-8000:]))
    return report


# pytest-jupyter's autouse fixtures manage an in-process server's event loop. These
# tests start servers as processes, and Playwright's sync API owns this thread's
# running loop: closing it at teardown would fail. Nothing to set up or clean here.


@pytest.fixture
def jp_asyncio_loop() -> None:
    return None


@pytest.fixture
def jp_server_cleanup() -> None:
    return None


# -- browser ------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (its own cookies and storage) for one test."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(30_000)
    console: list[str] = []
    request.node.stash[_CONSOLE] = console

    def watch(page: Any) -> None:
        page.on("console", lambda m: m.type == "error" and console.append(f"{page.url}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"{page.url}: uncaught {e}"))

    context.on("page", watch)
    yield context
    context.close()


# -- servers ------------------------------------------------------------------


def _write_lab_settings(server: JupyterServer) -> None:
    settings_dir = server.base / "config" / "lab" / "user-settings"
    for plugin, values in LAB_SETTINGS.items():
        target = settings_dir / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values), encoding="utf-8")


def start_server(app: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    server = JupyterServer(app, tmp_path_factory.mktemp(app))
    _write_lab_settings(server)
    server.start()
    yield server
    server.stop()
    if not os.environ.get("CASCADE_KEEP_SERVER_DIRS"):
        shutil.rmtree(server.base, ignore_errors=True)


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    yield from start_server("lab", tmp_path_factory)


@pytest.fixture(scope="module")
def nbclassic_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    yield from start_server("nbclassic", tmp_path_factory)


@pytest.fixture(scope="module")
def notebook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    yield from start_server("notebook", tmp_path_factory)


@pytest.fixture
def notebook_name(request: pytest.FixtureRequest) -> str:
    """A notebook path unique to the test (servers are shared within a module)."""
    name = request.node.name.replace("[", "-").replace("]", "")
    return f"{name}.ipynb"


@pytest.fixture
def screenshot() -> Callable[[Any, str], None]:
    """Save a page to $CASCADE_SCREENSHOT_DIR (e.g. ``docs``) when that is set."""
    target = os.environ.get("CASCADE_SCREENSHOT_DIR")

    def take(page: Any, name: str) -> None:
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(target) / name))

    return take
