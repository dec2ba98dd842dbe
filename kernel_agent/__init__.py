"""jupyter-cascade's kernel agent: records cell dependencies inside a stock ipykernel.

The server injects this package as source into every Python kernel it sees, so
it must import nothing outside the standard library and IPython. Importing the
package stays cheap: the analysis modules load only when the agent is installed,
and the state API (``from kernel_agent import code, deps, users, timestamp,
lift, cells, reproduce_cell``) only when first used.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

#: The state API, loaded from :mod:`.api` on first access (PEP 562).
_API = frozenset(
    {"code", "deps", "users", "timestamp", "lift", "cells", "reproduce_cell", "Symbol"}
    | {"Timestamp", "Slice"}
)


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API)


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext kernel_agent`` works too, for kernels started outside the server."""
    from .agent import load_ipython_extension as load

    load(shell)
