/**
 * The commands of DESIGN §4: ids, labels, keys. Each acts on the current
 * notebook and asks the server; nothing is decided here.
 */

import { JupyterFrontEnd } from '@jupyterlab/application';
import { CodeCell } from '@jupyterlab/cells';
import { NotebookActions, INotebookTracker } from '@jupyterlab/notebook';

import { post } from './api';
import { NotebookMarks } from './marks';

export const CommandIds = {
  runOnly: 'cascade:run-only',
  resolve: 'cascade:resolve',
  toggleMode: 'cascade:toggle-mode',
  toggleDirection: 'cascade:toggle-direction',
  openGraph: 'cascade:open-graph',
  stop: 'cascade:stop'
};

export const ALL_COMMANDS = Object.values(CommandIds);

const COMMAND_MODE =
  '.jp-Notebook.jp-mod-commandMode:not(.jp-mod-readWrite) :focus';
const EDIT_MODE = '.jp-Notebook.jp-mod-editMode';

export interface ICommandContext {
  app: JupyterFrontEnd;
  tracker: INotebookTracker;
  marksOf(panel: unknown): NotebookMarks | undefined;
  openGraph(path: string): void;
}

export function addCommands(context: ICommandContext): void {
  const { app, tracker } = context;
  const current = (): NotebookMarks | undefined =>
    tracker.currentWidget ? context.marksOf(tracker.currentWidget) : undefined;
  const isEnabled = (): boolean => !!current();
  const add = (id: string, label: string, execute: (m: NotebookMarks) => any) =>
    app.commands.addCommand(id, {
      label,
      caption: label,
      isEnabled,
      execute: () => {
        const marks = current();
        return marks ? execute(marks) : undefined;
      }
    });

  add(
    CommandIds.runOnly,
    'Run Cell Without Cascading (in lazy mode: with its cascade)',
    runOnly
  );
  add(CommandIds.resolve, 'Resolve: Run Every Out-of-Date Cell', marks =>
    post('resolve', { path: marks.path })
  );
  add(CommandIds.toggleMode, 'Toggle Cascade Mode (reactive / lazy)', marks =>
    post('mode', {
      path: marks.path,
      mode: marks.message?.graph?.mode === 'lazy' ? 'reactive' : 'lazy'
    })
  );
  add(
    CommandIds.toggleDirection,
    'Toggle Cascade Direction (in order / any order)',
    marks =>
      post('mode', {
        path: marks.path,
        direction:
          marks.message?.graph?.direction === 'any_order'
            ? 'in_order'
            : 'any_order'
      })
  );
  add(CommandIds.openGraph, 'Open the Cell Graph', marks =>
    context.openGraph(marks.path)
  );
  add(CommandIds.stop, 'Stop the Running Cascade', marks =>
    post('stop', { path: marks.path })
  );

  for (const selector of [EDIT_MODE, COMMAND_MODE]) {
    app.commands.addKeyBinding({
      command: CommandIds.runOnly,
      keys: ['Accel Shift Enter'],
      selector
    });
  }
  app.commands.addKeyBinding({
    command: CommandIds.resolve,
    keys: ['Space'],
    selector: COMMAND_MODE
  });
}

/**
 * Run the active cell alone (``"cascade": false`` in the request metadata).
 * In lazy mode the same key runs it with its cascade, as ipyflow does: the
 * session is reactive for that one run.
 */
async function runOnly(marks: NotebookMarks): Promise<void> {
  const panel = marks.panel;
  const cell = panel.content.activeCell;
  if (!cell) {
    return;
  }
  if (cell.model.type !== 'code') {
    await NotebookActions.run(panel.content, panel.sessionContext);
    return;
  }
  if (marks.message?.graph?.mode !== 'lazy') {
    await CodeCell.execute(cell as CodeCell, panel.sessionContext, {
      cascade: false
    });
    return;
  }
  await post('mode', { path: marks.path, mode: 'reactive' });
  try {
    await CodeCell.execute(cell as CodeCell, panel.sessionContext);
    // the cascade starts on the server once it has read the reply; the switch
    // back waits for it (the server serializes both on the kernel)
    await new Promise(resolve => setTimeout(resolve, 100));
  } finally {
    await post('mode', { path: marks.path, mode: 'lazy' });
  }
}
