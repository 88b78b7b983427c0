import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IStateDB } from '@jupyterlab/statedb';
import { PromiseDelegate, ReadonlyJSONObject } from '@lumino/coreutils';

import { fetchRuns, fetchStores, IRun } from './api';
import { CardTabs } from './cardTabs';
import { addCommands, CommandIDs } from './commands';
import { fallbackPlugin } from './fallback';
import { outputsPlugin } from './outputs';
import { RunsModel } from './model';
import { addRunCommands, renameDialog } from './runActions';
import { RunsSidebar } from './sidebar';
import { pickStore } from './stores';

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
    const model = new RunsModel({ fetchRuns, fetchStores });
    const cards = new CardTabs(shell, model);
    // The chosen store is remembered in the state database (per workspace), across reloads.
    const saveDb = (db: string) => void state?.save(STATE_KEY, { db });
    const storeKnown = new PromiseDelegate<void>();

    const sidebar = new RunsSidebar(
      model,
      {
        open: (run: IRun) =>
          void commands.execute(CommandIDs.open, {
            db: model.db,
            run: String(run.id),
            label: `${run.name} #${run.id}`
          }),
        compare: (ids: number[]) =>
          void commands.execute(CommandIDs.compare, { db: model.db, ids }),
        chooseDb: () => void commands.execute(CommandIDs.chooseDb),
        chooseStore: (db: string) => {
          model.db = db;
          saveDb(db);
        },
        rename: (run: IRun) => void renameDialog(model, run)
      },
      storeKnown.promise
    );
    model.isVisible = () => sidebar.isVisible;
    shell.add(sidebar, 'left', { rank: 650 });
    restorer?.add(sidebar, sidebar.id);

    addCommands(app, { model, cards, sidebar, saveDb });
    addRunCommands(app, model);
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

    // Once the layout is back: list the stores under the server root, show the one chosen before
    // (or the root's, or the first), then poll if the panel is open.
    void Promise.all([
      app.restored,
      state?.fetch(STATE_KEY) ?? Promise.resolve(undefined),
      model.loadStores()
    ])
      .then(([, saved, stores]) => {
        const db = (saved as ReadonlyJSONObject | undefined)?.db;
        model.db = pickStore(stores, typeof db === 'string' ? db : null);
      })
      .catch(() => undefined)
      .then(() => {
        storeKnown.resolve();
        if (sidebar.isVisible) {
          model.start();
        }
      });
  }
};

export default [plugin, fallbackPlugin, outputsPlugin];
