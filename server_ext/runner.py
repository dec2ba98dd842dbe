"""Running cascades on one kernel: agent loading, upstream pulls, downstream runs.

A :class:`KernelRunner` reacts to the browser traffic the proxy reports
(requests admitted, replies seen) and runs the cells the scheduler picks, one
at a time, on a private :class:`KernelChannel`. Cascaded runs are ordinary
executions: non-silent, counted, broadcast on iopub, tagged with ``cellId`` and
``cascade.trigger`` in their metadata (DESIGN §4).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
import weakref
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol

from kernel_agent.core.overlay import Overlay, Predicted
from kernel_agent.core.planning import (
    ANY_ORDER,
    LAZY,
    CycleError,
    Effects,
    NotebookCell,
    arrange,
    first_needing_run,
    may_pull,
    plan_downstream,
    plan_upstream,
)
from kernel_agent.core.protocol import AHEAD_KEY, OPT_OUT_MARKER

from . import agent_link
from .codec import CarriedReport
from .config import Cascade
from .debounce import Debouncer
from .due_reports import DueReports
from .held_messages import HeldMessages
from .kernel_channel import KernelChannel, KernelGone, Sent
from .lookahead import Step, plan_steps
from .notebook import NotebookModel, SentCode, match_cell
from .outputs import OutputCollector
from .persistence import persisted_effects
from .predict import (
    INLINE_OVERLAY,
    Predictions,
    PredictionsPending,
    overlay_of,
    predict_effects,
)
from .state import BrowserRequest, KernelState

#: a batch of cells sent ahead yields to the event loop after its first request and
#: then after every this many (see :meth:`KernelRunner._run_steps`)
SENDS_PER_TURN = 4


class Notebooks(Protocol):
    """How a runner finds its kernel's notebook (the service implements it)."""

    async def find_path(self, kernel_id: str) -> str | None: ...
    def find_path_now(self, kernel_id: str) -> str | None: ...
    async def open_model(self, path: str, runner: KernelRunner) -> NotebookModel: ...
    def open_model_now(self, path: str, runner: KernelRunner) -> NotebookModel | None: ...
    def unchanged_now(self, path: str, stamp: object, touches: int | None = None) -> bool: ...
    def touches_if_unchanged(self, path: str, stamp: object) -> int | None: ...
    def kept_long_lived(self) -> None: ...


def wants_opt_out(code: str, metadata: dict[str, Any]) -> bool:
    """A run opts out by metadata flag, a ``cascade-off`` tag, or a first-line marker."""
    if metadata.get("cascade") is False:
        return True
    if "cascade-off" in (metadata.get("tags") or []):
        return True
    return code.lstrip().startswith(OPT_OUT_MARKER)


@dataclass
class Admission:
    """What the proxy adds to a browser's execute_request before forwarding it."""

    cell_id: str | None = None
    report: agent_link.ReportQuery = field(default_factory=agent_link.ReportQuery)


@dataclass(frozen=True)
class _FirstNeed:
    """Where the first code cell that needs a run sat at this graph version, read
    of the notebook (path and stamp) and count of the browser's runs: while they
    hold, so does the answer to "may a pull before this cell run anything".
    ``first`` None: no cell needed a run (each fresh, or blank and never run),
    and no request can need a pull while the graph and the notebook hold."""

    graph_version: int
    path: str
    stamp: object
    sent_version: int
    first: int | None
    #: each cell's position, when some cell needs a run
    positions: dict[str, int]
    #: cells whose re-run must pull cells above first (:meth:`Graph.rerun_unheld`)
    unheld: frozenset[str] = frozenset()
    #: how often the file was saved or read through Jupyter, while it was the
    #: one read (:meth:`Notebooks.touches_if_unchanged`): then no stat per request
    touches: int | None = None


def _defined_names(source: str) -> frozenset[str]:
    return predict_effects(source).defines


class KernelRunner:
    """Cascades for one kernel; all kernel traffic goes through ``self.channel``."""

    def __init__(
        self,
        kernel_id: str,
        kernel_manager: Any,
        config: Cascade,
        notebooks: Notebooks,
        log: logging.Logger,
    ) -> None:
        self.state = KernelState(kernel_id)
        self.config = config
        self.channel = KernelChannel(kernel_id, kernel_manager, log)
        self.channel.on_report = self._on_report
        #: browser replies whose report follows on iopub, and reports read first
        self._due_reports = DueReports(self._finish_reply)
        self.sent_code = SentCode()
        self._kernel_manager = kernel_manager
        self._notebooks = notebooks
        self._log = log
        self._agent: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._after_run_scheduled = False
        #: tasks writing the outputs of cascaded cells whose replies came
        self._writing: list[asyncio.Future[None]] = []
        self._first_need: _FirstNeed | None = None
        #: the batch of cascaded runs sent ahead that the kernel is working through
        self._batch: str | None = None
        #: whether cascaded runs' messages to Lab and Notebook 7 pages are held a little
        #: (:mod:`server_ext.held_messages`): while a batch runs, until its last cell starts
        self.holding = False
        self.held: weakref.WeakSet[HeldMessages] = weakref.WeakSet()
        self._predictions = Predictions()
        #: the predicted cells' writers, indexed once and kept up to date by each plan
        self._overlay = Overlay()
        self._moved_widgets = Debouncer(lambda ids: self._spawn(self._after_widget_moves(ids)))
        # The kernel's own restarter (a crashed kernel) emits no REST event.
        with contextlib.suppress(Exception):  # gateway kernels have no local restarter
            kernel_manager.add_restart_callback(self.on_restart, "restart")
            kernel_manager.add_restart_callback(self.on_death, "dead")

    @property
    def mode(self) -> str:
        """Reactive or lazy: ``%flow mode`` in the kernel wins over the server config."""
        return self.state.kernel_mode or self.config.mode

    @property
    def direction(self) -> str:
        return self.state.kernel_direction or self.config.direction

    # -- agent ---------------------------------------------------------------

    def ensure_agent(self) -> asyncio.Future[None]:
        """Start loading the agent unless it is loaded or loading."""
        if self._agent is None or (self._agent.done() and self.state.enabled is None):
            self._agent = asyncio.ensure_future(self._load_agent())
        return self._agent

    async def _load_agent(self) -> None:
        """Load the agent on the current channel.

        A kernel restarted by its own restarter is reset twice, before and after
        the restart (:meth:`on_restart`): a load whose channel a later reset
        replaced leaves the state to the load that replaced it.
        """
        channel = self.channel
        try:
            await channel.ensure_started()
            if (channel.language or "").lower() != "python":
                self.state.enabled = False
                self.state.last_error = (
                    f"reactivity is unavailable for {channel.language or 'this'} kernels"
                )
                return
            async with self.state.lock:
                info = await agent_link.inject(channel)
                report = await agent_link.fetch_report(channel, 0)
                if channel is not self.channel:
                    return
                self.state.reports_in_metadata = info.reply_metadata
                self.state.runs_ahead = info.runs_ahead
                self._log.debug(
                    "cascade: agent loaded in kernel %s; a browser run's report %s",
                    self.state.kernel_id,
                    "follows its reply" if info.reports_follow else "rides in its reply",
                )
                self.state.apply_report(report)
            self.state.enabled = True
        except Exception as error:
            if channel is not self.channel:
                return
            self.state.enabled = False
            self.state.last_error = f"agent failed to load: {error}"
            self._log.warning("cascade: kernel %s passes through: %s", self.state.kernel_id, error)

    async def _agent_ready(self) -> bool:
        """Wait (up to ``agent_timeout``) for the agent, following a load that a
        restart replaced to the one that replaced it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.agent_timeout
        while not (agent := self.ensure_agent()).done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.wait({agent}, timeout=remaining)
        return self.state.enabled is True

    def on_restart(self) -> None:
        """The kernel restarted: forget its state, reconnect, reload the agent."""
        self.state.reset()
        self._due_reports.clear()
        old_channel, self.channel = (
            self.channel,
            KernelChannel(self.state.kernel_id, self._kernel_manager, self._log),
        )
        self.channel.on_report = self._on_report
        self._spawn(old_channel.close())
        self._agent, self._first_need = None, None
        self.ensure_agent()

    def on_death(self) -> None:
        """The kernel died for good: wake every waiter, stop cascading."""
        self.channel.fail_all("the kernel died")
        self.state.reset()
        self._due_reports.clear()
        self.state.enabled = False
        self.state.last_error = "the kernel died"

    # -- browser traffic (called by the proxy) ------------------------------

    def note_request(
        self, msg_id: str, code: str, metadata: dict[str, Any], legacy: bool = False
    ) -> None:
        """Remember a browser execute_request the moment it arrives (keeps order).

        ``legacy``: sent by nbclassic, which gives no cellId (we match the code).
        """
        cell_id = metadata.get("cellId")
        self.cancel_ahead()  # the browser's run goes next, as between two cascaded runs
        self.state.inflight[msg_id] = BrowserRequest(
            cell_id=str(cell_id) if cell_id else None,
            code=code,
            opt_out=wants_opt_out(code, metadata),
            legacy=legacy,
        )

    def forward_at_once(self) -> bool:
        """Whether a browser's execute request may go to the kernel untouched,
        before it is even read (:meth:`forwarded` notes it right after).

        True when the agent answers every reply with its report, nothing else
        holds the kernel, and no request can need an upstream pull: no code
        cell needed a run at the last look, and neither the graph nor the
        notebook changed since. The common case of re-running cells in a settled
        notebook; anything else is admitted as usual.
        """
        settled, state = self._settled, self.state
        if settled is None or settled.graph_version != state.graph.version:
            return False
        if state.enabled is not True or not state.reports_in_metadata:
            return False
        if state.lock.locked() or state.replica_outdated or self._due_reports:
            return False
        if self._notebooks.find_path_now(state.kernel_id) != settled.path:
            return False
        return self._notebooks.unchanged_now(settled.path, settled.stamp, settled.touches)

    def forwarded(self, msg_id: str, code: str, metadata: dict[str, Any]) -> None:
        """Note a request :meth:`forward_at_once` let through (it carries a cellId)."""
        self.note_request(msg_id, code, metadata)
        cell_id = metadata.get("cellId")
        if cell_id:
            self.sent_code.note(str(cell_id), code, time.time())

    @property
    def _settled(self) -> _FirstNeed | None:
        """The last note, when it found no cell that needs a run (:meth:`forward_at_once`)."""
        note = self._first_need
        return note if note is not None and note.first is None and not note.unheld else None

    def _note_settled(self, model: NotebookModel, cells: list[NotebookCell]) -> None:
        """Remember where the first code cell that needs a run is, and so when none
        does (see :meth:`forward_at_once` and :meth:`_may_pull`)."""
        stamp, graph = model.stamp(), self.state.graph
        if stamp is None:
            self._first_need = None
            return
        arrange(graph, cells, self.direction)
        first = first_needing_run(graph, cells)
        unheld = frozenset(
            cell.id for cell in cells if cell.id in graph.records and graph.rerun_unheld(cell.id)
        )
        positions = {} if first is None else {cell.id: i for i, cell in enumerate(cells)}
        quiet = first is None and not unheld
        touches = self._notebooks.touches_if_unchanged(model.path, stamp) if quiet else None
        self._first_need = _FirstNeed(
            graph.version,
            model.path,
            stamp,
            self.sent_code.version,
            first,
            positions,
            unheld=unheld,
            touches=touches,
        )

    def _may_pull(self, model: NotebookModel, cells: list[NotebookCell], trigger: str) -> bool:
        """:func:`may_pull`, answered from the note of the last reply while nothing
        it rests on moved: the admission of a run near the end of a big notebook
        otherwise asks every cell above it (~1.4 ms at 1,000 cells, cold)."""
        note = self._first_need
        if (
            note is not None
            and self.direction != ANY_ORDER
            and note.graph_version == self.state.graph.version
            and note.sent_version == self.sent_code.version
            and note.path == model.path
            and note.stamp == model.stamp()
        ):
            if trigger in note.unheld:
                return True
            if note.first is None:
                return False
            position = note.positions.get(trigger)
            if position is not None:
                return note.first < position
        return may_pull(self.state.graph, cells, trigger, self.direction)

    def admit_now(self, msg_id: str) -> Admission | None:
        """The admission of a browser request when it can be decided without waiting.

        The common case: the agent is loaded, nothing else is talking to the
        kernel, the notebook's cells are at hand, and no cell above needs a run.
        Forwarding at once saves a loop turn and the awaits (~0.4 ms a run).
        None: anything else, and :meth:`admit` decides (it may pull cells first).
        """
        request = self.state.inflight.get(msg_id)
        agent = self._agent
        if request is None or agent is None or not agent.done():
            return None
        if self.state.enabled is not True:
            return Admission() if self.state.enabled is False else None
        if request.cell_id is None or self.state.lock.locked() or self.state.replica_outdated:
            return None
        if self._due_reports:  # the graph is behind a run the kernel finished
            return None
        path = self._notebooks.find_path_now(self.state.kernel_id)
        model = self._notebooks.open_model_now(path, self) if path else None
        cells = model.code_cells_now() if model is not None else None
        if model is None or cells is None:
            return None
        if not request.opt_out and self.mode != LAZY:
            try:
                if self._upstream_plan(model, cells, request, inline=False):
                    return None
            except PredictionsPending:
                return None  # the first plan of a big notebook: analysed off the loop
        self.sent_code.note(request.cell_id, request.code, time.time())
        return Admission(report=self._browser_report_query())

    async def admit(self, msg_id: str) -> Admission:
        """Prepare a browser request before it is forwarded; run upstream cells first.

        The admission says what to add to the request: a cell id when the
        browser sent none (nbclassic), so the agent can key the run; and the
        query for the agent report, so the reply brings the run's record
        without a request of our own.
        """
        admission = Admission()
        request = self.state.inflight.get(msg_id)
        if request is None or not await self._agent_ready():
            return admission
        if self._due_reports:  # the records of runs whose reply came: then decide
            await self._due_reports.all_in()
            at_once = self.admit_now(msg_id)
            if at_once is not None:
                return at_once
        model = await self._model()
        if request.cell_id is None and request.legacy and model is not None:
            cells = await model.code_cells()
            request.cell_id = admission.cell_id = match_cell(cells, request.code, _defined_names)
        if request.cell_id is not None:
            self.sent_code.note(request.cell_id, request.code, time.time())
            if model is not None and not request.opt_out and self.mode != LAZY:
                await self._pull_upstream(model, request)
        admission.report = self._browser_report_query()
        return admission

    def _report_query(self) -> agent_link.ReportQuery:
        return agent_link.report_request(self.state.clock, self.state.reports_in_metadata)

    def _browser_report_query(self) -> agent_link.ReportQuery:
        """Nothing to ask where every execute_reply brings a report unasked."""
        if self.state.reports_in_metadata:
            return agent_link.ReportQuery()
        return self._report_query()

    def on_reply(self, msg_id: str, status: str, report: CarriedReport | None = None) -> None:
        """A browser request finished; cascade once no browser request is in flight.

        ``report``: the agent report, when the reply has it, or word that it
        follows on iopub (then the reply waits for it: :class:`DueReports`).
        """
        if report is not None and report.follows:
            if msg_id in self.state.inflight and self.state.enabled is True:
                report = self._due_reports.wait_for(msg_id, status)
                if report is None:
                    return  # finished when its report comes
            else:
                report = None  # not a run we track: nothing to wait for
        elif report is None:
            report = self._due_reports.came_first(msg_id)
        self._finish_reply(msg_id, status, report)

    def _on_report(self, msg_id: str, payload: dict[str, Any]) -> None:
        """An agent report read on iopub, for the reply to ``msg_id``."""
        self._due_reports.arrived(msg_id, payload, msg_id in self.state.inflight)

    def _finish_reply(self, msg_id: str, status: str, report: CarriedReport | None) -> None:
        request = self.state.inflight.pop(msg_id, None)
        if request is None or self.state.enabled is not True:
            return
        version = self.state.graph.version
        if not self._apply_reply_report(report):
            self.state.replica_outdated = True
        if status != "ok":
            self.state.trigger_failed = True
        elif request.cell_id and not request.opt_out:
            self.state.triggers.append(request.cell_id)
        if self._after_run_scheduled:  # one pending after-run pass serves every reply
            return
        if self._still_settled(version):
            self.state.triggers.clear()
            return
        self._after_run_scheduled = True
        self.state.pending_cascades += 1
        self._spawn(self._after_browser_run())

    def _still_settled(self, version: int) -> bool:
        """Whether the notebook, settled at graph ``version``, still is after a reply
        (then noted so): the after-run pass would find nothing to run or pull.

        The common case of re-running a cell nothing else reads. Deciding it here
        spares the pass's work (~0.3 ms of server CPU) at the moment the client
        is reading the reply. The cells are those last read: the note checks
        the saved file once (:meth:`Notebooks.touches_if_unchanged`), and a
        file changed since that read leaves the note without a count, so the
        next request's check (:meth:`forward_at_once`) looks at the file and
        admits that request as usual.
        """
        settled, state = self._settled, self.state
        if settled is None or settled.graph_version != version:
            return False
        if state.inflight or state.lock.locked() or state.replica_outdated:
            return False
        path = self._notebooks.find_path_now(state.kernel_id)
        model = self._notebooks.open_model_now(path, self) if path == settled.path else None
        cells = model.code_cells_as_read() if model is not None else None
        if model is None or cells is None or model.stamp() != settled.stamp:
            return False  # another notebook, or its cells changed since
        self._note_settled(model, cells)
        return self._settled is not None

    def _apply_reply_report(self, report: CarriedReport | None) -> bool:
        if report is None:
            return False
        try:
            return self.state.apply_report(agent_link.read_report(report))
        except agent_link.AgentUnavailable as error:
            self._log.debug("cascade: no report in a browser reply: %s", error)
            return False

    def adopt(self, msg_ids: set[str]) -> None:
        """Finish, from iopub, browser requests whose websocket closed mid-run."""
        for msg_id in msg_ids:
            if msg_id in self.state.inflight:
                self.channel.watch(msg_id, functools.partial(self.on_reply, msg_id))

    def on_widget_update(self, comm_id: str) -> None:
        """A browser moved a widget: cascade from it once the updates settle."""
        if self.state.enabled is True and self._moved_widgets.add(comm_id):
            self.state.pending_cascades += 1

    async def _after_widget_moves(self, comm_ids: list[str]) -> None:
        try:
            async with self.state.lock:
                names = await agent_link.widgets_changed(self.channel, comm_ids)
                model = await self._model()
                cells = await model.code_cells() if model is not None else None
                await self._refresh(self._new_order(cells))
                definers = self.state.graph.definers_of(names) - {f"widget:{n}" for n in names}
                if model is not None and cells is not None and definers and self.mode != LAZY:
                    triggers = [c.id for c in cells if c.id in definers]
                    await self._cascade_down(model, triggers)
        except Exception:
            self._log.exception("cascade: widget cascade failed on %s", self.state.kernel_id)
        finally:
            self.state.pending_cascades -= 1

    # -- cascades ------------------------------------------------------------

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _new_order(self, cells: list[NotebookCell] | None) -> list[str] | None:
        """The notebook's cell order, when the agent has not been told it yet."""
        order = [cell.id for cell in cells] if cells is not None else None
        return None if order == self.state.pushed_order else order

    async def _refresh(self, order: list[str] | None = None) -> None:
        """Pull new records; push ``order`` (from :meth:`_new_order`) to the agent."""
        self.state.replica_outdated = False
        report = await agent_link.fetch_report(self.channel, self.state.clock, order)
        self.state.apply_report(report)
        if order is not None:
            self.state.pushed_order = order

    async def _after_browser_run(self) -> None:
        try:
            async with self.state.lock:
                self._after_run_scheduled = False  # replies from now on need a new pass
                model = await self._model()
                cells = await model.code_cells() if model is not None else None
                order = self._new_order(cells)
                if self.state.replica_outdated or order:
                    await self._refresh(order)
                if self.state.inflight:
                    return  # the last reply of a batch ("Run All") cascades once
                triggers, failed = list(self.state.triggers), self.state.trigger_failed
                self.state.triggers.clear()
                self.state.trigger_failed = False
                if model is not None and triggers and not failed and self.mode != LAZY:
                    await self._cascade_down(model, triggers)
                if model is not None and cells is not None:
                    self._note_settled(model, cells)
        except CycleError as error:
            self.state.last_error = f"cascade stopped: {error}"
            self._log.warning("cascade: %s", self.state.last_error)
        except KernelGone as error:
            self._log.info("cascade: kernel %s went away: %s", self.state.kernel_id, error)
        except agent_link.AgentUnavailable as error:
            self._log.warning("cascade: agent unavailable, reloading: %s", error)
            self.state.enabled, self._agent = None, None
            self.ensure_agent()
        except Exception:
            self._log.exception("cascade: cascade failed on kernel %s", self.state.kernel_id)
        finally:
            self.state.pending_cascades -= 1

    def predicted(
        self,
        cells: list[NotebookCell],
        metadata: dict[str, Any] | None = None,
        *,
        inline: bool = True,
    ) -> dict[str, Effects]:
        """Effects for sources without an up-to-date record in this kernel.

        The graph persisted in the notebook's metadata knows what an earlier
        kernel saw at run time; otherwise the source is analysed here.
        ``inline=False``: raise :class:`PredictionsPending` rather than analyse
        many new sources in the event loop (:meth:`prepare_predictions` first).
        """
        unknown, persisted = self._unpredicted(cells, metadata)
        if len(persisted) == len(unknown):
            return Predicted(persisted, self._overlay)
        sources = [cell.source for cell in cells]
        if not inline and not self._predictions.ready(sources):
            raise PredictionsPending
        predict = self._predictions.predictor(sources)
        found = {cell.id: persisted.get(cell.id) or predict(cell.source) for cell in unknown}
        return Predicted(found, self._overlay)

    def _unpredicted(
        self, cells: list[NotebookCell], metadata: dict[str, Any] | None
    ) -> tuple[list[NotebookCell], dict[str, Effects]]:
        """The cells without an up-to-date record, and what the metadata knows of them."""
        records = self.state.graph.records
        unknown = [
            cell
            for cell in cells
            if (record := records.get(cell.id)) is None or record.code != cell.source
        ]
        persisted = persisted_effects(metadata, unknown) if metadata and unknown else {}
        return unknown, persisted

    async def prepare_predictions(
        self, cells: list[NotebookCell], metadata: dict[str, Any] | None = None
    ) -> None:
        """Analyse the sources :meth:`predicted` will need, in a worker thread when
        there are many (a big notebook's first plan), so the server keeps serving."""
        unknown, persisted = self._unpredicted(cells, metadata)
        if len(persisted) == len(unknown):
            return
        sources = [cell.source for cell in cells]
        analysed = await self._predictions.prepare(sources)
        wanted = [cell.source for cell in unknown if cell.id not in persisted]
        await self._predictions.prepare_effects(sources, wanted)
        if self._overlay.unindexed(cell.id for cell in unknown) > INLINE_OVERLAY:
            # any overlay is brought up to date by the plans: one built afresh will do
            predicted = self.predicted(cells, metadata)
            self._overlay = await asyncio.to_thread(overlay_of, predicted)
        if analysed:
            self._notebooks.kept_long_lived()

    async def _pull_upstream(self, model: NotebookModel, request: BrowserRequest) -> None:
        async with self.state.lock:
            cells = await model.code_cells()
            if self._may_pull(model, cells, str(request.cell_id)):
                await self.prepare_predictions(cells, model.metadata())
            # A browser run that finished meanwhile is out of ``inflight`` but maybe
            # not in the replica yet: refresh until no await separates the two.
            while self.state.replica_outdated:
                await self._refresh()
            plan = self._upstream_plan(model, cells, request)
            if plan:
                self._log.debug("cascade: pulling %s before %s", plan, request.cell_id)
                by_id = {cell.id: cell for cell in cells}
                await self._run_planned(model, [by_id[c] for c in plan], str(request.cell_id))

    def _upstream_plan(
        self,
        model: NotebookModel,
        cells: list[NotebookCell],
        request: BrowserRequest,
        *,
        inline: bool = True,
    ) -> list[str]:
        """The cells to run before ``request``, which runs the code it carries.

        Nothing is predicted when no cell it may pull needs a run: re-running a
        cell of a notebook's fresh upper part waits for no analysis of the
        never-run cells below (the cascade after its reply needs them).
        """
        if not self._may_pull(model, cells, str(request.cell_id)):
            return []
        cells = [NotebookCell(c.id, request.code) if c.id == request.cell_id else c for c in cells]
        predicted = self.predicted(cells, model.metadata(), inline=inline)
        record = self.state.graph.records.get(str(request.cell_id))
        if request.cell_id in predicted and record is not None:
            guess = predicted[request.cell_id]
            predicted[request.cell_id] = Effects(
                guess.uses | record.uses, guess.defines, guess.binds, guess.draws
            )
        try:
            plan = plan_upstream(
                self.state.graph, cells, str(request.cell_id), predicted, self.direction
            )
        except CycleError as error:
            self.state.last_error = f"upstream not run: {error}"
            return []
        # cells the browser already sent ("Run All") will run before this one anyway
        sent = {r.cell_id for r in self.state.inflight.values() if r is not request}
        return [cell_id for cell_id in plan if cell_id not in sent]

    async def _run_planned(
        self, model: NotebookModel, cells: list[NotebookCell], trigger: str
    ) -> None:
        self.state.queued = [cell.id for cell in cells]
        model.mark_queued(self.state.queued, True)
        try:
            # planned once, as the one-at-a-time loop ran them: only a failure stops it
            steps = [Step(cell, True, None) for cell in cells]
            while steps:
                ran, ok = await self._run_steps(model, steps, trigger)
                if not ok or not ran:
                    break
                # the kernel aborted the rest (an edit came): run them as they read now
                current = {cell.id: cell for cell in await model.code_cells()}
                steps = [
                    Step(current[s.cell.id], True, None)
                    for s in steps[len(ran) :]
                    if s.cell.id in current
                ]
        finally:
            await self._written()
            model.mark_queued(self.state.queued, False)
            self.state.end_cascade()

    async def _model(self) -> NotebookModel | None:
        path = await self._notebooks.find_path(self.state.kernel_id)
        return await self._notebooks.open_model(path, self) if path else None

    async def _cascade_down(self, model: NotebookModel, triggers: list[str]) -> None:
        self.state.last_error = None
        cells = await model.code_cells()
        await self.prepare_predictions(cells)
        predicted = self.predicted(cells)
        self.state.queued = plan_downstream(self.state.graph, cells, triggers, predicted)
        model.mark_queued(self.state.queued, True)
        done, last = set(triggers), triggers[-1]
        position = min((i for i, c in enumerate(cells) if c.id in done), default=-1)
        try:
            while not self.state.inflight:
                steps = plan_steps(
                    self.state.graph,
                    cells,
                    position,
                    done,
                    predicted,
                    self.direction,
                    self._ahead,
                )
                if not steps:
                    break
                self._log.debug("cascade: %s stale after %s", [s.cell.id for s in steps], triggers)
                ran, ok = await self._run_steps(model, steps, last)
                done.update(step.cell.id for step in ran)
                stale = [step.cell.id for step in ran if step.stale]
                if not ok:
                    break
                cells = await model.code_cells()
                predicted = self.predicted(cells)  # not before: the graph moves only by runs
                if stale:
                    position = next((i for i, c in enumerate(cells) if c.id == stale[-1]), position)
            else:
                self.state.triggers[:0] = triggers  # a browser request came in: resume later
        finally:
            await self._written()
            model.mark_queued(self.state.queued, False)
            self.state.end_cascade()

    @property
    def _ahead(self) -> int:
        """How many cells a cascade may send past the running one (0: none)."""
        return self.config.run_ahead if self.state.runs_ahead else 0

    def cancel_ahead(self) -> None:
        """Have the kernel abort the cascaded runs sent ahead it has not started."""
        if self._batch is not None:
            self.channel.cancel(self._batch)
            self._batch = None

    def stop(self) -> bool:
        """Stop the cascade in progress after the cell running; False when none runs."""
        state = self.state
        active = bool(state.queued or state.running or state.trigger)
        if active:
            state.stop_requested = True  # cleared when the cascade ends
            self.cancel_ahead()
        return active

    async def _run_steps(
        self, model: NotebookModel, steps: list[Step], trigger: str
    ) -> tuple[list[Step], bool]:
        """Run ``steps`` in order until one fails; returns those that ran, and
        False when one failed (the cascade ends there).

        With the agent's guard, all are sent at once, each after the first
        carrying the run it must follow (``kernel_agent.runtime.ahead``): the
        kernel aborts the rest when a run fails or does what the plan did not
        foresee, and the caller plans again from the records.
        """
        if len(steps) == 1 or not self._ahead:
            ran: list[Step] = []
            for step in steps:
                if not await self._run_cell(model, step.cell, trigger):
                    return ran, False
                ran.append(step)
            return ran, True
        if not self.state.start_cell(steps[0].cell.id, trigger):
            return [], False
        batch = self._batch = uuid.uuid4().hex
        sent: list[tuple[Step, Sent, OutputCollector]] = []
        model.on_code_change(self.cancel_ahead)  # an edit: the edited source runs, planned anew
        self.holding = True
        model.hold_writes({steps[-1].cell.id})  # shown together; the last one at once
        try:
            for i, step in enumerate(steps):
                before = steps[i - 1] if i else None
                ahead = None
                if before is not None:
                    follows = {"cell": before.cell.id, "effects": before.expected}
                    ahead = {"batch": batch, "after": follows}
                since = self.state.clock + i  # the runs before it add one record each
                query = agent_link.report_request(since, self.state.reports_in_metadata)
                last = i == len(steps) - 1
                sent.append((step, *self._send_cell(model, step.cell, trigger, query, ahead, last)))
                if i % SENDS_PER_TURN == 0:
                    # the kernel starts at the first: let its outputs go on to the pages
                    # now rather than after the whole batch (a cancel meanwhile is kept
                    # by the kernel, which aborts the batch's later requests too)
                    await asyncio.sleep(0)
            return await self._batch_replies(model, sent)
        except BaseException:
            self.state.running = None
            for _, run, _ in sent:  # the kernel went away: every reply failed alike
                if run.reply.done() and not run.reply.cancelled():
                    run.reply.exception()
            raise
        finally:
            model.on_code_change(None)
            model.hold_writes(None)
            self.stop_holding()
            if self._batch == batch:
                self._batch = None

    def stop_holding(self) -> None:
        """The batch's last cell started (or the batch ended): what the pages are
        held is sent now, well before the cascade shows as done, and nothing more is."""
        self.holding = False
        for held in list(self.held):
            held.flush()

    async def _batch_replies(
        self, model: NotebookModel, sent: list[tuple[Step, Sent, OutputCollector]]
    ) -> tuple[list[Step], bool]:
        """Read the replies of a batch in order (see :meth:`_run_steps`)."""
        ran: list[Step] = []
        succeeded = True
        for step, run, collector in sent:
            message = await run.reply
            reply = message.get("content") or {}
            if reply.get("status") == "aborted":
                # the plan did not hold (or the user stopped): the rest abort too, as
                # each follows the one before; the first, unguarded, only behind a
                # browser run that failed, which ends the cascade as a failure does
                succeeded = succeeded and bool(ran)
                continue
            ran.append(step)
            self._write_later(model, step.cell, collector, reply, run.outputs_done)
            if reply.get("status") != "ok":
                succeeded = False
            else:
                carried = CarriedReport.of(reply, message.get("metadata"))
                if not self.state.apply_report(agent_link.read_report(carried)):
                    self.state.replica_outdated = True
        if not succeeded or self.state.replica_outdated:
            await self._refresh()
        return ran, succeeded

    def _send_cell(
        self,
        model: NotebookModel,
        cell: NotebookCell,
        trigger: str,
        query: agent_link.ReportQuery,
        ahead: dict[str, Any] | None = None,
        last: bool = False,
    ) -> tuple[Sent, OutputCollector]:
        """Send one cascaded cell; its outputs go into the notebook as they come.

        A cell sent ahead shows as running once the kernel takes it up (its
        first message on iopub), not before: the kernel may abort it unrun.
        """
        collector = OutputCollector()
        started = ahead is None

        def on_iopub(msg: dict[str, Any]) -> None:
            nonlocal started
            if not started:
                started = True
                self.state.mark_running(cell.id, trigger)
                model.start_run(cell.id)
                if last:
                    self.stop_holding()
            if collector.add(msg):
                model.show_outputs(cell.id, collector.nbformat_outputs())

        if started:
            model.start_run(cell.id)
        cascade: dict[str, Any] = {"trigger": trigger}
        if ahead is not None:
            cascade[AHEAD_KEY] = ahead
        sent = self.channel.send(
            cell.source,
            metadata={"cellId": cell.id, "cascade": cascade, **query.metadata},
            user_expressions=query.user_expressions,
            on_iopub=on_iopub,
            cell_id=cell.id,
        )
        return sent, collector

    async def _run_cell(self, model: NotebookModel, cell: NotebookCell, trigger: str) -> bool:
        """Run one cell as the user would; True when it succeeded.

        Returns at the reply, which carries the agent's report: the cascade can
        send the next cell while this one's last outputs arrive. Those are
        written by a task the cascade awaits before it ends (:meth:`_written`).
        """
        if not self.state.start_cell(cell.id, trigger):
            return False  # the user stopped the cascade (POST /api/cascade/stop)
        try:
            await self.channel.ensure_started()
            run, collector = self._send_cell(model, cell, trigger, self._report_query())
            message = await run.reply
        except BaseException:
            self.state.running = None
            raise
        reply = message.get("content") or {}
        self._write_later(model, cell, collector, reply, run.outputs_done)
        if reply.get("status") == "ok":
            carried = CarriedReport.of(reply, message.get("metadata"))
            self.state.apply_report(agent_link.read_report(carried))
            return True
        await self._refresh()
        return False

    def _write_later(
        self,
        model: NotebookModel,
        cell: NotebookCell,
        collector: OutputCollector,
        reply: dict[str, Any],
        outputs_done: Awaitable[None],
    ) -> None:
        """Write a cell's last outputs once they all came, in a task the cascade
        awaits before it ends (:meth:`_written`)."""

        async def write() -> None:
            await outputs_done
            if self.state.running == cell.id:
                self.state.running = None
            count = reply.get("execution_count", collector.execution_count)
            model.finish_run(cell.id, cell.source, collector.nbformat_outputs(), count)

        self._writing.append(asyncio.ensure_future(write()))

    async def _written(self) -> None:
        """Until every cascaded cell's outputs are in the notebook."""
        writing, self._writing = self._writing, []
        for result in await asyncio.gather(*writing, return_exceptions=True):
            if isinstance(result, Exception):
                self._log.warning("cascade: writing outputs failed: %s", result)

    async def close(self) -> None:
        for event, callback in (("restart", self.on_restart), ("dead", self.on_death)):
            with contextlib.suppress(Exception):
                self._kernel_manager.remove_restart_callback(callback, event)
        for task in list(self._tasks):
            task.cancel()
        await self.channel.close()
