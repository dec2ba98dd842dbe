"""``jupyter cascade run NOTEBOOK [--cell ID|N] [--no-cascade] [--url URL --token TOKEN]``.

Runs a notebook's cell as a browser run would (stale cells above first, the
cell, then the cells below that depend on it), through the server's
``POST /api/cascade/run``:

- with ``--url``: on that running server (NOTEBOOK is the path on the server,
  as in ``/lab/tree/<path>``); a kernel session is started if the notebook
  has none;
- without: on a private ``jupyter server`` this command starts for the
  notebook's directory (loopback, a free port, a random token, a temporary
  runtime directory) and stops at the end.

Without ``--cell`` every code cell runs once, top to bottom (as "Run All"
does, each without cascading: the cells below run anyway), stopping at the
first cell that raises. The server saves the outputs into the notebook when
no page has it open (with a page or a shared document open, that page or the
document's own save does).

Exit status: 0 when every cell ran, 1 when a cell raised (or the run was
stopped), 2 for usage and connection errors. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: seconds between two looks at a run (a long poll: the end is seen at once)
POLL = 0.2
#: the private server runs only what a run needs (it starts in ~2 s, writes no RTC files)
PRIVATE_EXTENSIONS = {
    "server_ext": True,
    "jupyter_server_ydoc": False,
    "jupyter_server_fileid": False,
    "jupyterlab": False,
    "notebook": False,
    "nbclassic": False,
    "notebook_shim": False,
    "jupyter_lsp": False,
    "jupyter_server_terminals": False,
}


class UsageError(Exception):
    """A problem with the command line or the connection: exit status 2."""


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a notebook's cell (and what it needs and feeds) on a Jupyter server",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("notebook", help="the .ipynb (with --url: its path on the server)")
    parser.add_argument(
        "--cell", help="a cell id, or the 0-based index of a code cell (default: every cell)"
    )
    parser.add_argument(
        "--no-cascade", action="store_true", help="run only that cell: no pull, no cascade"
    )
    parser.add_argument("--url", help="a running Jupyter server (default: start a private one)")
    parser.add_argument("--token", help="its token (default: $JUPYTER_TOKEN, or ?token= in --url)")
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds a run may take (default 3600)"
    )
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    try:
        if args.url:
            client = Client.for_url(args.url, args.token)
            return run_cells(client, args.notebook.strip("/"), args)
        notebook = Path(args.notebook).resolve()
        if not notebook.is_file():
            raise UsageError(f"no such notebook: {args.notebook}")
        with private_server(notebook.parent) as client:
            return run_cells(client, notebook.name, args)
    except UsageError as error:
        print(f"jupyter cascade run: {error}", file=sys.stderr)
        return 2


# -- talking to the server ----------------------------------------------------


class Client:
    """JSON over HTTP with the server's token (urllib: no dependency)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token

    @classmethod
    def for_url(cls, url: str, token: str | None) -> Client:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"--url must be an http(s) URL, not {url!r}")
        query = urllib.parse.parse_qs(parts.query)
        token = token or os.environ.get("JUPYTER_TOKEN") or (query.get("token") or [""])[0]
        base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        return cls(base, token)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if self.token:
            request.add_header("Authorization", f"token {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _json(error.read())
        except (urllib.error.URLError, OSError) as error:
            raise UsageError(f"cannot reach {self.base_url}: {error}") from error


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return {"message": raw.decode(errors="replace")[:200]}


def _message(status: int, body: Any) -> str:
    text = body.get("message") if isinstance(body, dict) else None
    return f"HTTP {status}: {text or body}"


# -- the runs -------------------------------------------------------------------


def run_cells(client: Client, path: str, args: argparse.Namespace) -> int:
    """Run the chosen cell, or every code cell in order; the exit status."""
    if args.cell is not None:
        cell: str | int = int(args.cell) if args.cell.isdigit() else args.cell
        return run_one(client, path, cell, not args.no_cascade, args.timeout)
    total = count_code_cells(client, path)
    for index in range(total):
        status = run_one(client, path, index, False, args.timeout, (index + 1, total))
        if status:
            return status
    return 0


def count_code_cells(client: Client, path: str) -> int:
    status, model = client.request("GET", "api/contents/" + urllib.parse.quote(path))
    if status != 200:
        raise UsageError(f"cannot read {path}: {_message(status, model)}")
    return sum(1 for cell in model["content"]["cells"] if cell.get("cell_type") == "code")


def run_one(
    client: Client,
    path: str,
    cell: str | int,
    cascade: bool,
    timeout: float,
    counter: tuple[int, int] | None = None,
) -> int:
    """POST one run and follow it; ``counter``: (this cell, of how many) when
    running every cell."""
    body = {"path": path, "cell": cell, "cascade": cascade, "start_kernel": True}
    status, answer = client.request("POST", "api/cascade/run", body)
    if status == 409 and "in progress" in str(answer):
        status, answer = _when_idle(client, body, timeout)
    if status != 202:
        raise UsageError(f"cannot run cell {cell!r} of {path}: {_message(status, answer)}")
    return follow(client, answer["id"], len(answer["plan"]), timeout, counter)


def _when_idle(client: Client, body: dict[str, Any], timeout: float) -> tuple[int, Any]:
    """POST again while the notebook is busy (a cascade of the previous cell's run)."""
    deadline = time.monotonic() + timeout
    while True:
        time.sleep(POLL)
        status, answer = client.request("POST", "api/cascade/run", body)
        if status != 409 or "in progress" not in str(answer) or time.monotonic() > deadline:
            return status, answer


def follow(
    client: Client,
    run_id: str,
    planned: int,
    timeout: float,
    counter: tuple[int, int] | None = None,
) -> int:
    """Print each cell as it finishes until the run ends; the exit status."""
    deadline, shown = time.monotonic() + timeout, set[str]()
    while True:
        status, run = client.request("GET", f"api/cascade/runs/{run_id}?wait={POLL}")
        if status != 200:
            raise UsageError(f"lost run {run_id}: {_message(status, run)}")
        total = max(planned, len(run["cells"]))
        for cell in run["cells"]:
            if cell["status"] in ("done", "error") and cell["id"] not in shown:
                shown.add(cell["id"])
                print_cell(cell, *(counter or (len(shown), total)))
        if run["status"] not in ("queued", "running"):
            return report_end(run)
        if time.monotonic() > deadline:
            raise UsageError(f"run {run_id} did not finish in {timeout:.0f} s")


def print_cell(cell: dict[str, Any], done: int, total: int) -> None:
    count = cell["execution_count"]
    print(f"[{done}/{total}] cell {cell['id']}  In [{count if count is not None else ' '}]")
    for output in cell["outputs"]:
        if output.get("output_type") == "stream":
            print("    " + output["text"].rstrip("\n").replace("\n", "\n    "))
        elif output.get("output_type") == "error":
            print(f"    {output.get('ename')}: {output.get('evalue')}")
    sys.stdout.flush()


def report_end(run: dict[str, Any]) -> int:
    if run["status"] == "done":
        return 0
    reason = run.get("message") or {
        "error": "a cell raised",
        "stopped": "the run was stopped",
    }.get(run["status"], run["status"])
    print(f"{run['status']}: {reason}", file=sys.stderr)
    return 1


# -- a private server -------------------------------------------------------------


@contextlib.contextmanager
def private_server(root: Path) -> Iterator[Client]:
    """A ``jupyter server`` for ``root`` only, stopped (kernels included) on exit."""
    base = Path(tempfile.mkdtemp(prefix="jupyter-cascade-run-"))
    token = secrets.token_hex(16)
    process = _launch(root, base, token)
    try:
        port = _wait_for_port(process, base, timeout=120)
        client = Client(f"http://127.0.0.1:{port}/", token)
        _wait_until_up(client, process, base)
        yield client
    finally:
        _stop(process, token, base)
        shutil.rmtree(base, ignore_errors=True)


def _launch(root: Path, base: Path, token: str) -> subprocess.Popen[bytes]:
    (base / "config").mkdir()
    (base / "runtime").mkdir()
    config = {"ServerApp": {"jpserver_extensions": PRIVATE_EXTENSIONS}}
    (base / "config" / "jupyter_server_config.json").write_text(json.dumps(config))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = open(base / "server.log", "wb")  # noqa: SIM115 (lives as long as the process)
    return subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=log)


def _log_tail(base: Path) -> str:
    log = base / "server.log"
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


def _wait_for_port(process: subprocess.Popen[bytes], base: Path, timeout: float) -> int:
    info = base / "runtime" / f"jpserver-{process.pid}.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UsageError(f"the Jupyter server did not start:\n{_log_tail(base)}")
        with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
            return int(json.loads(info.read_text())["port"])
        time.sleep(0.05)
    raise UsageError(f"the Jupyter server did not start in {timeout:.0f} s:\n{_log_tail(base)}")


def _wait_until_up(client: Client, process: subprocess.Popen[bytes], base: Path) -> None:
    for _ in range(600):
        with contextlib.suppress(UsageError):
            if client.request("GET", "api/status")[0] == 200:
                return
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise UsageError(f"the Jupyter server does not answer:\n{_log_tail(base)}")


def _stop(process: subprocess.Popen[bytes], token: str, base: Path) -> None:
    if process.poll() is None:
        port = _port_of(process, base)
        if port is not None:
            with contextlib.suppress(UsageError):
                Client(f"http://127.0.0.1:{port}/", token).request("POST", "api/shutdown")
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _port_of(process: subprocess.Popen[bytes], base: Path) -> int | None:
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
        info = base / "runtime" / f"jpserver-{process.pid}.json"
        return int(json.loads(info.read_text())["port"])
    return None
