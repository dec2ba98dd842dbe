/**
 * jupyter-cascade for JupyterLab 4 and Notebook 7: wires the per-notebook
 * marks, the commands, the status bar item and the settings. Every decision
 * stays on the server; see marks.ts, commands.ts, status.ts.
 */

import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, IFrame, MainAreaWidget } from '@jupyterlab/apputils';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';

import { graphPageUrl } from './api';
import { ALL_COMMANDS, addCommands } from './commands';
import { IMarksOptions, NotebookMarks } from './marks';
import { CascadeStatus } from './status';

const PLUGIN_ID = 'jupyter-cascade:plugin';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Reactive state of jupyter-cascade: cell marks, selection marks, commands, status bar.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ISettingRegistry, ICommandPalette, IMainMenu, IStatusBar, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    registry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    mainMenu: IMainMenu | null,
    statusBar: IStatusBar | null,
    labShell: ILabShell | null
  ) => {
    let options: IMarksOptions = { marks: true, selectionMarks: true };
    const marks = new Map<NotebookPanel, NotebookMarks>();

    tracker.widgetAdded.connect((_, panel) => {
      const contents = app.serviceManager.contents;
      void panel.context.ready.then(() => {
        if (panel.isDisposed) {
          return;
        }
        const created = new NotebookMarks(panel, contents, options);
        marks.set(panel, created);
        if (tracker.currentWidget === panel) {
          status?.follow(created);
        }
      });
      panel.disposed.connect(() => {
        marks.get(panel)?.dispose();
        marks.delete(panel);
      });
    });

    const openGraph = (path: string): void => {
      const url = graphPageUrl(path);
      if (!labShell) {
        window.open(url, '_blank'); // Notebook 7: one document per tab
        return;
      }
      const frame = new IFrame({
        sandbox: ['allow-scripts', 'allow-same-origin']
      });
      frame.url = url;
      const widget = new MainAreaWidget({ content: frame });
      widget.id = `cascade-graph-${Date.now()}`;
      widget.title.label = `Graph: ${path.split('/').pop()}`;
      widget.title.closable = true;
      app.shell.add(widget, 'main');
    };

    addCommands({
      app,
      tracker,
      marksOf: panel => marks.get(panel as NotebookPanel),
      openGraph
    });
    for (const command of ALL_COMMANDS) {
      palette?.addItem({ command, category: 'Cascade' });
    }
    mainMenu?.runMenu.addGroup(
      ALL_COMMANDS.map(command => ({ command })),
      1000
    );

    let status: CascadeStatus | null = null;
    if (statusBar) {
      status = new CascadeStatus(command => void app.commands.execute(command));
      statusBar.registerStatusItem('jupyter-cascade:status', {
        item: status,
        align: 'left',
        rank: 4,
        isActive: () => !!tracker.currentWidget
      });
      tracker.currentChanged.connect((_, panel) =>
        status?.follow(panel ? marks.get(panel) : undefined)
      );
    }

    if (registry) {
      void registry.load(PLUGIN_ID).then(settings => {
        const read = (): void => {
          options = {
            marks: settings.get('marks').composite !== false,
            selectionMarks: settings.get('selectionMarks').composite !== false
          };
          marks.forEach(m => m.configure(options));
        };
        read();
        settings.changed.connect(read);
      });
    }
  }
};

export default plugin;
