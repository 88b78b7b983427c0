import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IStateDB } from '@jupyterlab/statedb';
import { ReadonlyJSONObject } from '@lumino/coreutils';

import { fetchRuns, IRun } from './api';
import { CardTabs } from './cardTabs';
import { addCommands, CommandIDs } from './commands';
import { fallbackPlugin } from './fallback';
import { RunsModel } from './model';
import { RunsSidebar } from './sidebar';

const CATEGORY = 'Experiment Tracker';
const STATE_KEY = 'jupyter-tracker:sidebar';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-tracker:plugin',
  description:
    'Runs sidebar, run cards and comparisons for jupyter-tracker databases.',
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer, IStateDB],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    state: IStateDB | null
  ) => {
    const { commands, shell } = app;
    const model = new RunsModel({ fetchRuns });
    const cards = new CardTabs(shell, model);

    const sidebar = new RunsSidebar(model, {
      open: (run: IRun) =>
        void commands.execute(CommandIDs.open, {
          db: model.db,
          run: String(run.id),
          label: `${run.name} #${run.id}`
        }),
      compare: (ids: number[]) =>
        void commands.execute(CommandIDs.compare, { db: model.db, ids }),
      chooseDb: () => void commands.execute(CommandIDs.chooseDb)
    });
    model.isVisible = () => sidebar.isVisible;
    shell.add(sidebar, 'left', { rank: 650 });
    restorer?.add(sidebar, sidebar.id);

    addCommands(app, {
      model,
      cards,
      sidebar,
      saveDb: db => void state?.save(STATE_KEY, { db })
    });
    if (palette) {
      for (const command of Object.values(CommandIDs)) {
        palette.addItem({ command, category: CATEGORY });
      }
    }

    if (restorer) {
      void restorer.restore(cards.tracker, {
        command: CommandIDs.open,
        args: widget => widget.content.args as unknown as ReadonlyJSONObject,
        name: widget => widget.id
      });
    }

    // Poll once the layout is back and the saved database is known, if the panel is open.
    void Promise.all([
      app.restored,
      state?.fetch(STATE_KEY) ?? Promise.resolve(undefined)
    ]).then(([, saved]) => {
      const db = (saved as ReadonlyJSONObject | undefined)?.db;
      if (typeof db === 'string' && db) {
        model.db = db;
      }
      if (sidebar.isVisible) {
        model.start();
      }
    });
  }
};

export default [plugin, fallbackPlugin];
