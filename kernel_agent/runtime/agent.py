"""The agent living inside a stock ipykernel: records what each cell run touched.

It hooks IPython's ``pre_run_cell`` / ``post_run_cell`` events (no tracing):
before a run it analyses the transformed code once and fingerprints the
globals the cell might mutate; after the run it confirms mutations and the
identity changes of globals, and stores a :class:`CellRecord` keyed by the
``cellId`` of the request. New records travel to the server in the metadata of
the execute_reply that asked for them (:func:`_hook_reply_metadata`), or as a
user expression calling :meth:`report` where the kernel offers no such hook.
Where the server asks (:meth:`Agent.report_after_replies`), a browser run's
record is taken and its report sent on iopub once its reply is on its way
(:mod:`.after_reply`).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.analysis import CellAnalysis, FunctionSummary, close_over_calls
from ..core.effects import calls_conservative
from ..core.graph import ANY_PATH, CellRecord, Graph
from ..core.identities import Snapshot, changed_between, is_user_name, snapshot
from ..core.paths import root
from ..core.protocol import (
    AGENT_NAME,
    PROTOCOL_VERSION,
    REPORT_METADATA_KEY,
    encode_report,
    follows_marker,
)
from . import ahead
from .after_reply import ReportSender, msg_id_of
from .dict_version import version_of
from .fingerprint import fingerprint
from .known_analyses import KnownAnalyses

log = logging.getLogger("kernel_agent")


@dataclass(frozen=True)
class _Effects:
    """A run's reads and writes through the functions it calls, and the globals to watch."""

    uses: frozenset[str]
    defines: frozenset[str]
    watched: frozenset[str]
    binds: frozenset[str] = frozenset()
    draws: frozenset[str] = frozenset()


@dataclass
class _PendingRun:
    """What the agent learned before a run, to finish the record after it."""

    cell_id: str
    code: str
    analysis: CellAnalysis
    effects: _Effects
    fingerprints: dict[str, Any]
    identities: Snapshot
    #: the request asked for its report in the reply (the server's own runs)
    asked: bool = False


def _close_effects(
    analysis: CellAnalysis, summaries: dict[str, FunctionSummary], namespace: Any
) -> _Effects:
    """Add what called functions and methods of notebook classes read and write."""
    # read only below: copied only when the cell defines functions itself
    summaries = {**summaries, **analysis.functions} if analysis.functions else summaries
    calls = set(analysis.calls)
    for receiver in analysis.method_receivers:
        class_name = type(namespace.get(receiver)).__name__
        if class_name in summaries:
            calls.add(class_name)
    probe = CellAnalysis(calls=calls)
    extra_uses, extra_defines = close_over_calls(probe, summaries)
    uses = set(analysis.uses) | extra_uses | {call for call in calls if call in summaries}
    if analysis.conservative or calls_conservative(probe, summaries):
        uses.add(ANY_PATH)
    # Objects this run may mutate without saying so: arguments, method
    # receivers, and globals that called functions read. Plain reads are not
    # fingerprinted: they cannot mutate, and fingerprints cost time. Neither
    # are receivers of pure pandas/numpy methods (df.groupby(...).sum()):
    # analysis decides that with the namespace as it is now, before the run.
    watched = analysis.maybe_mutated | analysis.method_receivers
    watched |= {root(path) for path in uses - analysis.uses if path != ANY_PATH}
    defines = frozenset(set(analysis.defines) | extra_defines)
    return _Effects(
        frozenset(uses),
        defines,
        frozenset(watched),
        frozenset(analysis.binds),
        frozenset(analysis.draws),
    )


def _output_history(namespace: Any, count: int | None) -> set[str]:
    """IPython's output history a run with a result wrote (``_``, ``__``, ``___``,
    ``_N``, ``Out[N]``): data like any other global, read by later cells. ``__``
    and ``___`` shift older results along, so they are changes, not bindings."""
    outputs = namespace.get("Out")
    if count is None or not isinstance(outputs, dict) or count not in outputs:
        return set()
    return {"_", "__", "___", f"_{count}", f"Out[{count}]"}


@dataclass
class Agent:
    """Per-kernel recorder; one instance is installed as ``AGENT_NAME``."""

    shell: Any
    graph: Graph = field(default_factory=Graph)
    summaries: dict[str, FunctionSummary] = field(default_factory=dict)
    instance_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    clock: int = 0
    protocol_version: int = PROTOCOL_VERSION
    deleted: dict[str, int] = field(default_factory=dict)
    #: every recorded run, oldest first (state API: timestamps, reproduce_cell)
    history: list[CellRecord] = field(default_factory=list)
    #: session-wide settings from ``%flow``; None defers to the server's config
    mode: str | None = None
    direction: str | None = None
    #: code cell ids in notebook order, as the server last pushed them
    order: list[str] = field(default_factory=list)
    failures: int = 0
    #: True when reports can ride in execute_reply metadata (ipykernel's hook)
    reply_metadata: bool = False
    #: clock of the last report sent in reply metadata: the next one starts there
    reported: int = 0
    #: True when the kernel checks runs the server sends ahead (:mod:`.ahead`)
    runs_ahead: bool = False
    _depth: int = 0
    _pending: _PendingRun | None = None
    _transforms: dict[str, str] = field(default_factory=dict)
    _analyses: KnownAnalyses = field(default_factory=KnownAnalyses)
    #: id(analysis) → (analysis, what its closed effects rest on, the effects)
    _effects: dict[int, tuple[CellAnalysis, tuple[int, int], _Effects]] = field(
        default_factory=dict
    )
    _summaries_version: int = 0
    #: the records put since the graph began (or its recent part), oldest first
    _journal: list[CellRecord] = field(default_factory=list)
    #: the last run's snapshot after it, with the namespace and its stamp then
    _kept: tuple[Any, int, Snapshot] | None = None
    #: iopub, once the server asked for reports after replies
    _sender: ReportSender | None = None
    #: a run whose record waits for its reply to leave, with its result
    _unfinished: tuple[_PendingRun, Any] | None = None
    #: the request whose report is owed on iopub; and the last such request's id
    _owed: dict[str, Any] | None = None
    _followed: str | None = None

    # -- IPython event hooks -------------------------------------------------

    def pre_run_cell(self, info: Any) -> None:
        self._settle()
        # %%capture, %time... call run_cell inside a run: only the outer run counts.
        self._depth += 1
        if self._depth > 1:
            return
        self._pending = None
        if getattr(info, "silent", False):
            return
        try:
            self._pending = self._prepare(info)
        except Exception:  # never let our bookkeeping break the user's run
            self._log_failure("analysis")

    def post_run_cell(self, result: Any) -> None:
        self._depth = max(0, self._depth - 1)
        if self._depth:
            return
        pending, self._pending = self._pending, None
        if pending is None:
            return
        if not pending.asked and self._finish_after_reply(pending, result):
            return
        try:
            self._finish(pending, result)
        except Exception:
            self._log_failure("recording")

    def _finish_after_reply(self, pending: _PendingRun, result: Any) -> bool:
        """Leave the record and the report of a browser's run until its reply is
        sent (see :mod:`.after_reply`); False where the server did not ask for
        that or the kernel cannot (then the reply carries the report)."""
        sender = self._sender
        request = sender.request() if sender is not None else None
        if request is None or not ReportSender.after_this_message(self._settle):
            return False
        self._unfinished, self._owed = (pending, result), request
        self._followed = msg_id_of(request)
        return True

    def _settle(self) -> None:
        """Finish a run left for after its reply, and send the report owed for it.

        On the kernel's next loop turn, and before anything that reads the
        records (the next run, a report, a widget): the namespace is as the
        run left it, since no code ran in between.
        """
        unfinished, self._unfinished = self._unfinished, None
        if unfinished is not None:
            try:
                self._finish(*unfinished)
            except Exception:
                self._log_failure("recording")
        owed, self._owed = self._owed, None
        if owed is None or self._sender is None:
            return
        try:
            self._sender.send(owed, self.report_payload(self.reported))
        except Exception:  # the server then asks for the records itself
            self._log_failure("report")
            return
        self.reported = max(self.reported, self.clock)

    def _log_failure(self, stage: str) -> None:
        """The first failure is logged with its traceback; repeats stay quiet."""
        self.failures += 1
        if self.failures == 1:
            log.exception("kernel_agent: %s failed; this run is not recorded", stage)
        else:
            log.debug("kernel_agent: %s failed again (%d)", stage, self.failures, exc_info=True)

    # -- recording -----------------------------------------------------------

    def _request_metadata(self) -> dict[str, Any]:
        kernel = getattr(self.shell, "kernel", None)
        parent = kernel.get_parent() if kernel is not None else None
        return (parent or {}).get("metadata") or {}

    def _prepare(self, info: Any) -> _PendingRun | None:
        # ipykernel hands IPython the request's metadata (cell_meta): no parent lookup
        metadata = getattr(info, "cell_meta", None)
        if not isinstance(metadata, dict):
            metadata = self._request_metadata()
        self._forget_deleted(metadata.get("deletedCells") or [])
        cell_id = metadata.get("cellId") or getattr(info, "cell_id", None)
        if not cell_id:
            return None
        asked = REPORT_METADATA_KEY in metadata
        raw = info.raw_cell or ""
        namespace = self.shell.user_ns
        identities = self._snapshot_before(namespace)
        analysis = self._analyses.analysis(self._transformed(raw), namespace, identities)
        effects = self._closed_effects(analysis)
        return _PendingRun(
            cell_id=str(cell_id),
            code=raw,
            analysis=analysis,
            effects=effects,
            fingerprints={n: fingerprint(namespace[n]) for n in effects.watched if n in namespace},
            identities=identities,
            asked=asked,
        )

    def _snapshot_before(self, namespace: Any) -> Snapshot:
        """The identities before a run: the last run's after-snapshot while the
        namespace's stamp says nothing touched it since (the common case; a
        snapshot touches every user global), else a fresh one."""
        kept, self._kept = self._kept, None
        if kept is not None and kept[0] is namespace and kept[1] == version_of(namespace):
            return kept[2]
        return snapshot(namespace)

    def _snapshot_after(self, namespace: Any) -> Snapshot:
        """A fresh snapshot, kept for the next run when it has a stamp that
        did not move while it was taken (another thread may write meanwhile)."""
        stamp = version_of(namespace)
        after = snapshot(namespace)
        if stamp is not None and stamp == version_of(namespace):
            self._kept = (namespace, stamp, after)
        return after

    def _closed_effects(self, analysis: CellAnalysis) -> _Effects:
        """:func:`_close_effects`, kept while the analysis (a kept one, see
        :class:`KnownAnalyses`: the receivers' classes are among its facts) and
        the summaries are the same: re-runs of a cell."""
        key = (id(self.summaries), self._summaries_version)
        kept = self._effects.get(id(analysis))
        if kept is not None and kept[0] is analysis and kept[1] == key:
            return kept[2]
        effects = _close_effects(analysis, self.summaries, self.shell.user_ns)
        if len(self._effects) >= 256:
            self._effects.clear()
        self._effects[id(analysis)] = (analysis, key, effects)
        return effects

    def _finish(self, pending: _PendingRun, result: Any) -> None:
        namespace = self.shell.user_ns
        defines = set(pending.effects.defines)
        for name, before in pending.fingerprints.items():
            if name in namespace and fingerprint(namespace[name]) != before:
                defines.add(name)
        after = self._snapshot_after(namespace)
        rebound = changed_between(pending.identities, after)
        self._analyses.saw(namespace, after, pending.identities, rebound)
        defines |= rebound
        if pending.analysis.functions:
            self.summaries.update(pending.analysis.functions)
            self._summaries_version += 1
        self.clock += 1
        info = getattr(result, "info", None)
        count = getattr(result, "execution_count", None) or getattr(info, "execution_count", None)
        history = _output_history(namespace, count)
        defines |= history
        previous = self.graph.records.get(pending.cell_id)
        dropped: set[str] = set()
        if previous is not None and previous.code != pending.code:
            dropped = self._forget_dropped(previous, pending.cell_id, defines, namespace)
        defines |= dropped
        record = CellRecord(
            cell_id=pending.cell_id,
            ts=self.clock,
            code=pending.code,
            uses=pending.effects.uses,
            defines=frozenset(defines),
            ok=bool(getattr(result, "success", True)),
            execution_count=count,
            binds=pending.effects.binds | rebound | dropped | (history - {"__", "___"}),
            prev_ts=previous.ts if previous is not None else None,
            draws=pending.effects.draws,
        )
        self._record(record)
        self.history.append(record)

    def _forget_dropped(
        self, previous: CellRecord, cell_id: str, defines: set[str], namespace: Any
    ) -> set[str]:
        """An edited star import (or exec) no longer brings in what its earlier run
        did: delete those globals when no cell makes them now, as restart-and-run-all
        would not have them (``from numpy import *`` edited to ``from numpy import
        pi`` must not leave numpy's ``sum`` over the builtin). Other edits delete
        nothing: a name a user stops defining keeps its value until a restart.
        Returns the names deleted: the run wrote them (readers of them are stale)."""
        if ANY_PATH not in previous.defines or ANY_PATH in defines:
            return set()
        dropped = {
            name
            for name in previous.defines
            if name != ANY_PATH and root(name) == name and is_user_name(name)
        } - {root(path) for path in defines}
        for other_id, other in self.graph.records.items():
            if dropped and other_id != cell_id:
                dropped -= {root(path) for path in other.defines}
        for name in dropped:
            namespace.pop(name, None)
        return dropped

    def _record(self, record: CellRecord) -> None:
        """Put a new record (``ts`` = the clock) into the graph and the journal."""
        self.graph.put(record)
        journal = self._journal
        journal.append(record)
        if len(journal) > 2 * len(self.graph.records) + 64:
            del journal[: len(journal) // 2]

    def last_run(self) -> CellRecord | None:
        """The record of the last recorded run, while it is its cell's latest."""
        if not self._journal:
            return None
        last = self._journal[-1]
        return last if self.graph.records.get(last.cell_id) is last else None

    def _records_since(self, since: int) -> list[CellRecord]:
        """The current records newer than ``since``, newest last.

        Every reply asks for the few since the previous one: the journal's tail
        answers without going through every cell's record.
        """
        journal = self._journal
        if not journal or journal[0].ts > since + 1:  # older than the journal holds
            return [record for record in self.graph.records.values() if record.ts > since]
        found = []
        for record in reversed(journal):
            if record.ts <= since:
                break
            if self.graph.records.get(record.cell_id) is record:
                found.append(record)
        found.reverse()
        return found

    def _transformed(self, raw: str) -> str:
        """IPython's transformation of a cell (magics, ``!``), cached: re-runs are common."""
        transformed = self._transforms.get(raw)
        if transformed is None:
            if len(self._transforms) >= 256:
                self._transforms.clear()
            transformed = self._transforms[raw] = self.shell.transform_cell(raw)
        return transformed

    def _forget_deleted(self, cell_ids: list[str]) -> None:
        for cell_id in cell_ids:
            self.graph.remove(str(cell_id))
            self.deleted[str(cell_id)] = self.clock

    # -- widgets ---------------------------------------------------------------

    def widget_changed(self, comm_ids: list[str]) -> list[str]:
        """A browser moved these widgets: record a run that redefines the globals
        holding them, so the cells that read them become stale. Returns the names.
        """
        self._settle()
        wanted = set(comm_ids)
        names = sorted(
            name
            for name, value in self.shell.user_ns.items()
            if is_user_name(name) and getattr(value, "model_id", None) in wanted
        )
        for name in names:
            self.clock += 1
            self._record(
                CellRecord(f"widget:{name}", self.clock, "", frozenset(), frozenset({name}))
            )
        return names

    # -- queries from the server ----------------------------------------------

    def report(self, since: int = 0, order: list[str] | None = None) -> str:
        """:meth:`report_payload` as JSON, for a user expression."""
        return encode_report(self.report_payload(since, order))

    def report_payload(self, since: int = 0, order: list[str] | None = None) -> dict[str, Any]:
        """Records newer than ``since`` and deletions, for the server.

        The server passes the notebook's cell ``order`` when it changed, so
        in-kernel previews know what is above and below.
        """
        self._settle()
        if order is not None:
            self.order = [str(cell_id) for cell_id in order]
            self.graph.arrange(self.order)
        cells = [record.to_json() for record in self._records_since(since)]
        deleted = [cell_id for cell_id, ts in self.deleted.items() if ts >= since]
        return {
            "version": PROTOCOL_VERSION,
            "instance": self.instance_id,
            "since": since,
            "clock": self.clock,
            "cells": cells,
            "deleted": deleted,
            "mode": self.mode,
            "direction": self.direction,
        }

    def add_reply_metadata(self, parent: Any, metadata: dict[str, Any]) -> None:
        """Add a report to an execute_reply's metadata: the one its request asked
        for, else (non-silent requests) the records since the last such report,
        or word that they follow on iopub (:meth:`report_after_replies`)."""
        parent = parent or {}
        query = (parent.get("metadata") or {}).get(REPORT_METADATA_KEY)
        if not isinstance(query, dict) and self._followed and msg_id_of(parent) == self._followed:
            metadata[REPORT_METADATA_KEY] = follows_marker()
            return
        if isinstance(query, dict):
            since = query.get("since") or 0
        elif not (parent.get("content") or {}).get("silent", False):
            since = self.reported
        else:
            return
        try:
            metadata[REPORT_METADATA_KEY] = self.report_payload(int(since))
        except Exception:
            self._log_failure("report")
            return
        self.reported = max(self.reported, self.clock)

    def report_after_replies(self) -> bool:
        """Asked by the server, which reads the kernel's iopub itself: from now
        on a browser's run is recorded, and its report sent, after its reply
        (:mod:`.after_reply`). False where reports cannot ride in replies or
        the kernel has no iopub session; then nothing changes."""
        self._sender = ReportSender.for_shell(self.shell) if self.reply_metadata else None
        return self._sender is not None


def load_ipython_extension(
    shell: Any, on_install: Callable[[Any, Agent], None] | None = None
) -> Agent:
    """Install the agent once per kernel; re-loading returns the existing one.

    ``on_install(shell, agent)`` runs once, after a new agent is installed: the
    package's :func:`kernel_agent.load_ipython_extension` registers the magics of
    :mod:`kernel_agent.features` there (the runtime never imports features).
    """
    existing = shell.user_ns.get(AGENT_NAME)
    if getattr(existing, "protocol_version", None) == PROTOCOL_VERSION:
        return existing  # type: ignore[no-any-return]
    if existing is not None:  # an older agent from a previous server: unhook it
        for event in ("pre_run_cell", "post_run_cell"):
            with contextlib.suppress(ValueError, AttributeError):
                shell.events.unregister(event, getattr(existing, event))
    agent = Agent(shell=shell)
    shell.events.register("pre_run_cell", agent.pre_run_cell)
    shell.events.register("post_run_cell", agent.post_run_cell)
    kernel = getattr(shell, "kernel", None)
    agent.reply_metadata = _hook_reply_metadata(kernel, agent)
    guard = ahead.AheadGuard(agent.last_run, lambda: int(shell.execution_count))
    agent.runs_ahead = agent.reply_metadata and ahead.install(kernel, guard, agent._settle)
    shell.user_ns[AGENT_NAME] = agent
    shell.user_ns_hidden[AGENT_NAME] = agent
    if on_install is not None:
        on_install(shell, agent)
    return agent


def _hook_reply_metadata(kernel: Any, agent: Agent) -> bool:
    """Let ``agent`` add to every execute_reply's metadata; False if the kernel can't.

    ipykernel builds reply metadata in ``finish_metadata(parent, metadata,
    reply_content)``; we wrap it on the instance. A wrapper left by an earlier
    agent is replaced, not wrapped again.
    """
    finish = getattr(kernel, "finish_metadata", None)
    if finish is None:
        return False
    finish = getattr(finish, "cascade_original", finish)

    def finish_metadata(parent: Any, metadata: Any, reply_content: Any) -> Any:
        metadata = finish(parent, metadata, reply_content)
        if isinstance(metadata, dict):
            agent.add_reply_metadata(parent, metadata)
        return metadata

    finish_metadata.cascade_original = finish  # type: ignore[attr-defined]
    try:
        kernel.finish_metadata = finish_metadata
    except (AttributeError, TypeError):
        return False
    return True
