"""Real ``jupyter lab`` / ``jupyter notebook`` / ``jupyter nbclassic`` processes for browser tests.

Each server gets a loopback port of its own choosing (``--port=0``: no race with
other processes for a port picked in advance; the server reports the port in
its runtime file), a token, a temporary notebook root and temporary Jupyter
config/data/runtime directories, so nothing leaks in or out of the developer's
own Jupyter setup. The extension and jupyter-collaboration are on because the
installed packages enable them.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

#: Debian's Chromium (Playwright never downloads a browser), and how the tests and the bench run it
CHROMIUM = os.environ.get("CASCADE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Lab's "get notified about Jupyter news?" toast would cover part of every page.
LAB_SETTINGS = {"@jupyterlab/apputils-extension/notification": {"fetchNews": "false"}}

#: how each app is started; ``python -m <module>`` is what the ``jupyter <app>`` script runs
APPS = {"lab": "jupyterlab", "notebook": "notebook", "nbclassic": "nbclassic"}


def notebook_json(sources: list[str]) -> dict[str, Any]:
    """A python3 notebook of code cells with ids ``cell-0``, ``cell-1``, ..."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
    return dict(nb)


@dataclass
class JupyterServer:
    """One running Jupyter application and a small REST client for it."""

    app: str
    base: Path
    port: int = 0  # known once the server has started
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def log_path(self) -> Path:
        return self.base / "server.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("config", "data", "runtime", "ipython", "home"):
            (self.base / name).mkdir(parents=True, exist_ok=True)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.base / "config"),
            JUPYTER_DATA_DIR=str(self.base / "data"),
            JUPYTER_RUNTIME_DIR=str(self.base / "runtime"),
            IPYTHONDIR=str(self.base / "ipython"),
            HOME=str(self.base / "home"),
            PYTHONUNBUFFERED="1",
        )
        env.pop("JUPYTER_TOKEN", None)
        return env

    def start(self, timeout: float = 60) -> JupyterServer:
        self.launch()
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()  # a server that never became ready must not outlive the test run
            raise
        return self

    def launch(self) -> None:
        """Start the process without waiting for it (the bench starts two at once)."""
        self.root.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            APPS[self.app],
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            "--port=0",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.base,  # collaboration's SQLite store lands here, not in the root
                env=self._environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _runtime_port(self) -> int:
        """The port from the server's runtime file, 0 until it has written it."""
        assert self.process is not None
        info = self.base / "runtime" / f"jpserver-{self.process.pid}.json"
        try:
            return int(json.loads(info.read_text(encoding="utf-8"))["port"])
        except (OSError, ValueError, KeyError):
            return 0

    def wait_ready(self, timeout: float) -> None:
        """Poll /api/status until the server answers (or died, or the deadline passed)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter {self.app} exited:\n{self.log()}")
            self.port = self.port or self._runtime_port()
            try:
                if self.port:
                    self.api("GET", "api/status")
                    return
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"jupyter {self.app} not ready after {timeout}s:\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # jupyter_server shuts its kernels down on SIGTERM
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    # -- REST ----------------------------------------------------------------

    def request(
        self, method: str, path: str, body: Any = None, token: bool = True
    ) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body; no redirects followed, errors returned, not raised."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            request.add_header("Authorization", f"token {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        opener = urllib.request.build_opener(_NoRedirect())
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def api(self, method: str, path: str, body: Any = None) -> Any:
        status, _, payload = self.request(method, path, body)
        if status >= 400:
            raise urllib.error.URLError(f"{method} {path} -> {status}: {payload[:500]!r}")
        return json.loads(payload) if payload else None

    def create_notebook(self, path: str, sources: list[str]) -> list[str]:
        """Write a notebook through the contents API; return its cell ids in order."""
        body = {"type": "notebook", "format": "json", "content": notebook_json(sources)}
        self.api("PUT", "api/contents/" + urllib.parse.quote(path), body)
        return [f"cell-{i}" for i in range(len(sources))]

    def saved_notebook(self, path: str) -> nbformat.NotebookNode | None:
        """The notebook file as saved; None while a save is half written.

        jupyter_server's atomic writing truncates and rewrites the file in place
        (the backup copy is what makes it atomic), so a reader polling during a
        save can find it empty or cut short.
        """
        text = (self.root / path).read_text(encoding="utf-8")
        try:
            return nbformat.reads(text, as_version=4)
        except nbformat.reader.NotJSONError:
            return None

    def graph(self, path: str) -> dict[str, Any]:
        query = urllib.parse.urlencode({"path": path})
        return self.api("GET", f"api/cascade/graph?{query}")  # type: ignore[no-any-return]

    def page(self, route: str) -> str:
        """A browser URL for ``route`` that logs in with the token."""
        joiner = "&" if "?" in route else "?"
        return f"{self.url}{route}{joiner}token={self.token}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
