"""Kernels behind a gateway cascade too; non-Python kernels pass through untouched."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

SOURCES = ["x = 1", "y = x * 10\nprint('y', y)", "print('unrelated')"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def kernel_gateway(tmp_path_factory: Any) -> Iterator[str]:
    """A real `jupyter kernelgateway` on loopback; it outlives the servers that use it."""
    port = free_port()
    tmp_path = tmp_path_factory.mktemp("gateway")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path), "JUPYTER_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "kernelgateway",
            "--KernelGatewayApp.ip=127.0.0.1",
            f"--KernelGatewayApp.port={port}",
            "--JupyterApp.answer_yes=True",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api", timeout=2):
                break
        except OSError:
            assert process.poll() is None, "kernel gateway exited"
            assert time.monotonic() < deadline, "kernel gateway did not start"
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=30)


class TestGateway:
    @pytest.fixture
    def server_overrides(self) -> dict[str, Any]:
        return {}

    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict, kernel_gateway: str) -> Iterator[dict]:
        # jupyter_server keeps the gateway client as a process-wide singleton:
        # drop whatever an earlier server in this process left, before and after.
        from jupyter_server.gateway.gateway_client import GatewayClient

        GatewayClient.clear_instance()
        yield {**jp_server_config, "GatewayClient": {"url": kernel_gateway}}
        GatewayClient.clear_instance()

    async def test_cascade_through_a_gateway(
        self, jp_serverapp: Any, make_notebook: Any, open_session: Any, cascade_api: Any
    ) -> None:
        assert type(jp_serverapp.kernel_manager).__name__.startswith("Gateway")
        ids = make_notebook("remote.ipynb", SOURCES)
        client = await open_session("remote.ipynb", "lab-legacy")
        await client.run_cells(SOURCES, ids)
        await cascade_api.settled("remote.ipynb")
        mark = len(client.messages)
        await client.execute("x = 4", ids[0])
        graph = await cascade_api.settled("remote.ipynb")
        assert {r.code: r.stdout for r in client.executions(mark)} == {
            "x = 4": "",
            SOURCES[1]: "y 40\n",
        }
        assert graph["available"] is True
        assert {c["state"] for c in graph["cells"]} == {"fresh"}


@pytest.fixture
def bash_kernelspec(jp_data_dir: Any) -> str:
    spec_dir = jp_data_dir / "kernels" / "bash"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "bash_kernel", "-f", "{connection_file}"],
        "display_name": "Bash",
        "language": "bash",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return "bash"


async def test_bash_kernel_passes_through(
    bash_kernelspec: str, make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["X=1", 'echo "X is $X"', "echo unrelated"]
    ids = make_notebook("shell.ipynb", sources)
    client = await open_session("shell.ipynb", kernel=bash_kernelspec)
    await client.run_cells(sources, ids)
    mark = len(client.messages)
    await client.execute("X=2", ids[0])
    graph = await cascade_api.settled("shell.ipynb")
    assert [r.code for r in client.executions(mark)] == ["X=2"], "nothing cascades"
    await client.execute(sources[1], ids[1])
    assert client.executions(mark)[-1].stdout == "X is 2\n"
    assert graph["available"] is False
    assert "bash" in graph["reason"]
