"""One open notebook page, driven through Playwright, timed inside the page.

Every time is taken with ``performance.now()`` in the page: the start at the
Shift+Enter ``keydown`` (a capture listener on ``window``, which runs before
the app's own key handling) or just before the Run All call, the end in a
``MutationObserver`` callback on the watched cell, the moment its output
area's text becomes the expected one (before the browser paints it). Lab 4
and Notebook 7 are reached through ``window.jupyterapp``, nbclassic through
``window.Jupyter``. Every wait is on a condition with a deadline.
"""

from __future__ import annotations

import sys
import time
import urllib.parse
import uuid
from typing import Any

from .servers import BenchServer

#: ``window.__bench``: the in-page half. Installed once per page (idempotent).
SCRIPT = r"""
(() => {
  if (window.__bench) return;
  const lab = !!window.jupyterapp;
  const B = {
    lab, t0: null, pending: null, tReply: null, hooked: null, onReply: null,
    panel() { return window.jupyterapp.shell.currentWidget; },
    cellNode(i) {
      return lab ? this.panel().content.widgets[i].node : Jupyter.notebook.get_cell(i).element[0];
    },
    count() {
      return lab ? this.panel().content.widgets.length : Jupyter.notebook.get_cells().length;
    },
    outputText(i) {
      const sel = lab ? '.jp-OutputArea-output' : '.output_subarea';
      return Array.from(this.cellNode(i).querySelectorAll(sel))
        .map(n => n.textContent.trim()).join('|');
    },
    // the cell's output text as the model holds it (a windowed cell may not be in the DOM)
    modelText(i) {
      if (!lab) return this.outputText(i);
      const outputs = this.panel().content.widgets[i].model.outputs;
      const texts = [];
      for (let j = 0; j < outputs.length; j++) {
        const out = outputs.get(j).toJSON();
        if (out.output_type !== 'execute_result') continue;
        texts.push(String((out.data || {})['text/plain'] || '').trim());
      }
      return texts.join('|');
    },
    // outputs other than execute_result (none expected: reported when seen)
    otherOutputs(i) {
      if (!lab) return [];
      const outputs = this.panel().content.widgets[i].model.outputs;
      const other = [];
      for (let j = 0; j < outputs.length; j++) {
        const out = outputs.get(j).toJSON();
        if (out.output_type !== 'execute_result') other.push(out);
      }
      return other;
    },
    state(i) { return this.cellNode(i).getAttribute('data-cascade-state'); },
    setSource(i, src) {
      if (lab) this.panel().content.widgets[i].model.sharedModel.setSource(src);
      else Jupyter.notebook.get_cell(i).set_text(src);
    },
    focus(i) {
      if (lab) {
        const nb = this.panel().content;
        nb.activeCellIndex = i;
        nb.mode = 'edit';
        nb.activeCell.editor.focus();
      } else {
        Jupyter.notebook.select(i);
        Jupyter.notebook.edit_mode();
      }
    },
    kernel() {
      return lab ? this.panel().sessionContext.session?.kernel : Jupyter.notebook.kernel;
    },
    kernelIdle() {
      if (lab) {
        const k = this.kernel();
        return !!k && k.status === 'idle' && k.connectionStatus === 'connected';
      }
      const icon = document.querySelector('#kernel_indicator_icon');
      return !!icon && icon.classList.contains('kernel_idle_icon');
    },
    ready(n) {
      if (lab) {
        const p = window.jupyterapp && this.panel();
        if (!p || !p.context || !p.context.isReady || !p.content) return false;
      } else if (!(window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded)) {
        return false;
      }
      return this.count() === n && this.kernelIdle();
    },
    // resolves with performance.now() when cell i's output text is `expected`
    watch(i, expected, timeoutMs) {
      const node = this.cellNode(i);
      this.pending = new Promise((resolve, reject) => {
        let timer = null;
        const obs = new MutationObserver(() => check());
        const check = () => {
          if (this.outputText(i) !== expected) return false;
          const t = performance.now();
          obs.disconnect();
          clearTimeout(timer);
          resolve(t);
          return true;
        };
        timer = setTimeout(() => {
          obs.disconnect();
          const shown = JSON.stringify(this.outputText(i));
          reject(new Error(`cell ${i} shows ${shown}, not ${expected}`));
        }, timeoutMs);
        if (!check()) obs.observe(node, {subtree: true, childList: true, characterData: true});
      });
    },
    // resolves with performance.now() when every cell i of `states` has that state
    watchStates(states, timeoutMs) {
      const nodes = Object.keys(states).map(i => this.cellNode(+i));
      this.pending = new Promise((resolve, reject) => {
        let timer = null;
        const obs = new MutationObserver(() => check());
        const check = () => {
          // counted from the reply: marks already there before it (from the edit) wait for it
          if (this.tReply === null) return false;
          if (!Object.entries(states).every(([i, s]) => this.state(+i) === s)) return false;
          const t = performance.now();
          obs.disconnect();
          clearTimeout(timer);
          resolve(t);
          return true;
        };
        this.onReply = () => check();
        timer = setTimeout(() => {
          obs.disconnect();
          const now = Object.keys(states).map(i => this.state(+i));
          reject(new Error(`states ${JSON.stringify(now)}, not ${JSON.stringify(states)}`));
        }, timeoutMs);
        if (!check()) {
          const opts = {attributes: true, attributeFilter: ['data-cascade-state']};
          for (const n of nodes) obs.observe(n, opts);
        }
      });
    },
    // the page-side arrival of the first execute_reply after arm() (Lab / Notebook 7)
    hookReplies() {
      const k = this.kernel();
      if (this.hooked === k) return;
      this.hooked = k;
      k.anyMessage.connect((_, a) => {
        const reply = a.direction === 'recv' && a.msg.header.msg_type === 'execute_reply';
        if (reply && this.tReply === null) {
          this.tReply = performance.now();
          if (this.onReply) this.onReply();
        }
      });
    },
    arm() { this.t0 = null; this.tReply = null; },
    disarm() { this.onReply = null; },
    runAll() {
      this.t0 = performance.now();
      if (lab) window.jupyterapp.commands.execute('notebook:run-all-cells');
      else Jupyter.notebook.execute_all_cells();
    },
    async result() {
      const t1 = await this.pending;
      return {t0: this.t0, t1, reply: this.tReply};
    },
  };
  window.addEventListener('keydown', e => {
    if (e.key === 'Enter' && e.shiftKey && B.t0 === null) B.t0 = performance.now();
  }, true);
  window.__bench = B;
})()
"""

#: routes of a notebook in each frontend, on the same ``jupyter lab`` server
ROUTES = {
    "lab": "lab/workspaces/{workspace}/tree/{path}",
    "notebook": "notebooks/{path}",
    "nbclassic": "nbclassic/notebooks/{path}",
}
TIMEOUT_MS = 60_000
#: outputs other than the cells' results, seen while settling (reported as notes)
UNEXPECTED: list[str] = []


def route(frontend: str, path: str) -> str:
    workspace = "w" + uuid.uuid4().hex[:12]  # Lab would restore other notebooks' tabs
    return ROUTES[frontend].format(workspace=workspace, path=urllib.parse.quote(path))


class NotebookPage:
    """A notebook open in one frontend on one server."""

    def __init__(self, page: Any, server: BenchServer, frontend: str, path: str) -> None:
        self.page = page
        self.server = server
        self.frontend = frontend
        self.path = path

    @classmethod
    def open(
        cls, context: Any, server: BenchServer, frontend: str, path: str, cells: int
    ) -> NotebookPage:
        self = cls.start(context, server, frontend, path)
        self.wait_ready(cells)
        return self

    @classmethod
    def start(cls, context: Any, server: BenchServer, frontend: str, path: str) -> NotebookPage:
        """A new page on its way to the notebook; :meth:`wait_ready` for it.

        (Pages of both servers load at once: the set-up takes less wall time.)
        """
        self = cls(context.new_page(), server, frontend, path)
        self.navigate(path)
        return self

    def navigate(self, path: str) -> None:
        self.path = path
        self.page.goto(self.server.page(route(self.frontend, path)), wait_until="commit")

    def wait_ready(self, cells: int) -> None:
        app = "() => !!(window.jupyterapp || (window.Jupyter && window.Jupyter.notebook))"
        self.page.wait_for_function(app, timeout=TIMEOUT_MS)
        self.page.evaluate(SCRIPT)
        self.page.wait_for_function(
            "(n) => window.__bench.ready(n)", arg=cells, timeout=TIMEOUT_MS, polling=50
        )
        if self.server.cascade:  # the page-side extension has shown its first marks
            self.page.wait_for_function(
                "() => window.__bench.state(0) !== null", timeout=TIMEOUT_MS
            )

    def switch(self, path: str, cells: int) -> None:
        """Show another notebook in this page (Lab: a new tab, the others closed)."""
        if self.frontend != "lab":
            self.navigate(path)
            return
        self.path = path
        self.js(
            """async (path) => {
                const app = window.jupyterapp;
                await app.commands.execute('docmanager:open', {path});
                for (const w of Array.from(app.shell.widgets('main'))) {
                    if (w.context && w.context.path !== path) w.close();
                }
            }""",
            path,
        )
        self.page.wait_for_function(
            "([p, n]) => window.__bench.panel().context.path === p && window.__bench.ready(n)",
            arg=[path, cells],
            timeout=TIMEOUT_MS,
            polling=50,
        )
        if self.server.cascade:
            self.page.wait_for_function(
                "() => window.__bench.state(0) !== null", timeout=TIMEOUT_MS
            )

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def output(self, index: int) -> str:
        return str(self.js("(i) => window.__bench.outputText(i)", index))

    def has_marks(self) -> bool:
        return bool(self.js("() => window.__bench.state(0) !== null"))

    def set_source(self, index: int, source: str) -> None:
        self.js("([i, s]) => window.__bench.setSource(i, s)", [index, source])

    def time_key(self, index: int, watch: int, expected: str) -> dict[str, float]:
        """Shift+Enter in cell ``index``'s editor; ms until cell ``watch`` shows ``expected``."""
        self.js(
            """([i, w, e, t]) => { const B = window.__bench;
                B.focus(i); B.watch(w, e, t); B.arm(); }""",
            [index, watch, expected, TIMEOUT_MS],
        )
        self.page.keyboard.press("Shift+Enter")
        return self._result()

    def time_run_all(self, watch: int, expected: str) -> dict[str, float]:
        """Run All (Lab's command / nbclassic's ``execute_all_cells``), timed from the call."""
        self.js(
            """([w, e, t]) => { const B = window.__bench;
                B.watch(w, e, t); B.arm(); B.runAll(); }""",
            [watch, expected, TIMEOUT_MS],
        )
        return self._result()

    def time_marks(self, index: int, states: dict[int, str]) -> dict[str, float]:
        """Shift+Enter in cell ``index``; ms from its execute_reply's arrival to ``states``."""
        self.js(
            """([i, s, t]) => { const B = window.__bench;
                B.hookReplies(); B.focus(i); B.watchStates(s, t); B.arm(); }""",
            [index, {str(k): v for k, v in states.items()}, TIMEOUT_MS],
        )
        self.page.keyboard.press("Shift+Enter")
        return self._result()

    def _result(self) -> dict[str, float]:
        try:
            result: dict[str, float] = self.js("() => window.__bench.result()")
        except Exception as error:  # what the page and the server showed, for the report
            raise RuntimeError(f"{error}; {self._evidence()}") from error
        if result["t0"] is None:
            raise RuntimeError("the page saw no Shift+Enter keydown")
        return result

    def _evidence(self) -> str:
        """Every cell's output text on the page and, on the cascade server, its state."""
        shown = self.js(
            "() => { const B = window.__bench;"
            " return Array.from({length: B.count()}, (_, i) => B.outputText(i)); }"
        )
        text = f"{self.server.name} {self.frontend} {self.path}: page {shown}"
        if self.server.cascade:
            try:
                graph = self.server.graph(self.path)
            except Exception as error:  # the evidence must not hide the failure
                return f"{text}; server graph: {error}"
            states = [(c["index"], c["state"], c.get("execution_count")) for c in graph["cells"]]
            text += f"; server busy={graph['busy']} {states}"
        return text

    def settle(self, expected: dict[int, str], gap: float = 0.3) -> None:
        """Wait until the cells show ``expected``, the kernel is idle and no cascade runs.

        Then ``gap`` seconds more, as compute.py's silence between repetitions:
        the cascade's after-run work (its save, the marks) stays out of the next
        measurement.
        """
        check = """(exp) => { const B = window.__bench;
            return Object.entries(exp).every(([i, t]) => B.modelText(+i) === t)
                && B.kernelIdle(); }"""
        arg = {str(k): v for k, v in expected.items()}
        try:
            self.page.wait_for_function(check, arg=arg, timeout=TIMEOUT_MS, polling=50)
        except Exception as error:
            shown = self.js(
                """(exp) => Object.keys(exp).map(i => [i, window.__bench.modelText(+i)])
                    .concat([['kernel idle', window.__bench.kernelIdle()]])""",
                arg,
            )
            raise RuntimeError(f"{self.server.name} {self.path}: {shown} != {arg}") from error
        other = self.js(
            "(exp) => Object.keys(exp).map(i => [+i, window.__bench.otherOutputs(+i)])"
            ".filter(([i, o]) => o.length)",
            arg,
        )
        if other:
            text = f"{self.server.name} {self.frontend} {self.path}: unexpected outputs {other}"
            print(text[:600], file=sys.stderr, flush=True)
            UNEXPECTED.append(text[:600])
        if self.server.cascade:
            deadline = time.monotonic() + TIMEOUT_MS / 1000
            while self.server.graph(self.path)["busy"]:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the cascade on {self.path} does not end")
                time.sleep(0.05)
        time.sleep(gap)

    def wait_states(self, states: dict[int, str]) -> None:
        self.page.wait_for_function(
            """(s) => Object.entries(s).every(([i, v]) => window.__bench.state(+i) === v)""",
            arg={str(k): v for k, v in states.items()},
            timeout=TIMEOUT_MS,
        )

    def close(self) -> None:
        self.page.close()
