"""jupyter-cascade's kernel agent: records cell dependencies inside a stock ipykernel.

The server injects this package as source into every Python kernel it sees, so
it must import nothing outside the standard library and IPython. Importing the
package stays cheap: the analysis modules load only when the agent is installed,
and the state API (``from kernel_agent import code, deps, users, timestamp,
lift, cells, reproduce_cell``) only when first used.

Three layers, imported one way only (``features`` → ``runtime`` → ``core``):

- :mod:`.core` — the pure dataflow core the server imports too (analysis,
  paths, graph, planning, protocol); standard library only;
- :mod:`.runtime` — the agent inside the kernel (hooks, reports, cheap runtime
  facts); may use IPython;
- :mod:`.features` — what the user calls: the state API, slicing, ``%flow``,
  ``%%memoize``.

This module sits above the three: it installs the agent and registers the
features' magics on it.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

#: The state API, loaded from :mod:`.features.api` on first access (PEP 562).
_API = frozenset(
    {"code", "deps", "users", "timestamp", "lift", "cells", "reproduce_cell", "Symbol"}
    | {"Timestamp", "Slice"}
)


def __getattr__(name: str) -> Any:
    if name in _API:
        from .features import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API)


def load_ipython_extension(shell: Any) -> Any:
    """Install the agent (and its magics) in ``shell``; return the agent.

    The server's injection calls this; ``%load_ext kernel_agent`` works too, for
    kernels started outside the server.
    """
    from .runtime.agent import load_ipython_extension as load

    return load(shell, _register_magics)


def _register_magics(shell: Any, agent: Any) -> None:
    """``%flow`` and ``%%memoize``; a failure here must not cost the recording."""
    try:
        from .features.magics import register
    except ImportError:
        return
    try:
        register(shell, agent)
    except Exception:
        import logging

        logging.getLogger("kernel_agent").exception("kernel_agent: magics could not be registered")
