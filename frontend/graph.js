/*
 * The graph page of jupyter-cascade: draws GET /api/cascade/graph for one notebook.
 *
 * Cells go top to bottom in notebook order (an invisible chain of edges pins
 * dagre's ranks to that order); dependency edges carry the symbols they pass.
 * The page listens to the push endpoint (/api/cascade/events); where that
 * websocket cannot open it polls every 500 ms while a cascade is busy, every
 * 3 s otherwise. It redraws only when something changed.
 *
 * The graph has no sources; the code lines come from the contents API, that
 * is from the file on disk. With collaboration on, the file trails the live
 * document by a second or more (the room saves after changes settle), so for
 * a while after each change the page polls the file's modification time every
 * second and re-reads the cells when it moved. Should the graph carry a
 * "source" per cell one day, the page uses that instead.
 */
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("cascade-page-config").textContent);

  const STATES = [
    ["fresh", "fresh"],
    ["stale", "stale"],
    ["waiting", "waiting"],
    ["dirty", "edited"],
    ["error", "error"],
    ["never_run", "never run"],
    ["queued", "queued"],
    ["running", "running"],
  ];
  const BUSY_POLL_MS = 500;
  const SETTLING_POLL_MS = 1000;
  const IDLE_POLL_MS = 3000;
  const SETTLING_MS = 15000; // after a change, while the file catches up
  const FILE_CHECK_EVERY_IDLE_POLLS = 5;

  const NODE_WIDTH = 360;
  const NODE_HEIGHT = 40;
  const CODE_CHARS = 36;
  const LABEL_CHARS = 28;
  const SVG_NS = "http://www.w3.org/2000/svg";

  const view = {
    sources: new Map(), // cell id → source, from the contents API
    savedAt: null, // the file's last_modified when the sources were read
    graphKey: null,
    changedAt: 0,
    drawnKey: null,
    idlePolls: 0,
  };

  // -- talking to the server ----------------------------------------------

  function url(route, params) {
    const query = new URLSearchParams(params || {}).toString();
    return config.baseUrl + route + (query ? "?" + query : "");
  }

  function encodePath(path) {
    return path.split("/").map(encodeURIComponent).join("/");
  }

  async function getJson(target) {
    const response = await fetch(target, {
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-XSRFToken": config.xsrfToken },
    });
    if (!response.ok) {
      let reason = response.statusText;
      try {
        reason = (await response.json()).message || reason;
      } catch (ignored) {
        // not JSON: keep the status text
      }
      const error = new Error(reason);
      error.status = response.status;
      throw error;
    }
    return response.json();
  }

  function fetchGraph() {
    return getJson(url("api/cascade/graph", { path: config.path }));
  }

  function contentsUrl(withContent) {
    return url("api/contents/" + encodePath(config.path), {
      type: "notebook",
      content: withContent ? "1" : "0",
    });
  }

  /** Re-read the cells' sources if the file changed since the last read. */
  async function updateSources(force) {
    if (!force) {
      const stat = await getJson(contentsUrl(false));
      if (stat.last_modified === view.savedAt) return;
    }
    const model = await getJson(contentsUrl(true));
    const sources = new Map();
    for (const cell of model.content.cells || []) {
      const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source || "";
      if (cell.id) sources.set(cell.id, source);
    }
    view.sources = sources;
    view.savedAt = model.last_modified;
  }

  function sourceOf(cell) {
    return typeof cell.source === "string" ? cell.source : view.sources.get(cell.id);
  }

  // -- text helpers ----------------------------------------------------------

  function shorten(text, limit) {
    return text.length > limit ? text.slice(0, limit - 1) + "…" : text;
  }

  function firstLine(source) {
    const line = (source || "").split("\n").find((l) => l.trim() !== "");
    return line === undefined ? "(empty)" : line.trimEnd();
  }

  function prompt(cell) {
    if (cell.state === "queued" || cell.state === "running") return "[*]";
    return cell.execution_count == null ? "[ ]" : "[" + cell.execution_count + "]";
  }

  function stateLabel(state) {
    const found = STATES.find(([name]) => name === state);
    return found ? found[1] : state;
  }

  function svg(tag, attributes, parent) {
    const element = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      element.setAttribute(name, String(value));
    }
    if (parent) parent.appendChild(element);
    return element;
  }

  function text(tag, attributes, content, parent) {
    const element = svg(tag, attributes, parent);
    element.textContent = content;
    return element;
  }

  // -- layout ----------------------------------------------------------------

  /** Positions for nodes and edge routes, from dagre, cells ranked in notebook order. */
  function layout(graph) {
    const g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: "TB", nodesep: 48, ranksep: 22, edgesep: 18, marginx: 16, marginy: 16 });
    g.setDefaultEdgeLabel(() => ({}));
    const index = new Map(graph.cells.map((cell) => [cell.id, cell.index]));
    for (const cell of graph.cells) {
      g.setNode(cell.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
    }
    graph.cells.slice(1).forEach((cell, i) => {
      g.setEdge(graph.cells[i].id, cell.id, { minlen: 2, weight: 8 }, "order");
    });
    graph.edges.forEach((edge, i) => {
      // dagre needs a DAG that agrees with the chain: lay backward edges out forward
      const backward = index.get(edge.source) > index.get(edge.target);
      const [from, to] = backward ? [edge.target, edge.source] : [edge.source, edge.target];
      const label = shorten(edge.symbols.join(", "), LABEL_CHARS);
      g.setEdge(
        from,
        to,
        { minlen: 1, weight: 1, width: label.length * 7.4 + 12, height: 20, labelpos: "c" },
        "dep" + i,
      );
    });
    dagre.layout(g);
    return g;
  }

  // -- drawing ---------------------------------------------------------------

  function curve(points) {
    // a smooth path through dagre's bend points (quadratic segments via midpoints)
    let d = "M" + points[0].x + "," + points[0].y;
    for (let i = 1; i < points.length - 1; i++) {
      const mx = (points[i].x + points[i + 1].x) / 2;
      const my = (points[i].y + points[i + 1].y) / 2;
      d += " Q" + points[i].x + "," + points[i].y + " " + mx + "," + my;
    }
    const last = points[points.length - 1];
    return d + " L" + last.x + "," + last.y;
  }

  function drawEdge(layer, g, edge, i, index) {
    const backward = index.get(edge.source) > index.get(edge.target);
    const [from, to] = backward ? [edge.target, edge.source] : [edge.source, edge.target];
    const routed = g.edge({ v: from, w: to, name: "dep" + i });
    const points = backward ? routed.points.slice().reverse() : routed.points;
    const group = svg("g", {
      class: "edge" + (backward ? " backward" : ""),
      "data-source": edge.source,
      "data-target": edge.target,
      "data-symbols": edge.symbols.join(","),
    });
    layer.appendChild(group);
    text(
      "title",
      {},
      edge.symbols.join(", ") +
        (backward ? " (from a lower cell: does not drive in-order cascades)" : ""),
      group,
    );
    svg("path", { d: curve(points), "marker-end": "url(#arrow)" }, group);
    const label = shorten(edge.symbols.join(", "), LABEL_CHARS);
    const width = routed.width;
    svg(
      "rect",
      { class: "label-box", x: routed.x - width / 2, y: routed.y - 10, width, height: 20, rx: 4 },
      group,
    );
    text("text", { class: "label", x: routed.x, y: routed.y }, label, group);
  }

  function drawNode(layer, g, cell) {
    const box = g.node(cell.id);
    const line = firstLine(sourceOf(cell));
    const group = svg("g", {
      class: "node state-" + cell.state,
      transform: "translate(" + (box.x - NODE_WIDTH / 2) + "," + (box.y - NODE_HEIGHT / 2) + ")",
      "data-cell-id": cell.id,
      "data-state": cell.state,
      "data-index": cell.index,
    });
    layer.appendChild(group);
    text(
      "title",
      {},
      prompt(cell) + " " + line + "\nstate: " + stateLabel(cell.state) + "\nid: " + cell.id,
      group,
    );
    svg("rect", { width: NODE_WIDTH, height: NODE_HEIGHT, rx: 6 }, group);
    svg("rect", { class: "band", width: 6, height: NODE_HEIGHT, rx: 2 }, group);
    text("text", { class: "prompt", x: 14, y: 25 }, prompt(cell), group);
    text("text", { class: "code", x: 56, y: 25 }, shorten(line, CODE_CHARS), group);
    text(
      "text",
      { class: "state-label", x: NODE_WIDTH - 10, y: 25 },
      stateLabel(cell.state),
      group,
    );
  }

  function draw(graph) {
    const canvas = document.getElementById("canvas");
    canvas.replaceChildren();
    if (graph.cells.length === 0) {
      showMessage("This notebook has no code cells.");
      return;
    }
    const g = layout(graph);
    const size = g.graph();
    const root = svg("svg", {
      width: size.width,
      height: size.height,
      viewBox: "0 0 " + size.width + " " + size.height,
      role: "img",
      "aria-label": "Cell dependency graph of " + config.path,
    });
    const marker = svg(
      "marker",
      { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7 },
      svg("defs", {}, root),
    );
    marker.setAttribute("orient", "auto-start-reverse");
    svg("path", { d: "M0,0 L10,5 L0,10 z" }, marker);
    const index = new Map(graph.cells.map((cell) => [cell.id, cell.index]));
    const edges = svg("g", { class: "edges" }, root);
    graph.edges.forEach((edge, i) => drawEdge(edges, g, edge, i, index));
    const nodes = svg("g", { class: "nodes" }, root);
    graph.cells.forEach((cell) => drawNode(nodes, g, cell));
    canvas.appendChild(root);
  }

  function drawLegend(graph) {
    const counts = new Map();
    for (const cell of graph ? graph.cells : []) {
      counts.set(cell.state, (counts.get(cell.state) || 0) + 1);
    }
    const legend = document.getElementById("legend");
    legend.replaceChildren();
    for (const [state, label] of STATES) {
      const item = document.createElement("li");
      item.className = "state-" + state;
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = String(counts.get(state) || 0);
      item.append(swatch, label + " ", count);
      legend.appendChild(item);
    }
  }

  function drawSummary(graph) {
    const parts = [
      graph.cells.length + " code cells",
      graph.edges.length + " edges",
      "mode " + graph.mode,
      "direction " + graph.direction,
      graph.busy ? "cascade running" : "idle",
    ];
    document.getElementById("summary").textContent = parts.join(" · ");
    document.body.dataset.busy = String(Boolean(graph.busy));
  }

  function showMessage(message) {
    const element = document.getElementById("message");
    element.textContent = message || "";
    element.hidden = !message;
  }

  // -- polling ---------------------------------------------------------------

  function drawingKey(graph) {
    return JSON.stringify([graph.cells, graph.edges, graph.cells.map(sourceOf)]);
  }

  /** Keep the sources current; true while the file may still trail the graph. */
  async function refreshSources(graph) {
    const graphKey = JSON.stringify([graph.cells, graph.edges]);
    if (graphKey !== view.graphKey) {
      view.graphKey = graphKey;
      view.changedAt = Date.now();
    }
    const settling = Date.now() - view.changedAt < SETTLING_MS;
    if (graph.cells.every((cell) => typeof cell.source === "string")) return false;
    const missing = graph.cells.some((cell) => !view.sources.has(cell.id));
    view.idlePolls = settling ? 0 : view.idlePolls + 1;
    if (view.savedAt === null) {
      await updateSources(true);
    } else if (missing || settling || view.idlePolls >= FILE_CHECK_EVERY_IDLE_POLLS) {
      view.idlePolls = 0;
      await updateSources(false);
    }
    return settling;
  }

  async function refresh(graph) {
    const settling = await refreshSources(graph);
    drawSummary(graph);
    drawLegend(graph);
    showMessage(
      graph.available === false
        ? "Reactive execution is off for this kernel" + (graph.reason ? ": " + graph.reason : ".")
        : "",
    );
    const key = drawingKey(graph);
    if (key !== view.drawnKey) {
      draw(graph);
      view.drawnKey = key;
    }
    return settling;
  }

  function explain(error) {
    if (error.status === 404) {
      return "No kernel is running for " + config.path + ". Open it in Jupyter and run a cell.";
    }
    if (error.status === 403 || error.status === 401) {
      return "Not allowed: log in to Jupyter again, then reload this page.";
    }
    return "Cannot reach the server: " + error.message;
  }

  async function poll() {
    let delay = IDLE_POLL_MS;
    try {
      const graph = await fetchGraph();
      const settling = await refresh(graph);
      if (graph.busy) delay = BUSY_POLL_MS;
      else if (settling) delay = SETTLING_POLL_MS;
    } catch (error) {
      document.body.dataset.busy = "false";
      document.getElementById("summary").textContent = "not available";
      showMessage(explain(error));
    }
    window.setTimeout(poll, delay);
  }

  document.getElementById("notebook-path").textContent = config.path;
  document.title = config.path + " · cell graph";
  if (!config.path) {
    showMessage("Add ?path=<notebook path> to the address to choose a notebook.");
    document.getElementById("summary").textContent = "";
    return;
  }
  /** The push endpoint: a graph per change; polling if the socket never opens. */
  function listen() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const target = url("api/cascade/events", { path: config.path });
    const socket = new WebSocket(scheme + "//" + window.location.host + target);
    let opened = false;
    let drawing = Promise.resolve();
    socket.onopen = () => {
      opened = true;
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type !== "graph") return;
      drawing = drawing.then(async () => {
        if (message.graph === null) {
          document.body.dataset.busy = "false";
          document.getElementById("summary").textContent = "not available";
          showMessage(explain({ status: 404 }));
        } else {
          await refresh(message.graph);
        }
      });
    };
    socket.onclose = () => {
      if (opened) window.setTimeout(listen, 1000);
      else poll();
    };
  }

  drawLegend(null);
  if (typeof WebSocket === "function") listen();
  else poll();
})();
