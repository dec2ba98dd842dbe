"""Per-kernel cascade state: what is in flight, queued and running. No actions here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from kernel_agent.core.graph import CellRecord, Graph


@dataclass
class BrowserRequest:
    """An execute_request a browser sent, remembered until its reply."""

    cell_id: str | None
    code: str
    opt_out: bool = False
    legacy: bool = False


@dataclass
class KernelState:
    """Everything the server knows about one kernel's cascades."""

    kernel_id: str
    graph: Graph = field(default_factory=Graph)
    #: agent clock of the newest record in ``graph``
    clock: int = 0
    #: instance id of the agent the replica mirrors; a new one means a restart
    agent_instance: str | None = None
    #: None: no agent yet; False: this kernel passes through untouched
    enabled: bool | None = None
    inflight: dict[str, BrowserRequest] = field(default_factory=dict)
    #: cells the browser ran since the last cascade, in completion order
    triggers: list[str] = field(default_factory=list)
    trigger_failed: bool = False
    queued: list[str] = field(default_factory=list)
    running: str | None = None
    pending_cascades: int = 0
    #: a browser run finished since the replica was last refreshed
    replica_outdated: bool = False
    last_error: str | None = None
    #: ``%flow`` settings made in the kernel (None: the server's config applies)
    kernel_mode: str | None = None
    kernel_direction: str | None = None
    #: the agent answers report queries in reply metadata (ipykernel)
    reports_in_metadata: bool = False
    #: the cell order last pushed to the agent
    pushed_order: list[str] = field(default_factory=list)
    #: serializes everything the server sends to this kernel
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def busy(self) -> bool:
        return bool(self.inflight or self.pending_cascades or self.running or self.queued)

    def apply_report(self, report: dict[str, object]) -> bool:
        """Merge an agent report into the replica, resetting it after a restart.

        False when records are missing: the report starts after the newest
        record we have (a reply we never saw carried them; refresh the replica).
        """
        instance = str(report["instance"])
        if instance != self.agent_instance:
            self.graph.clear()
            self.clock = 0
            self.agent_instance = instance
        complete = int(report.get("since") or 0) <= self.clock  # type: ignore[call-overload]
        self.kernel_mode = report.get("mode")  # type: ignore[assignment]
        self.kernel_direction = report.get("direction")  # type: ignore[assignment]
        for data in report.get("cells", []):  # type: ignore[attr-defined]
            record = CellRecord.from_json(data)
            known = self.graph.records.get(record.cell_id)
            if known is None or known.ts <= record.ts:  # reports can arrive out of order
                self.graph.put(record)
        for cell_id in report.get("deleted", []):  # type: ignore[attr-defined]
            self.graph.remove(str(cell_id))
        if complete:  # else the clock stays: a refresh from it fetches the gap
            self.clock = max(self.clock, int(report["clock"]))  # type: ignore[call-overload]
        return complete

    def reset(self) -> None:
        """The kernel restarted: its memory, and so our graph, is gone."""
        self.graph.clear()
        self.clock = 0
        self.agent_instance = None
        self.enabled = None
        self.last_error = None
        self.inflight.clear()
        self.triggers.clear()
        self.trigger_failed = False
        self.queued.clear()
        self.running = None
        self.kernel_mode = self.kernel_direction = None
        self.reports_in_metadata = False
        self.pushed_order = []
