"""jupyter-cascade: reactive notebook execution as a Jupyter Server extension.

``jupyter server extension enable server_ext`` (done by the installed config
file) loads it; it then sits in every kernel websocket and re-runs the cells
that depend on the cell a user ran.
"""

from __future__ import annotations

from typing import Any

from .config import Cascade

__version__ = "0.1.0"
__all__ = ["Cascade", "__version__"]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "server_ext"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from .extension import load

    load(serverapp)
