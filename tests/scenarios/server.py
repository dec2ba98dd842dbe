"""A real ``jupyter server`` with jupyter-cascade, in a subprocess shared by many scenarios.

pytest-jupyter's server fixtures are per test; a subprocess lets one server
serve a whole module (and the bench script) while its kernels use the other
core. Config, data, runtime and IPython directories are temporary, so the
developer's own Jupyter set-up neither leaks in nor is touched.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

#: jupyter-collaboration is a dependency of jupyter-cascade: a real install has it on.
EXTENSIONS = {
    "server_ext": True,
    "jupyter_server_ydoc": True,
    "jupyter_server_fileid": True,
    "jupyterlab": False,
    "notebook": False,
    "nbclassic": False,
    "jupyter_lsp": False,
    "jupyter_server_terminals": False,
}

#: IPython history in memory: many kernels at once would contend for one sqlite file.
IPYTHON_CONFIG = "c.HistoryManager.hist_file = ':memory:'\n"


def isolated_environment(base: Path) -> dict[str, str]:
    """Environment variables pointing every Jupyter/IPython directory under ``base``."""
    env = dict(os.environ)
    for name in ("config", "data", "runtime", "ipython/profile_default"):
        (base / name).mkdir(parents=True, exist_ok=True)
    (base / "ipython/profile_default/ipython_config.py").write_text(IPYTHON_CONFIG)
    env.update(
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        IPYTHONDIR=str(base / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    return env


def _die_with_parent() -> None:
    """In the child: a server whose test run was killed goes too (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ScenarioServer:
    """One ``python -m jupyter_server`` process and async clients for its REST and websockets."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)
        self.base = Path(tempfile.mkdtemp(prefix="cascade-scenarios-"))
        self.root = self.base / "root"
        self.root.mkdir()
        self.env = isolated_environment(self.base)
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ScenarioServer:
        config = {
            "ServerApp": {"jpserver_extensions": EXTENSIONS},
            "IdentityProvider": {"token": self.token},
            "SQLiteYStore": {"db_path": str(self.base / "ystore.db")},
            "BaseFileIdManager": {"db_path": str(self.base / "fileid.db")},
        }
        (self.base / "config/jupyter_server_config.json").write_text(json.dumps(config))
        cmd = [
            sys.executable,
            *("-m", "jupyter_server", "--allow-root", "--no-browser"),
            *("--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", "--ServerApp.port_retries=0"),
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.log_level=DEBUG",  # a scenario that breaks off reports the traffic
        ]
        log = open(self.base / "server.log", "wb")  # noqa: SIM115 (lives with the process)
        self._proc = subprocess.Popen(
            cmd, cwd=self.root, env=self.env, stdout=log, stderr=log, preexec_fn=_die_with_parent
        )
        self.port = self._wait_for_port(timeout)
        return self

    def _wait_for_port(self, timeout: float) -> int:
        assert self._proc is not None
        info = self.base / "runtime" / f"jpserver-{self._proc.pid}.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log()[-3000:]}")
            with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
                port = int(json.loads(info.read_text())["port"])
                if self._answers(port):
                    return port
            time.sleep(0.05)
        raise TimeoutError(f"server did not start:\n{self.log()[-3000:]}")

    def _answers(self, port: int) -> bool:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/status",
            headers={"Authorization": f"token {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def log(self) -> str:
        path = self.base / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_about(self, *keys: str | None, lines: int = 80) -> str:
        """The server's log lines naming any of ``keys``, or warnings and errors (the last few)."""
        wanted = [key for key in keys if key]
        relevant = [
            line
            for line in self.log().splitlines()
            if any(key in line for key in wanted)
            or line[:3] in ("[W ", "[E ", "[C ")
            or line.startswith(("Traceback", "  ", "    "))
        ]
        return "server log:\n" + "\n".join(relevant[-lines:])

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self.base, ignore_errors=True)

    # -- clients with the call shapes of pytest-jupyter's jp_fetch / jp_ws_fetch --------

    def _url(self, scheme: str, parts: tuple[str, ...], params: dict[str, str] | None) -> str:
        query = f"?{urlencode(params)}" if params else ""
        return f"{scheme}://127.0.0.1:{self.port}/{'/'.join(parts)}{query}"

    async def fetch(
        self,
        *parts: str,
        method: str = "GET",
        body: str | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        """An authenticated REST call; raises tornado's HTTPClientError on >= 400."""
        request = HTTPRequest(
            self._url("http", parts, params),
            method=method,
            body=body,
            headers={"Authorization": f"token {self.token}"},
            connect_timeout=120,  # tornado's 20 s default also bounds time queued behind others
            request_timeout=120,
        )
        return await AsyncHTTPClient(max_clients=64).fetch(request)

    async def ws_fetch(
        self, *parts: str, params: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        request = HTTPRequest(
            self._url("ws", parts, params),
            headers={"Authorization": f"token {self.token}"},
            connect_timeout=120,  # the server answers once the kernel is up: slow under load
            request_timeout=120,
        )
        return await websocket_connect(request, **kwargs)
