// jupyter-cascade for the classic notebook (nbclassic): an nbextension, plain JavaScript in an
// AMD module, loaded by nbclassic from share/jupyter/nbextensions/jupyter-cascade/ and enabled by
// etc/jupyter/nbconfig/notebook.d/jupyter-cascade.json (both installed with the package).
//
// It only shows and steers; every decision stays on the server (DESIGN §3):
// - live outputs: the server's cascaded runs are broadcast on iopub, and nbclassic hands the
//   messages of requests it did not send to `received_unsolicited_message.Kernel`. A run is
//   shown in the cell whose current text is the code it ran (execute_input carries the code;
//   the push endpoint's running/queued cells break ties between equal sources). A cell whose
//   text the user changed keeps its outputs: they never describe code it does not show.
// - marks: `data-cascade-state` on every code cell's `.cell` node, from the push endpoint
//   (`/api/cascade/events?path=`); `data-cascade-selection` (will-run / upstream) for the
//   selected cell, from `GET /api/cascade/preview`; `In [*]` while a cell is queued.
// - keys: Ctrl/Cmd+Shift+Enter runs the cell without cascading (`"cascade": false` in the
//   request's metadata); Space in command mode resolves (`POST /api/cascade/resolve`).
// - saving: the page that triggered a cascade saves itself once the cascade has ended, so the
//   file holds the cascaded outputs without the user saving. Before any save of ours the file
//   on disk is checked: a newer file is only written over when its cells' sources are the ones
//   this page last loaded or saved (or shows now) -- it changed by outputs alone. Otherwise the
//   page does not save, and nbclassic's own "Notebook changed" dialog guards the user's next save.
define(['jquery', 'base/js/namespace', 'base/js/events', 'base/js/utils', 'require'], function (
  $,
  Jupyter,
  events,
  utils,
  requirejs
) {
  'use strict';

  var OUTPUT_TYPES = ['stream', 'display_data', 'execute_result', 'error'];
  var RECONNECT_MS = 1000;
  var RUN_CLOSE_WAIT_MS = 1500;
  var FOLLOW_MS = 4000;
  var HOLD_MS = 50;

  var S = {
    socket: null,
    retry: RECONNECT_MS,
    graph: null,
    progress: {trigger: null, running: null, queued: [], done: 0, total: 0},
    // parent msg_id -> {cell, count} for foreign runs shown in this page
    runs: {},
    // foreign messages not shown yet, as functions that show them (see onForeign), their
    // runs' parent msg_ids, and the timer that shows them
    held: [],
    heldParents: {},
    holdTimer: null,
    showing: false,
    // a save queued behind the one in flight, and whether it saves (else it follows)
    saveWaiting: false,
    wantSave: false,
    // server cell id -> prompt number shown before the cell was queued
    starred: {},
    // server cell ids whose foreign run finished during the current cascade
    handled: {},
    // per cascade: whether one was seen, its trigger, whether this page applied outputs
    cascade: null,
    // page cell id -> time this page last executed it
    ownRuns: {},
    lastOwnExecute: 0,
    resolveAt: 0,
    runOnly: false,
    // the cells' (type, source) as this page last loaded or saved them
    base: null,
    pendingBase: null,
    selectionTimer: null,
    renderQueued: false,
    closed: false,
  };

  // -- helpers ------------------------------------------------------------------------------

  function notebook() {
    return Jupyter.notebook;
  }

  function baseUrl() {
    return notebook().base_url || utils.get_body_data('baseUrl') || '/';
  }

  function nbPath() {
    return notebook().notebook_path;
  }

  function api(route) {
    return utils.url_path_join(baseUrl(), 'api/cascade', route);
  }

  // The page's cells in order. nbclassic's get_cells() runs a jQuery `.not('.cell .cell')`
  // over every cell node, a cost paid on each message of a cascade; nbclassic inserts its
  // cells as the container's own children, read here directly.
  function pageCells() {
    var nb = notebook();
    var container = nb.container && nb.container[0];
    if (!container) {
      return nb.get_cells();
    }
    var cells = [];
    var children = container.children;
    for (var i = 0; i < children.length; i++) {
      var cell = children[i].classList.contains('cell') ? $.data(children[i], 'cell') : null;
      if (cell) {
        cells.push(cell);
      }
    }
    return cells.length ? cells : nb.get_cells();
  }

  function codeCells() {
    return pageCells().filter(function (cell) {
      return cell.cell_type === 'code';
    });
  }

  // Server cell id <-> page cell. nbformat 4.5 cells carry ids (nbclassic keeps them);
  // older notebooks fall back to the position among code cells (the server's order).
  function cellMap() {
    var cells = codeCells();
    var graphCells = (S.graph && S.graph.cells) || [];
    var byPageId = {};
    cells.forEach(function (cell) {
      byPageId[cell.id] = cell;
    });
    var anyId = graphCells.some(function (g) {
      return byPageId[g.id] !== undefined;
    });
    var toPage = {};
    var toServer = new Map();
    graphCells.forEach(function (g) {
      var cell = anyId ? byPageId[g.id] : cells[g.index];
      if (cell) {
        toPage[g.id] = {cell: cell, graph: g};
        toServer.set(cell, g);
      }
    });
    return {cells: cells, toPage: toPage, toServer: toServer};
  }

  function sourceText(source) {
    return Array.isArray(source) ? source.join('') : source || '';
  }

  function pageSources() {
    return JSON.stringify(
      pageCells().map(function (cell) {
        return [cell.cell_type, cell.get_text()];
      })
    );
  }

  function fileSources(content) {
    return JSON.stringify(
      ((content && content.cells) || []).map(function (cell) {
        return [cell.cell_type, sourceText(cell.source)];
      })
    );
  }

  function post(route, body) {
    return utils.promising_ajax(api(route), {
      type: 'POST',
      contentType: 'application/json',
      dataType: 'json',
      data: JSON.stringify(body),
    });
  }

  // -- the push endpoint ----------------------------------------------------------------------

  function connect() {
    if (S.closed) {
      return;
    }
    var scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    var url =
      scheme + '//' + window.location.host + api('events') + '?path=' + encodeURIComponent(nbPath());
    var socket = new WebSocket(url);
    S.socket = socket;
    socket.onmessage = function (event) {
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      S.retry = RECONNECT_MS;
      if (message && message.type === 'graph') {
        onGraph(message.graph, message.progress);
      }
    };
    socket.onclose = function () {
      if (S.socket === socket) {
        // the server extension off, or the server gone: try again, less and less often
        S.socket = null;
        setTimeout(connect, S.retry);
        S.retry = Math.min(S.retry * 2, 30000);
      }
    };
  }

  function reconnect() {
    var socket = S.socket;
    S.socket = null;
    if (socket) {
      socket.close();
    }
    connect();
  }

  function onGraph(graph, progress) {
    var wasBusy = busy();
    S.graph = graph || null;
    S.progress = progress || {trigger: null, running: null, queued: [], done: 0, total: 0};
    if (S.progress.running || (S.progress.queued || []).length) {
      noteCascade();
      if (S.progress.trigger) {
        S.cascade.trigger = S.progress.trigger;
      }
    }
    if (!busy() && S.held.length) {
      showHeld(); // the cascade is over: nothing follows what is held
    }
    render();
    scheduleSelection();
    if (wasBusy && !busy()) {
      cascadeEnded();
    } else if (!busy() && S.cascade && !openRuns()) {
      cascadeEnded();
    }
  }

  function busy() {
    var p = S.progress || {};
    return Boolean((S.graph && S.graph.busy) || p.running || (p.queued || []).length);
  }

  function noteCascade() {
    if (!S.cascade) {
      S.cascade = {trigger: null, applied: false, startedAt: Date.now()};
    }
  }

  // -- marks ----------------------------------------------------------------------------------

  // Marks follow the next frame; while a cascade runs they go with the held runs (onForeign).
  function render() {
    if (S.renderQueued) {
      return;
    }
    S.renderQueued = true;
    if (busy()) {
      holdABit();
    } else {
      window.requestAnimationFrame(renderQueued);
    }
  }

  function renderQueued() {
    if (S.renderQueued) {
      S.renderQueued = false;
      renderNow();
    }
  }

  function renderNow() {
    var map = cellMap();
    var p = S.progress || {};
    var queued = {};
    (p.queued || []).forEach(function (id) {
      queued[id] = true;
    });
    if (p.running) {
      queued[p.running] = true;
    }
    map.cells.forEach(function (cell) {
      var g = map.toServer.get(cell);
      var state = g ? g.state : null;
      if (state === 'fresh' && g.source !== undefined && cell.get_text() !== g.source) {
        state = 'dirty'; // edited in this page, not run since
      }
      var node = cell.element[0];
      if (state) {
        if (node.getAttribute('data-cascade-state') !== state) {
          node.setAttribute('data-cascade-state', state);
        }
      } else if (node.hasAttribute('data-cascade-state')) {
        node.removeAttribute('data-cascade-state');
      }
    });
    // In [*] for queued cells; the prompt they had comes back if they do not run
    Object.keys(queued).forEach(function (id) {
      var entry = map.toPage[id];
      if (!entry || S.handled[id] || id in S.starred || runningCell(entry.cell)) {
        return;
      }
      S.starred[id] = entry.cell.input_prompt_number;
      entry.cell.set_input_prompt('*');
    });
    Object.keys(S.starred).forEach(function (id) {
      if (queued[id]) {
        return;
      }
      var entry = map.toPage[id];
      if (entry && !runningCell(entry.cell)) {
        entry.cell.set_input_prompt(S.starred[id]);
      }
      delete S.starred[id];
    });
  }

  function runningCell(cell) {
    return Object.keys(S.runs).some(function (parent) {
      return S.runs[parent].cell === cell;
    });
  }

  function scheduleSelection() {
    clearTimeout(S.selectionTimer);
    S.selectionTimer = setTimeout(updateSelection, 60);
  }

  function clearSelection() {
    $('#notebook-container .cell[data-cascade-selection]').removeAttr('data-cascade-selection');
  }

  function updateSelection() {
    if (busy()) {
      return; // asked again when the cascade's last push comes (onGraph)
    }
    var cell = notebook().get_selected_cell();
    var map = cellMap();
    var g = cell && map.toServer.get(cell);
    if (!g) {
      clearSelection();
      return;
    }
    var url =
      api('preview') + '?path=' + encodeURIComponent(nbPath()) + '&cell=' + encodeURIComponent(g.id);
    utils.promising_ajax(url, {type: 'GET', dataType: 'json'}).then(
      function (preview) {
        if (notebook().get_selected_cell() !== cell) {
          return;
        }
        // as in JupyterLab: the selected cell is among those its run would run
        clearSelection();
        var now = cellMap();
        (preview.upstream || []).forEach(function (id) {
          var entry = now.toPage[id];
          if (entry) {
            entry.cell.element.attr('data-cascade-selection', 'upstream');
          }
        });
        (preview.cells || []).forEach(function (id) {
          var entry = now.toPage[id];
          if (entry) {
            entry.cell.element.attr('data-cascade-selection', 'will-run');
          }
        });
      },
      function () {
        clearSelection();
      }
    );
  }

  // -- live outputs of runs this page did not send ------------------------------------------------

  // The server names a cascaded run's cell in its request header, which the kernel echoes as the
  // parent header of every iopub message: the page's cell of that id (nbformat 4.5), else the one
  // the graph maps it to (older notebooks: by position). Only while the page shows the code that
  // ran: outputs of the old code never go under the user's unsaved edit.
  function cellForRun(serverId, code) {
    if (!serverId) {
      return null;
    }
    var cell =
      codeCells().filter(function (c) {
        return c.id === serverId;
      })[0] || (cellMap().toPage[serverId] || {}).cell;
    return cell && cell.get_text() === code && !runningCell(cell) ? cell : null;
  }

  function cellForCode(code) {
    var candidates = codeCells().filter(function (cell) {
      return cell.get_text() === code && !runningCell(cell);
    });
    if (candidates.length <= 1) {
      return candidates[0] || null;
    }
    var map = cellMap();
    var p = S.progress || {};
    var preferred = [p.running].concat(p.queued || []);
    for (var i = 0; i < preferred.length; i++) {
      var entry = preferred[i] && map.toPage[preferred[i]];
      if (entry && candidates.indexOf(entry.cell) >= 0) {
        return entry.cell;
      }
    }
    return null; // equal sources and nothing to tell them apart: show nothing rather than guess
  }

  // A cascade's runs come faster than the page can lay out and paint them one at a time, and
  // each frame the page paints takes the CPU from the kernel and the server that run the
  // cascade. So the messages of a run that more cascaded cells follow are held up to HOLD_MS
  // and shown together; those of the cascade's last cell, or of a run the page cannot place
  // in the cascade, show at once (held ones first: the order never changes).
  function onForeign(msg) {
    var type = msg.header && msg.header.msg_type;
    var parent = msg.parent_header && msg.parent_header.msg_id;
    if (!type || !parent) {
      return;
    }
    hold(msg, function () {
      showForeign(msg);
    });
  }

  function hold(msg, show) {
    S.held.push(show);
    S.heldParents[msg.parent_header.msg_id] = true;
    if (showsAtOnce(msg)) {
      showHeld();
    } else {
      holdABit();
    }
  }

  function holdABit() {
    if (S.holdTimer === null) {
      S.holdTimer = setTimeout(showHeld, HOLD_MS);
    }
  }

  function showsAtOnce(msg) {
    var id = msg.parent_header.cascade_cell_id;
    var p = S.progress || {};
    var order = [p.running].concat(p.queued || []).filter(Boolean);
    var at = id ? order.indexOf(id) : -1;
    return at < 0 || at === order.length - 1;
  }

  function showHeld() {
    clearTimeout(S.holdTimer);
    S.holdTimer = null;
    var held = S.held;
    S.held = [];
    S.heldParents = {};
    S.showing = true; // the runs shown one by one are one cascade, ended once (below)
    try {
      held.forEach(function (show) {
        show();
      });
    } finally {
      S.showing = false;
    }
    renderQueued();
    if (S.cascade && !busy() && !openRuns()) {
      cascadeEnded();
    }
  }

  function dropHeld() {
    clearTimeout(S.holdTimer);
    S.holdTimer = null;
    S.held = [];
    S.heldParents = {};
  }

  function showForeign(msg) {
    var type = msg.header.msg_type;
    var parent = msg.parent_header.msg_id;
    if (type === 'execute_input') {
      var code = msg.content.code;
      var cell = cellForRun(msg.parent_header.cascade_cell_id, code) || cellForCode(code);
      if (cell) {
        startRun(parent, cell, msg.content.execution_count);
      }
      return;
    }
    var run = S.runs[parent];
    if (!run) {
      return;
    }
    if (type === 'status') {
      if (msg.content.execution_state === 'idle') {
        finishRun(parent);
      }
    } else if (type === 'clear_output') {
      run.cleared = true; // the run's own clear takes the old outputs with it
      run.cell.output_area.handle_clear_output(msg);
    } else if (OUTPUT_TYPES.indexOf(type) >= 0) {
      clearOldOutputs(run);
      run.cell.output_area.handle_output(msg);
      notebook().set_dirty(true);
    }
  }

  // A run's old outputs go when its first new one comes (or at its end): cleared at its start,
  // the cell would shrink and grow back, and every cell below move twice, once per cascaded cell.
  function clearOldOutputs(run) {
    if (!run.cleared) {
      run.cleared = true;
      run.cell.output_area.clear_output(false, true);
    }
  }

  function startRun(parent, cell, count) {
    noteCascade();
    S.cascade.applied = true;
    var g = cellMap().toServer.get(cell);
    if (g) {
      delete S.starred[g.id];
    }
    S.runs[parent] = {cell: cell, count: count, id: g ? g.id : null, cleared: false};
    if (cell.input_prompt_number !== '*') {
      cell.set_input_prompt('*'); // a queued cell shows it already
    }
    cell.element.addClass('running');
  }

  function finishRun(parent) {
    var run = S.runs[parent];
    delete S.runs[parent];
    clearOldOutputs(run);
    if (run.id) {
      S.handled[run.id] = true;
    }
    run.cell.set_input_prompt(run.count);
    run.cell.element.removeClass('running');
    notebook().set_dirty(true);
    if (S.cascade && !busy() && !openRuns()) {
      cascadeEnded();
    }
  }

  function openRuns() {
    return Object.keys(S.runs).length > 0 || S.held.length > 0 || S.showing;
  }

  // nbclassic sends no cellId (Lab does): the server would have to guess the cell from its code,
  // and cannot among cells of equal source. The cell being sent is the one CodeCell.execute has
  // marked running and not yet given a msg_id; its id goes along when the server knows it (a
  // notebook saved with ids, nbformat 4.5), else the server matches the code as before.
  function sendingCellId(code) {
    var sending = codeCells().filter(function (cell) {
      return cell.element.hasClass('running') && !cell.last_msg_id && cell.get_text() === code;
    });
    var known = ((S.graph && S.graph.cells) || []).some(function (g) {
      return sending.length === 1 && g.id === sending[0].id;
    });
    return known ? sending[0].id : null;
  }

  function hookKernel(kernel) {
    if (!kernel || kernel._cascadeHooked) {
      return;
    }
    kernel._cascadeHooked = true;
    var send = kernel.send_shell_message;
    kernel.send_shell_message = function (msgType, content, callbacks, metadata, buffers) {
      if (msgType === 'execute_request' && !(content && content.silent)) {
        S.lastOwnExecute = Date.now();
        var cellId = sendingCellId(content.code);
        if (cellId && !(metadata && metadata.cellId)) {
          metadata = $.extend({}, metadata || {}, {cellId: cellId});
        }
        if (S.runOnly) {
          S.runOnly = false;
          metadata = $.extend({}, metadata || {}, {cascade: false});
        }
      }
      return send.call(this, msgType, content, callbacks, metadata, buffers);
    };
    // nbclassic drops clear_output and status of requests it did not send: see them too.
    // A cascaded run's status is held with its outputs, nbclassic's own handling included:
    // each one flips the kernel indicator and the favicon, a frame to paint per message.
    ['clear_output', 'status'].forEach(function (type) {
      var original = kernel.get_iopub_handler(type) || function () {};
      kernel.register_iopub_handler(type, function (msg) {
        var parent = msg.parent_header && msg.parent_header.msg_id;
        if (parent && msg.parent_header.cascade_cell_id) {
          hold(msg, function () {
            original(msg);
            if (S.runs[parent]) {
              showForeign(msg);
            }
          });
          return;
        }
        original(msg);
        if (parent && (S.runs[parent] || S.heldParents[parent])) {
          onForeign(msg);
        }
      });
    });
  }

  // -- saving -----------------------------------------------------------------------------------

  function isSaver(cascade) {
    var now = Date.now();
    if (S.resolveAt && S.resolveAt <= cascade.startedAt + 50 && now - S.resolveAt < 60000) {
      return true;
    }
    if (cascade.trigger) {
      var entry = cellMap().toPage[cascade.trigger];
      var ran = entry ? S.ownRuns[entry.cell.id] : undefined;
      return ran !== undefined && ran <= cascade.startedAt + 50 && now - ran < 600000;
    }
    // a cascade too quick for the push endpoint to show its trigger: a run of ours just before
    return S.lastOwnExecute > 0 && cascade.startedAt - S.lastOwnExecute < 10000;
  }

  function cascadeEnded() {
    var cascade = S.cascade;
    S.cascade = null;
    S.handled = {};
    if (!cascade || !cascade.applied) {
      return;
    }
    // One save at a time: a resolve ends in steps, and a second save sent while the first
    // is in flight finds the file newer than the page and asks "Notebook changed". And one
    // waiting at most: runs that come after the push said the cascade was over end a
    // "cascade" each, and a save per run, back to back, is what the server then reads.
    S.wantSave = S.wantSave || isSaver(cascade);
    if (S.saveWaiting) {
      return; // the waiting one saves the page as it then stands
    }
    S.saveWaiting = true;
    S.saving = (S.saving || Promise.resolve())
      .then(function () {
        return whenRunsClosed(RUN_CLOSE_WAIT_MS);
      })
      .then(function () {
        var save = S.wantSave;
        S.wantSave = false;
        S.saveWaiting = false;
        return save ? safeSave() : follow(Date.now() + FOLLOW_MS);
      })
      .catch(function (error) {
        console.warn('jupyter-cascade: after a cascade', error);
      });
  }

  function whenRunsClosed(limit) {
    var deadline = Date.now() + limit;
    return new Promise(function (resolve) {
      (function check() {
        if (!openRuns() || Date.now() > deadline) {
          resolve();
        } else {
          setTimeout(check, 50);
        }
      })();
    });
  }

  function diskModel(content) {
    return notebook().contents.get(nbPath(), {type: 'notebook', content: content});
  }

  function margin() {
    return ((notebook().config.data || {}).last_modified_check_margin || 0.5) * 1000;
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  // The file's model once its time stopped moving: a read of a notebook that is being
  // written makes jupyter_server take it for corrupt and put its backup back over the save.
  function settledHead(head, tries) {
    return sleep(300)
      .then(function () {
        return diskModel(false);
      })
      .then(function (again) {
        return again.last_modified === head.last_modified || tries <= 0
          ? again
          : settledHead(again, tries - 1);
      });
  }

  // Adopt the file's time when it differs from this page by outputs alone; false otherwise.
  function catchUp() {
    var nb = notebook();
    return diskModel(false).then(function (head) {
      if (!nb.last_modified || new Date(head.last_modified) - nb.last_modified <= margin()) {
        return true;
      }
      return settledHead(head, 5)
        .then(function () {
          return diskModel(true);
        })
        .then(function (file) {
          var sources = fileSources(file.content);
          if (sources === S.base || sources === pageSources()) {
            nb.last_modified = new Date(file.last_modified);
            return true;
          }
          return false;
        });
    });
  }

  function safeSave() {
    var nb = notebook();
    if (!nb.writable || !nb._fully_loaded) {
      return Promise.resolve();
    }
    return catchUp().then(
      function (clear) {
        if (clear) {
          return nb.save_notebook();
        }
        console.warn(
          'jupyter-cascade: the notebook was changed on disk by someone else; not saving the ' +
            'cascaded outputs automatically (your next save asks what to do)'
        );
      },
      function (error) {
        console.warn('jupyter-cascade: saving after a cascade failed', error);
      }
    );
  }

  // Another page saves this cascade: once its save landed, know that file as ours when only
  // outputs differ, so this page's own next save does not ask about a change it also shows.
  function follow(deadline) {
    var nb = notebook();
    return diskModel(false).then(
      function (head) {
        if (nb.last_modified && new Date(head.last_modified) - nb.last_modified > margin()) {
          return catchUp();
        }
        if (Date.now() < deadline) {
          return sleep(250).then(function () {
            return follow(deadline);
          });
        }
      },
      function () {}
    );
  }

  // -- actions and keys -------------------------------------------------------------------------

  function runOnly() {
    var nb = notebook();
    var cell = nb.get_selected_cell();
    if (!cell || cell.cell_type !== 'code') {
      nb.execute_selected_cells();
      return;
    }
    S.runOnly = true;
    nb.execute_selected_cells();
    S.runOnly = false; // sent synchronously; a blank cell sends nothing
  }

  function resolve() {
    S.resolveAt = Date.now();
    post('resolve', {path: nbPath()}).catch(function (error) {
      console.warn('jupyter-cascade: resolve failed', error);
    });
  }

  function stop() {
    post('stop', {path: nbPath()}).catch(function () {});
  }

  function registerActions() {
    var km = Jupyter.keyboard_manager;
    var actions = km.actions;
    var runOnlyName = actions.register(
      {
        help: 'run the selected cells without cascading to the cells that depend on them',
        icon: 'fa-play-circle-o',
        handler: runOnly,
      },
      'run-only',
      'jupyter-cascade'
    );
    var resolveName = actions.register(
      {
        help: 'run every stale cell of the notebook (resolve)',
        icon: 'fa-refresh',
        handler: resolve,
      },
      'resolve',
      'jupyter-cascade'
    );
    actions.register({help: 'stop the running cascade', icon: 'fa-stop', handler: stop}, 'stop', 'jupyter-cascade');
    km.edit_shortcuts.add_shortcut('cmdtrl-shift-enter', runOnlyName);
    km.command_shortcuts.add_shortcut('cmdtrl-shift-enter', runOnlyName);
    km.command_shortcuts.add_shortcut('space', resolveName);
  }

  // -- wiring -----------------------------------------------------------------------------------

  function snapshotBase() {
    S.base = pageSources();
  }

  function start() {
    snapshotBase();
    registerActions();
    hookKernel(notebook().kernel);
    events.on('kernel_created.Session', function (event, data) {
      hookKernel(data && data.kernel);
      S.runs = {};
      dropHeld();
    });
    events.on('kernel_restarting.Kernel', function () {
      S.runs = {};
      dropHeld();
    });
    events.on('received_unsolicited_message.Kernel', function (event, msg) {
      onForeign(msg);
    });
    events.on('execute.CodeCell', function (event, data) {
      if (data && data.cell) {
        S.ownRuns[data.cell.id] = Date.now();
      }
    });
    events.on('select.Cell', scheduleSelection);
    events.on('set_dirty.Notebook', render);
    events.on('before_save.Notebook', function () {
      S.pendingBase = pageSources();
    });
    events.on('notebook_saved.Notebook', function () {
      if (S.pendingBase !== null) {
        S.base = S.pendingBase;
        S.pendingBase = null;
      }
    });
    events.on('notebook_renamed.Notebook', reconnect);
    window.addEventListener('beforeunload', function () {
      S.closed = true;
    });
    connect();
  }

  function loadCss() {
    $('<link/>')
      .attr({rel: 'stylesheet', type: 'text/css', href: requirejs.toUrl('./main.css')})
      .appendTo('head');
  }

  function load_ipython_extension() {
    loadCss();
    if (notebook() && notebook()._fully_loaded) {
      start();
    } else {
      events.one('notebook_loaded.Notebook', start);
    }
  }

  return {load_ipython_extension: load_ipython_extension};
});
