"""The two servers and the browser of a browser bench run.

Both servers are ``jupyter lab`` processes started the way the browser tests
start theirs (``tests/browser/servers.py``): loopback port 0, a token,
temporary root, config, data and runtime directories. One ``jupyter lab``
process serves JupyterLab 4 (``/lab``), Notebook 7 (``/notebooks``) and
nbclassic (``/nbclassic``), because every one of these apps' server
extensions is enabled in the environment; so two processes cover all three
frontends and the pages compare like with like.

- **cascade**: everything as installed (``server_ext``, the Lab 4 / Notebook 7
  extension, the nbclassic nbextension, jupyter-collaboration).
- **stock**: the same, with ``server_ext`` off (``jpserver_extensions``), the Lab
  extension disabled for the user (``jupyter labextension disable``), the
  nbextension disabled in the user's nbconfig, and the kernel websocket class
  of :mod:`bench.nodelay` (the extension turns ``TCP_NODELAY`` on; stock gets
  the same TCP fix, nothing else).

Both expose the app as ``window.jupyterapp`` (``expose_app_in_browser``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.browser.servers import CHROMIUM, CHROMIUM_ARGS, LAB_SETTINGS, JupyterServer

ROOT = Path(__file__).resolve().parents[2]
STOCK, CASCADE = "stock", "cascade"


class BenchServer(JupyterServer):
    """A ``jupyter lab`` process, cascade or stock (see the module's docstring)."""

    def __init__(self, name: str, base: Path) -> None:
        super().__init__("lab", base)
        self.name = name

    @property
    def cascade(self) -> bool:
        return self.name == CASCADE

    @property
    def timeline_path(self) -> Path:
        """The cascade server's ``server_ext.timeline`` lines (epoch seconds, what, ids)."""
        return self.base / "timeline.log"

    def timeline(self) -> list[tuple[float, str, list[str]]]:
        try:
            text = self.timeline_path.read_text()
        except OSError:
            return []
        lines = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                lines.append((float(parts[0]), parts[1], parts[2:]))
        return lines

    def _environment(self) -> dict[str, str]:
        env = super()._environment()
        # bench.nodelay must be importable by the stock server
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        return env

    def configure(self) -> None:
        config = self.base / "config"
        config.mkdir(parents=True, exist_ok=True)
        exposed = {"expose_app_in_browser": True}
        _write(config / "jupyter_lab_config.json", {"LabApp": exposed})
        _write(config / "jupyter_notebook_config.json", {"JupyterNotebookApp": exposed})
        for plugin, values in LAB_SETTINGS.items():
            _write(config / "lab" / "user-settings" / f"{plugin}.jupyterlab-settings", values)
        if self.cascade:
            # the server's moments of a run, for the stage table (server_ext.timeline)
            timeline = {
                "handlers": {
                    "cascade_timeline": {
                        "class": "logging.FileHandler",
                        "filename": str(self.timeline_path),
                        "level": "DEBUG",
                    }
                },
                "loggers": {
                    "server_ext.timeline": {
                        "level": "DEBUG",
                        "handlers": ["cascade_timeline"],
                        "propagate": False,
                    }
                },
            }
            settings: dict[str, Any] = {"ServerApp": {"logging_config": timeline}}
            # CASCADE_BENCH_RUN_AHEAD=32: time another c.Cascade.run_ahead
            ahead = os.environ.get("CASCADE_BENCH_RUN_AHEAD")
            if ahead:
                settings["Cascade"] = {"run_ahead": int(ahead)}
            _write(config / "jupyter_server_config.json", settings)
            return
        server: dict[str, Any] = {
            "jpserver_extensions": {"server_ext": False},
            "kernel_websocket_connection_class": "bench.nodelay.NoDelayConnection",
        }
        _write(config / "jupyter_server_config.json", {"ServerApp": server})
        _write(
            config / "nbconfig" / "notebook.json",
            {"load_extensions": {"jupyter-cascade/main": False}},
        )
        script = Path(sys.executable).parent / "jupyter-labextension"
        subprocess.run(
            [str(script), "disable", "--level=user", "jupyter-cascade"],
            env={**os.environ, "JUPYTER_CONFIG_DIR": str(config)},
            check=True,
            capture_output=True,
        )

    def launch(self) -> None:
        """Start the process without waiting (two servers start in parallel)."""
        self.configure()
        super().launch()

    def ready(self, timeout: float = 120) -> None:
        try:
            self.wait_ready(timeout)
            self.check()
        except BaseException:
            self.stop()
            raise

    def check(self) -> None:
        """The cascade server answers /api/cascade in JSON; stock does not know the route."""
        status, _, body = self.request("GET", "api/cascade/graph?path=bench-probe.ipynb")
        try:
            json.loads(body)
            ours = status == 404
        except ValueError:
            ours = False
        if ours != self.cascade:
            raise RuntimeError(f"{self.name}: server_ext loaded={ours}:\n{self.log()[-3000:]}")

    def set_mode(self, path: str, mode: str) -> None:
        self.api("POST", "api/cascade/mode", {"path": path, "mode": mode})


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


@contextmanager
def servers() -> Iterator[dict[str, BenchServer]]:
    """Stock and cascade, started in parallel, stopped and removed at the end."""
    base = Path(tempfile.mkdtemp(prefix="cascade-browser-bench-"))
    started = {name: BenchServer(name, base / name) for name in (STOCK, CASCADE)}
    try:
        for server in started.values():
            server.launch()
        for server in started.values():
            server.ready()
        yield started
    finally:
        for server in started.values():
            if server.process is not None and server.process.poll() is None:
                server.process.terminate()
        for server in started.values():
            server.stop()
        if not os.environ.get("CASCADE_KEEP_SERVER_DIRS"):
            shutil.rmtree(base, ignore_errors=True)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"no Chromium at {CHROMIUM}: apt-get install chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def busy_cpus(count: int = 2) -> Iterator[None]:
    """``count`` CPU-bound processes (``while True: pass``) beside the measurement."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)
