"""Loading the kernel agent into a kernel and reading its reports.

The agent travels as source inside one silent execute request, so it runs in
any Python kernel — another venv, another Python, a remote machine — without
being installed there (DESIGN §3). Its answers come back as user_expressions,
except the report after a run, which rides in the execute_reply's metadata
when the kernel is an ipykernel (cheaper: no display formatting), or, for a
browser's run on a local kernel, follows the reply on iopub (see
``kernel_agent.runtime.after_reply`` and :mod:`.due_reports`).
"""

from __future__ import annotations

import ast
import base64
import json
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import kernel_agent
from kernel_agent.core.protocol import (
    AGENT_NAME,
    PROTOCOL_VERSION,
    REPORT_KEY,
    REPORT_METADATA_KEY,
    checked_report,
    decode_report,
    report_expression,
    report_query,
)

from .codec import CarriedReport
from .kernel_channel import KernelChannel

_BOOTSTRAP = """
def _cascade_bootstrap(packed, packages, agent_name, version):
    import base64, importlib.abc, importlib.util, json, sys, zlib
    shell = get_ipython()
    if getattr(shell.user_ns.get(agent_name), "protocol_version", None) == version:
        return

    class _CascadeFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        cascade_finder = True

        def find_spec(self, name, path=None, target=None):
            if name not in sources:
                return None
            is_package = name in packages
            return importlib.util.spec_from_loader(name, self, is_package=is_package)

        def create_module(self, spec):
            return None

        def exec_module(self, module):
            code = compile(sources[module.__name__], "<%%s>" %% module.__name__, "exec")
            exec(code, module.__dict__)

    sources = json.loads(zlib.decompress(base64.b64decode(packed)))
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "cascade_finder", False)]
    sys.meta_path.insert(0, _CascadeFinder())
    for name in [m for m in sys.modules if m.split(".")[0] == "kernel_agent"]:
        del sys.modules[name]
    import kernel_agent
    kernel_agent.load_ipython_extension(shell)

_cascade_bootstrap(%(sources)r, %(packages)s, %(agent_name)r, %(version)r)
del _cascade_bootstrap
"""


class AgentUnavailable(RuntimeError):
    """The agent could not be loaded or did not answer; the kernel passes through."""


@lru_cache(maxsize=1)
def bootstrap_source() -> str:
    """The code that installs this server's copy of ``kernel_agent`` in a kernel.

    Every module of the package and of its subpackages (``core``, ``runtime``,
    ``features``) travels by dotted name; the kernel's finder makes the names
    that came from an ``__init__.py`` packages, so relative imports resolve.
    The sources travel compressed, as base64: as JSON inside the request's
    code they were 350 KB of escapes that the server encoded and signed
    again for every kernel (~7 ms of its event loop); packed, ~90 KB that
    encode at memory speed.
    """
    package_dir = Path(kernel_agent.__file__).parent
    sources = {}
    packages = []
    for path in sorted(package_dir.rglob("*.py")):
        parts = ["kernel_agent", *path.relative_to(package_dir).with_suffix("").parts]
        if not (path.parent / "__init__.py").is_file():
            continue  # not in a (sub)package: not importable, not shipped
        if parts[-1] == "__init__":
            parts.pop()
            packages.append(".".join(parts))
        sources[".".join(parts)] = path.read_text(encoding="utf-8")
    packed = zlib.compress(json.dumps(sources).encode(), 6)
    return _BOOTSTRAP % {
        "sources": base64.b64encode(packed).decode("ascii"),
        "packages": json.dumps(packages),
        "agent_name": AGENT_NAME,
        "version": PROTOCOL_VERSION,
    }


def _expression_value(reply: dict[str, Any], key: str) -> Any:
    """The Python value of one user_expression, or AgentUnavailable with its error."""
    result = (reply.get("user_expressions") or {}).get(key)
    if not result:
        raise AgentUnavailable(f"no {key!r} in the reply (status {reply.get('status')!r})")
    if result.get("status") != "ok":
        raise AgentUnavailable(f"{result.get('ename')}: {result.get('evalue')}")
    return ast.literal_eval(result["data"]["text/plain"])


@dataclass(frozen=True)
class AgentInfo:
    """What a freshly loaded agent says about itself."""

    instance: str
    #: reports can ride in execute_reply metadata (else: as a user expression)
    reply_metadata: bool
    #: a browser run's report follows its reply on iopub (``kernel_agent.runtime.after_reply``)
    reports_follow: bool = False
    #: the kernel checks cascaded runs sent ahead (``kernel_agent.runtime.ahead``)
    runs_ahead: bool = False


async def inject(channel: KernelChannel) -> AgentInfo:
    """Load the agent; return its instance id (stable while the kernel lives).

    Where our channel reads the kernel's iopub reports, the agent is asked to
    send a browser run's report after its reply (``kernel_agent.runtime.after_reply``).
    """
    expressions = {
        "instance": f"{AGENT_NAME}.instance_id",
        "reply_metadata": f"{AGENT_NAME}.reply_metadata",
        "runs_ahead": f"{AGENT_NAME}.runs_ahead",
    }
    if channel.reads_reports:
        expressions["reports_follow"] = f"{AGENT_NAME}.report_after_replies()"
    reply = await channel.execute(
        bootstrap_source(), silent=True, store_history=False, user_expressions=expressions
    )
    if reply.get("status") != "ok":
        raise AgentUnavailable(f"{reply.get('ename')}: {reply.get('evalue')}")
    return AgentInfo(
        str(_expression_value(reply, "instance")),
        _expression_value(reply, "reply_metadata") is True,
        "reports_follow" in expressions and _expression_value(reply, "reports_follow") is True,
        _expression_value(reply, "runs_ahead") is True,
    )


@dataclass(frozen=True)
class ReportQuery:
    """What to add to an execute request so its reply carries an agent report."""

    metadata: dict[str, object] = field(default_factory=dict)
    user_expressions: dict[str, str] = field(default_factory=dict)


def report_request(since: int, in_metadata: bool = False) -> ReportQuery:
    """Ask for the records newer than ``since`` in the reply to the same request."""
    if in_metadata:
        return ReportQuery(metadata={REPORT_METADATA_KEY: report_query(since)})
    return ReportQuery(user_expressions={REPORT_KEY: report_expression(since)})


def read_report(carried: CarriedReport | None) -> dict[str, object]:
    """The agent report a reply carried; AgentUnavailable if it has none or a bad one."""
    try:
        if carried is not None and carried.metadata is not None:
            return checked_report(carried.metadata)
        expression = carried.expression if carried is not None else None
        reply = {"user_expressions": {REPORT_KEY: expression} if expression else {}}
        return decode_report(_expression_value(reply, REPORT_KEY))
    except (ValueError, SyntaxError, KeyError, TypeError) as error:
        raise AgentUnavailable(str(error)) from error


async def widgets_changed(channel: KernelChannel, comm_ids: list[str]) -> list[str]:
    """Tell the agent which widgets a browser moved; returns the globals holding them."""
    expression = f"{AGENT_NAME}.widget_changed({json.dumps(sorted(comm_ids))})"
    reply = await channel.execute(
        "", silent=True, store_history=False, user_expressions={"names": expression}
    )
    return [str(name) for name in _expression_value(reply, "names")]


async def fetch_report(
    channel: KernelChannel, since: int, order: list[str] | None = None
) -> dict[str, object]:
    """Ask the agent for records newer than ``since`` with a silent empty request.

    ``order``, when given, tells the agent the notebook's code cells in order.
    """
    reply = await channel.execute(
        "",
        silent=True,
        store_history=False,
        user_expressions={REPORT_KEY: report_expression(since, order)},
    )
    return read_report(CarriedReport.of(reply, None))
