/**
 * One notebook's marks: ``data-cascade-state`` on every code cell's node,
 * hover text on its prompt and collapser, and ``data-cascade-selection`` for
 * the active cell's preview. The nodes of Lab 4's windowed notebook exist for
 * every cell even while detached, so attributes set on them survive scrolling;
 * the hover text, which lives on inner nodes rendered lazily, is set again
 * when the view changes.
 */

import { Cell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';
import { ServiceManager } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { EventStream, preview } from './api';
import { DEFAULT_REASONS, ICellState, IGraphMessage } from './types';

export const STATE_ATTR = 'data-cascade-state';
export const SELECTION_ATTR = 'data-cascade-selection';
const MARKS_CLASS = 'cascade-marks';

export interface IMarksOptions {
  marks: boolean;
  selectionMarks: boolean;
}

export class NotebookMarks {
  constructor(
    readonly panel: NotebookPanel,
    private _contents: ServiceManager.IManager['contents'],
    private _options: IMarksOptions
  ) {
    this.stream = new EventStream(this.path);
    this.stream.received.connect(this._onMessage, this);
    const notebook = panel.content;
    notebook.activeCellChanged.connect(this._scheduleSelection, this);
    notebook.model?.cells.changed.connect(this._onCellsChanged, this);
    panel.context.pathChanged.connect(() => {
      this.stream.path = this.path;
    });
    const viewChanged = (notebook as any).viewChanged as
      | ISignal<unknown, unknown>
      | undefined;
    viewChanged?.connect(this._setTitles, this);
    this.configure(_options);
  }

  readonly stream: EventStream;

  /** The notebook's path on the server (without a drive prefix such as ``RTC:``). */
  get path(): string {
    return this._contents.localPath(this.panel.context.path);
  }

  get message(): IGraphMessage | null {
    return this.stream.last;
  }

  get changed(): ISignal<this, IGraphMessage> {
    return this._changed;
  }

  configure(options: IMarksOptions): void {
    this._options = options;
    this.panel.content.node.classList.toggle(MARKS_CLASS, options.marks);
    this._scheduleSelection();
  }

  dispose(): void {
    window.clearTimeout(this._selectionTimer);
    this.stream.dispose();
    Signal.clearData(this);
  }

  /** The states of the code cells, applied to their nodes. */
  apply(): void {
    const graph = this.message?.graph;
    const byId = new Map<string, ICellState>();
    for (const cell of graph?.cells ?? []) {
      byId.set(cell.id, cell);
    }
    this._byId = byId;
    for (const cell of this.panel.content.widgets) {
      if (cell.model.type !== 'code') {
        cell.node.removeAttribute(STATE_ATTR);
        continue;
      }
      const known = byId.get(cell.model.id);
      setAttribute(cell.node, STATE_ATTR, known ? known.state : 'never_run');
    }
    this._setTitles();
  }

  private _setTitles(): void {
    for (const cell of this.panel.content.widgets) {
      if (cell.model.type !== 'code') {
        continue;
      }
      const known = this._byId.get(cell.model.id);
      const state = known ? known.state : 'never_run';
      const title = known?.reason || DEFAULT_REASONS[state] || state;
      for (const node of hoverNodes(cell)) {
        if (node.title !== title) {
          node.title = title;
        }
      }
    }
  }

  private _onMessage(_: EventStream, message: IGraphMessage): void {
    this.apply();
    if (!message.graph?.busy) {
      // during a cascade the plan changes with every cell: ask once it settled
      this._scheduleSelection();
    }
    this._changed.emit(message);
  }

  private _onCellsChanged(): void {
    // added, moved or deleted cells: new nodes need their marks at once
    this.apply();
    this._scheduleSelection();
  }

  private _scheduleSelection(): void {
    window.clearTimeout(this._selectionTimer);
    this._selectionTimer = window.setTimeout(
      () => void this._updateSelection(),
      30
    );
  }

  private async _updateSelection(): Promise<void> {
    const active = this.panel.content.activeCell;
    const ticket = ++this._selectionTicket;
    let willRun: string[] = [];
    let upstream: string[] = [];
    if (
      this._options.selectionMarks &&
      active &&
      active.model.type === 'code' &&
      this.message?.graph
    ) {
      const answer = await preview(this.path, active.model.id).catch(
        () => null
      );
      if (ticket !== this._selectionTicket) {
        return; // a newer selection or graph superseded this one
      }
      willRun = answer?.cells ?? [];
      upstream = (answer?.upstream ?? []).filter(c => !willRun.includes(c));
    }
    const selection = new Map<string, string>();
    willRun.forEach(id => selection.set(id, 'will-run'));
    upstream.forEach(id => selection.set(id, 'upstream'));
    for (const cell of this.panel.content.widgets) {
      const value = selection.get(cell.model.id);
      if (value) {
        setAttribute(cell.node, SELECTION_ATTR, value);
      } else if (cell.node.hasAttribute(SELECTION_ATTR)) {
        cell.node.removeAttribute(SELECTION_ATTR);
      }
    }
  }

  private _byId = new Map<string, ICellState>();
  private _selectionTimer = 0;
  private _selectionTicket = 0;
  private _changed = new Signal<this, IGraphMessage>(this);
}

function setAttribute(node: HTMLElement, name: string, value: string): void {
  if (node.getAttribute(name) !== value) {
    node.setAttribute(name, value);
  }
}

function hoverNodes(cell: Cell): HTMLElement[] {
  return Array.from(
    cell.node.querySelectorAll<HTMLElement>(
      '.jp-InputPrompt, .jp-Cell-inputCollapser'
    )
  );
}
