"""Names and payload shapes shared by the kernel agent and the server.

The server speaks to the agent only through ordinary execute requests on the
kernel's own channels: it evaluates ``AGENT_NAME.<method>(...)`` as a
``user_expressions`` entry and reads back a JSON string. Keeping these names in
one stdlib-only module lets both sides agree without importing each other.
"""

from __future__ import annotations

import json
from typing import Any

#: Bump when the report payload or how it travels changes; the server refuses
#: other versions (and re-injects its own agent over an older one).
PROTOCOL_VERSION = 5

#: Name under which the agent object lives in the user namespace.
AGENT_NAME = "__cascade_agent__"

#: The user_expressions key the server uses for agent reports.
REPORT_KEY = "__cascade_report__"

#: The request and reply metadata key of the agent report. In a request:
#: ``{"since": clock}``; in the execute_reply: the report itself.
#: ipykernel lets the agent add reply metadata (``finish_metadata``), which costs
#: far less than a user expression (IPython formats those through every display
#: formatter); other kernels get the user expression. Where the agent can add
#: reply metadata, every non-silent execute_reply carries a report unasked:
#: the records since the previous such report (its ``since`` says from when),
#: so a browser's request crosses the server unchanged.
REPORT_METADATA_KEY = "cascade_report"

#: A browser's run's record is taken, and its report sent, once the
#: execute_reply is on its way (the browser then sees its reply that much
#: sooner): the reply's metadata holds ``{"version": .., "follows": true}`` and
#: the report follows on iopub as a message of this type and topic, parented
#: to the request. The server reads it on its own iopub socket and keeps it
#: from the browsers'. Only where the server asked for it (:meth:`Agent.report_after_replies`).
REPORT_MSG_TYPE = "cascade_report"
REPORT_TOPIC = b"cascade.report"


def follows_marker() -> dict[str, Any]:
    """What an execute_reply's metadata holds when its report follows on iopub."""
    return {"version": PROTOCOL_VERSION, "follows": True}


#: A cascaded run the server sends before the reply of the run it follows
#: carries, in its request metadata, ``{"cascade": {AHEAD_KEY: {"batch": id,
#: "after": {"cell": id, "effects": signature}}}}``: the agent runs it only if
#: the kernel's last counted run was that cell's, it succeeded and it read and
#: wrote what the server planned with (``graph.effects_signature``); otherwise
#: the kernel answers ``aborted`` without running it, as it does for requests
#: queued behind a failed one. So the server plans a cascade's next cells while
#: the kernel runs, and the kernel runs exactly what the one-at-a-time cascade
#: would have (``kernel_agent.runtime.ahead``).
AHEAD_KEY = "ahead"
#: A control-channel request ``{"batch": id}``: abort that batch's runs not
#: started yet (the user stopped the cascade, or a browser run came in).
CANCEL_MSG_TYPE = "cascade_cancel_request"


#: First line of a cell that opts this run out of cascading (see README).
OPT_OUT_MARKER = "# cascade: off"


def report_expression(since: int, order: list[str] | None = None) -> str:
    """The expression the server evaluates to fetch records newer than ``since``.

    ``order`` (code cell ids in notebook order) is sent only when it changed.
    """
    if order is None:
        return f"{AGENT_NAME}.report({int(since)})"
    return f"{AGENT_NAME}.report({int(since)}, {json.dumps([str(c) for c in order])})"


def report_query(since: int) -> dict[str, Any]:
    """The request metadata asking for records newer than ``since``.

    The cell order is pushed with :func:`report_expression` (a silent request
    of the server's own), never on a browser's request.
    """
    return {"since": int(since)}


def encode_report(payload: dict[str, Any]) -> str:
    """Serialize a report; compact because it crosses the wire after every run."""
    return json.dumps(payload, separators=(",", ":"))


def decode_report(text: str) -> dict[str, Any]:
    """Parse a report and check its version; raises ValueError on anything else."""
    return checked_report(json.loads(text))


def checked_report(payload: Any) -> dict[str, Any]:
    """A decoded report, if its version is ours; raises ValueError on anything else."""
    if not isinstance(payload, dict) or payload.get("version") != PROTOCOL_VERSION:
        raise ValueError(f"unexpected agent report: {str(payload)[:200]!r}")
    return payload
