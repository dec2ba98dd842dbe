/**
 * The status bar item: mode and direction (click to switch) and, during a
 * cascade, "cascade k/n" with its trigger cell (click to scroll to it).
 */

import { Widget } from '@lumino/widgets';

import { CommandIds } from './commands';
import { NotebookMarks } from './marks';

export class CascadeStatus extends Widget {
  constructor(private _execute: (command: string) => void) {
    super();
    this.addClass('cascade-StatusItem');
    this._mode.className = 'cascade-StatusItem-mode';
    this._mode.title = 'Cascade mode: click to switch (reactive / lazy)';
    this._mode.onclick = () => this._execute(CommandIds.toggleMode);
    this._direction.className = 'cascade-StatusItem-direction';
    this._direction.title =
      'Cascade direction: click to switch (in order / any order)';
    this._direction.onclick = () => this._execute(CommandIds.toggleDirection);
    this._progress.className = 'cascade-StatusItem-progress';
    this._progress.title = 'The running cascade: click to show its trigger cell';
    this._progress.onclick = () => this._showTrigger();
    this.node.append(this._mode, this._direction, this._progress);
    this._update();
  }

  /** Follow another notebook (or none). */
  follow(marks: NotebookMarks | undefined): void {
    this._marks?.changed.disconnect(this._update, this);
    this._marks = marks;
    marks?.changed.connect(this._update, this);
    this._update();
  }

  private _update(): void {
    const message = this._marks?.message;
    const graph = message?.graph;
    this._mode.textContent = graph ? graph.mode : '';
    this._direction.textContent = graph
      ? graph.direction.replace('_', ' ')
      : '';
    const progress = message?.progress;
    if (progress && progress.total > 0) {
      const index = graph?.cells.find(c => c.id === progress.trigger)?.index;
      const from = index === undefined ? '' : ` from cell ${index + 1}`;
      this._progress.textContent = `cascade ${progress.done}/${progress.total}${from}`;
    } else {
      this._progress.textContent = '';
    }
    this.node.dataset.cascadeBusy = String(!!graph?.busy);
  }

  private _showTrigger(): void {
    const trigger = this._marks?.message?.progress.trigger;
    const panel = this._marks?.panel;
    if (!trigger || !panel) {
      return;
    }
    const notebook = panel.content;
    const index = notebook.widgets.findIndex(c => c.model.id === trigger);
    if (index >= 0) {
      notebook.activeCellIndex = index;
      void notebook.scrollToItem(index);
    }
  }

  private _marks: NotebookMarks | undefined;
  private _mode = document.createElement('span');
  private _direction = document.createElement('span');
  private _progress = document.createElement('span');
}
