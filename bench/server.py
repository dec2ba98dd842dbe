"""A real ``jupyter server`` subprocess on a free loopback port, driven over HTTP.

Each server gets its own temporary root, config, data and runtime directories
and a random token, so runs never touch the user's Jupyter set-up. The only
difference between the "stock" and the "cascade" server is whether the
``server_ext`` extension is enabled (``ServerApp.jpserver_extensions``).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .kernel_socket import KernelSocket

#: Extensions every bench server runs with, whatever the environment enables.
#: jupyter-collaboration is a dependency of jupyter-cascade, so a real install
#: has it on; the cascade looks up live documents through it on every run.
#: Frontends and terminals only serve pages: off, so servers start in ~2 s.
COMMON_EXTENSIONS = {
    "jupyter_server_ydoc": True,
    "jupyter_server_fileid": True,
    "jupyterlab": False,
    "notebook": False,
    "nbclassic": False,
    "notebook_shim": False,
    "jupyter_lsp": False,
    "jupyter_server_terminals": False,
}

BENCH_DIR = Path(__file__).resolve().parent


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class JupyterServer:
    """One ``python -m jupyter_server`` process, plus helpers to reach it."""

    def __init__(
        self,
        name: str,
        *,
        cascade: bool,
        ipyflow: bool = False,
        nodelay: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        #: extra environment for the server and so for its kernels
        self.env = dict(env or {})
        self.cascade = cascade
        self.ipyflow = ipyflow
        self.nodelay = nodelay
        self.token = secrets.token_hex(16)
        self.port = 0
        self.root = Path()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._http: http.client.HTTPConnection | None = None
        self._sockets: list[KernelSocket] = []
        self._sessions: list[str] = []

    # -- life cycle ------------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        extensions = {**COMMON_EXTENSIONS, "server_ext": self.cascade, "ipyflow": self.ipyflow}
        server: dict[str, Any] = {"jpserver_extensions": extensions}
        if self.nodelay:
            server["kernel_websocket_connection_class"] = "bench.nodelay.NoDelayConnection"
        return {
            "ServerApp": server,
            "IdentityProvider": {"token": self.token},
            "SQLiteYStore": {"db_path": str(self.root / ".ystore.db")},
            "BaseFileIdManager": {"db_path": str(self.root / ".fileid.db")},
        }

    def start(self, timeout: float = 90.0) -> JupyterServer:
        self.launch()
        return self.wait(timeout)

    def launch(self) -> None:
        """Start the process; :meth:`wait` for it (several servers start in parallel)."""
        self._tmp = tempfile.TemporaryDirectory(prefix=f"cascade-bench-{self.name}-")
        base = Path(self._tmp.name)
        self.root = base / "root"
        dirs = {name: base / name for name in ("config", "data", "runtime")}
        for path in (self.root, *dirs.values()):
            path.mkdir()
        (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(self._config()))
        env = {**os.environ, **self.env}
        env.update(
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            JUPYTER_DATA_DIR=str(dirs["data"]),
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            PYTHONPATH=os.pathsep.join(
                p for p in (str(BENCH_DIR.parent), env.get("PYTHONPATH", "")) if p
            ),
        )
        cmd = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--allow-root",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port=0",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
        ]
        log = open(base / "server.log", "wb")  # noqa: SIM115 (lives as long as the process)
        self._proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log, stderr=log)

    def wait(self, timeout: float = 90.0) -> JupyterServer:
        assert self._tmp is not None, "launch() first"
        self.port = self._wait_for_port(Path(self._tmp.name) / "runtime", timeout)
        self._wait_until_up(timeout)
        if self.cascade:
            self._check_extension()
        return self

    def _check_extension(self) -> None:
        """A cascade server whose extension failed to load would measure stock."""
        status, body = self.request("GET", "/api/cascade/graph?path=bench-probe.ipynb")
        if status != 404 or not isinstance(body, dict):  # our handler answers in JSON
            tail = self.log_text()[-3000:]
            raise RuntimeError(f"{self.name}: server_ext is not loaded:\n{tail}")

    def _wait_for_port(self, runtime: Path, timeout: float) -> int:
        assert self._proc is not None
        info = runtime / f"jpserver-{self._proc.pid}.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited:\n{self.log_text()[-3000:]}")
            with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
                return int(json.loads(info.read_text())["port"])
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} server did not start:\n{self.log_text()[-3000:]}")

    def _wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _ = self.request("GET", "/api/status")
                if status == 200:
                    return
            self._http = None
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} server does not answer on port {self.port}")

    @property
    def pid(self) -> int:
        assert self._proc is not None, "not started"
        return self._proc.pid

    def log_text(self) -> str:
        if self._tmp is None:
            return ""
        path = Path(self._tmp.name) / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        self.request_stop()
        self.wait_stopped()

    def request_stop(self) -> None:
        """Ask the server to shut down (kernels included); :meth:`wait_stopped` for it."""
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(OSError, http.client.HTTPException):
                self.request("POST", "/api/shutdown")

    def wait_stopped(self) -> None:
        if self._proc is not None:
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp.name, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> JupyterServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- HTTP ------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request on a kept-alive connection (as a browser's fetch would)."""
        if self._http is None:
            self._http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Authorization": f"token {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self._http.request(method, path, body=data, headers=headers)
            response = self._http.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self._http.close()
            self._http = None
            raise
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode(errors="replace")

    def write_notebook(self, path: str, sources: list[str]) -> list[str]:
        """A notebook (nbformat 4.5) of code cells with ids ``c0``, ``c1``, ...; the ids."""
        ids = [f"c{i}" for i in range(len(sources))]
        cells: list[dict[str, Any]] = [
            {
                "cell_type": "code",
                "id": cell_id,
                "metadata": {},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
            for cell_id, source in zip(ids, sources, strict=True)
        ]
        kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
        notebook = {
            "cells": cells,
            "metadata": {"kernelspec": kernelspec, "language_info": {"name": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        (self.root / path).write_text(json.dumps(notebook, indent=1), encoding="utf-8")
        return ids

    def open_notebook(self, path: str, kernel_name: str = "python3") -> KernelSocket:
        """Start a session for ``path`` and connect to its kernel as JupyterLab does."""
        body = {"path": path, "type": "notebook", "name": path, "kernel": {"name": kernel_name}}
        status, session = self.request("POST", "/api/sessions", body)
        if status != 201:
            raise RuntimeError(f"{self.name}: cannot start a session: {status} {session}")
        self._sessions.append(session["id"])
        sock = KernelSocket.connect(self.port, self.token, session["kernel"]["id"])
        sock.session_id = session["id"]
        self._sockets.append(sock)
        return sock

    def close_notebook(self, sock: KernelSocket) -> None:
        """Disconnect one :meth:`open_notebook` socket and shut its kernel down."""
        sock.close()
        self._sockets.remove(sock)
        if sock.session_id in self._sessions:
            self._sessions.remove(sock.session_id)
            self.request("DELETE", f"/api/sessions/{sock.session_id}")

    def close_sessions(self) -> None:
        """Disconnect and shut down every kernel this object started."""
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
        for session_id in self._sessions:
            self.request("DELETE", f"/api/sessions/{session_id}")
        self._sessions.clear()
