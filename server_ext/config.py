"""User-facing configuration: ``c.Cascade.<option>`` in any jupyter_server config."""

from __future__ import annotations

from traitlets import Bool, Enum, Float, Int
from traitlets.config import LoggingConfigurable


class Cascade(LoggingConfigurable):
    """Settings of jupyter-cascade's reactive execution."""

    mode = Enum(
        ["reactive", "lazy"],
        default_value="reactive",
        config=True,
        help="reactive: running a cell re-runs what depends on it; lazy: cells are only marked.",
    )
    direction = Enum(
        ["in_order", "any_order"],
        default_value="in_order",
        config=True,
        help="in_order: only cells below drive a cascade; any_order: follow the graph.",
    )
    autosave = Bool(
        True,
        config=True,
        help="Persist cascaded outputs (live document, or merged into the browser's save).",
    )
    freeze_gc = Bool(
        True,
        config=True,
        help="Keep the server's start-up heap and open notebooks' analyses out of full "
        "garbage collections (gc.freeze), which otherwise hold the server 0.1-0.3 s.",
    )
    run_ahead = Int(
        32,
        min=0,
        config=True,
        help="How many cells a cascade sends past the one running, each run by the kernel "
        "only if the runs before it went as planned (0: one cell at a time).",
    )
    agent_timeout = Float(
        10.0,
        config=True,
        help="Seconds a browser request waits for the agent to load before passing through.",
    )
