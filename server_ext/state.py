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
    #: the cell whose run started the cascade in progress, and how many cells it started
    trigger: str | None = None
    started: int = 0
    #: the user asked to stop the cascade in progress: no further cell of it starts
    stop_requested: bool = False
    #: the last cascade to end was stopped by the user (a REST run reports "stopped")
    was_stopped: bool = False
    #: see :attr:`pending_cascades`
    _pending: int = field(default=0, repr=False)
    #: a browser run finished since the replica was last refreshed
    replica_outdated: bool = False
    last_error: str | None = None
    #: ``%flow`` settings made in the kernel (None: the server's config applies)
    kernel_mode: str | None = None
    kernel_direction: str | None = None
    #: the agent answers report queries in reply metadata (ipykernel)
    reports_in_metadata: bool = False
    #: the agent checks cascaded runs sent ahead of the previous reply
    runs_ahead: bool = False
    #: the cell order last pushed to the agent
    pushed_order: list[str] = field(default_factory=list)
    #: serializes everything the server sends to this kernel
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: set by :meth:`changed`: each push endpoint client of this kernel waits on
    #: one between its looks (see :mod:`.events`)
    watchers: set[asyncio.Event] = field(default_factory=set, repr=False)

    @property
    def busy(self) -> bool:
        return bool(self.inflight or self.pending_cascades or self.running or self.queued)

    @property
    def pending_cascades(self) -> int:
        """Cascades (and after-run passes) begun and not ended: busy while any."""
        return self._pending

    @pending_cascades.setter
    def pending_cascades(self, value: int) -> None:
        self._pending = value
        self.changed()  # the end of the after-run pass is pushed at once

    def changed(self) -> None:
        """The graph or the work in progress moved: push endpoint clients look now,
        not at their next tick (a reply's new count reaches pages sooner)."""
        for event in self.watchers:
            event.set()

    def start_cell(self, cell_id: str, trigger: str) -> bool:
        """A cascaded cell is about to run; False when a stop was asked (it must not)."""
        if self.stop_requested:
            return False
        self.mark_running(cell_id, trigger)
        return True

    def mark_running(self, cell_id: str, trigger: str) -> None:
        """A cascaded cell started in the kernel (one sent ahead: when the kernel took it up)."""
        if cell_id in self.queued:
            self.queued.remove(cell_id)
        self.running, self.trigger = cell_id, trigger
        self.started += 1
        self.changed()

    def end_cascade(self) -> None:
        """A cascade ended (done, failed or stopped): cells left in the queue stay marked."""
        self.queued = []
        self.was_stopped = self.stop_requested
        self.trigger, self.started, self.stop_requested = None, 0, False
        self.changed()

    def progress(self) -> dict[str, object]:
        """The cascade in progress, as the push endpoint sends it."""
        done = self.started - (1 if self.running else 0)
        return {
            "trigger": self.trigger,
            "running": self.running,
            "queued": list(self.queued),
            "done": max(done, 0),
            "total": max(done, 0) + (1 if self.running else 0) + len(self.queued),
        }

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
        self.changed()
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
        self.trigger, self.started, self.stop_requested = None, 0, False
        self.kernel_mode = self.kernel_direction = None
        self.reports_in_metadata = self.runs_ahead = False
        self.pushed_order = []
        self.changed()
