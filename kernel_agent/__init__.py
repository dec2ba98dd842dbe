"""jupyter-cascade's kernel agent: records cell dependencies inside a stock ipykernel.

The server injects this package as source into every Python kernel it sees, so
it must import nothing outside the standard library and IPython. Importing the
package stays cheap: the analysis modules load only when the agent is installed.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext kernel_agent`` works too, for kernels started outside the server."""
    from .agent import load_ipython_extension as load

    load(shell)
