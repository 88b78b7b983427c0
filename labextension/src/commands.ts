import { JupyterFrontEnd } from '@jupyterlab/application';
import { InputDialog } from '@jupyterlab/apputils';
import { refreshIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { CardTabs } from './cardTabs';
import { trackerIcon } from './icons';
import { RunsModel } from './model';
import { ROOT_STORE, storeOptions } from './stores';

export namespace CommandIDs {
  export const show = 'jupyter-tracker:show-runs';
  export const refresh = 'jupyter-tracker:refresh';
  export const open = 'jupyter-tracker:open-card';
  export const compare = 'jupyter-tracker:compare';
  export const chooseDb = 'jupyter-tracker:choose-db';
}

export interface ICommandsOptions {
  model: RunsModel;
  cards: CardTabs;
  sidebar: Widget;
  /** Remember the database chosen in the dialog. */
  saveDb: (db: string) => void;
}

/** Run ids typed by hand: "3, 4 #7" gives [3, 4, 7]. */
export function parseIds(text: string): number[] {
  return text
    .split(/[\s,]+/)
    .map(part => part.replace(/^#/, ''))
    .filter(part => /^\d+$/.test(part))
    .map(Number);
}

/** The commands of the extension; those given no run or ids ask for them in a dialog. */
export function addCommands(
  app: JupyterFrontEnd,
  { model, cards, sidebar, saveDb }: ICommandsOptions
): void {
  const { commands, shell } = app;
  const dbOf = (args: { db?: unknown }) =>
    args.db === undefined ? model.db : String(args.db);

  commands.addCommand(CommandIDs.show, {
    label: 'Show Runs Panel',
    caption: 'Show the jupyter-tracker runs in the left sidebar',
    icon: args => (args.isPalette ? undefined : trackerIcon),
    execute: () => shell.activateById(sidebar.id)
  });

  commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh Runs',
    caption: 'Fetch the runs of the database again',
    icon: args => (args.isPalette ? undefined : refreshIcon),
    execute: () => model.refresh(true)
  });

  commands.addCommand(CommandIDs.open, {
    label: args => (args.run ? `Open Run Card ${args.run}` : 'Open Run Card…'),
    caption: 'Open the HTML card of a run in a tab',
    execute: async args => {
      const db = dbOf(args);
      const label = args.label ? String(args.label) : undefined;
      if (Array.isArray(args.ids)) {
        return cards.open({ db, ids: args.ids.map(Number), label });
      }
      let run = args.run ? String(args.run) : '';
      if (!run) {
        const answer = await InputDialog.getText({
          title: 'Open Run Card',
          label: 'Run id, name or uuid',
          placeholder: 'e.g. 12 or baseline'
        });
        if (!answer.button.accept || !answer.value?.trim()) {
          return;
        }
        run = answer.value.trim();
      }
      return cards.open({ db, run, label });
    }
  });

  commands.addCommand(CommandIDs.compare, {
    label: () => {
      const n = model.selected.length;
      return n >= 2 ? `Compare ${n} Selected Runs` : 'Compare Runs…';
    },
    caption: 'Open the comparison card of several runs',
    execute: async args => {
      let ids = Array.isArray(args.ids)
        ? (args.ids as number[]).map(Number)
        : model.selected;
      if (ids.length < 2) {
        const answer = await InputDialog.getText({
          title: 'Compare Runs',
          label: 'Run ids, separated by commas',
          placeholder: 'e.g. 3, 4, 7',
          text: ids.join(', ')
        });
        if (!answer.button.accept) {
          return;
        }
        ids = parseIds(answer.value ?? '');
        if (ids.length < 2) {
          return;
        }
      }
      return cards.open({ db: dbOf(args), ids });
    }
  });

  commands.addCommand(CommandIDs.chooseDb, {
    label: 'Choose Runs Database…',
    caption:
      'Show the runs of another jupyter-tracker database under the server root',
    execute: async () => {
      await model.loadStores();
      const current = model.db || ROOT_STORE;
      const items = storeOptions(model.stores, current);
      const answer = await InputDialog.getItem({
        title: 'Runs Database',
        label:
          'A database under the server root (e.g. notebooks/.tracker/tracker.db)',
        items,
        current,
        editable: true,
        placeholder: ROOT_STORE
      });
      if (!answer.button.accept) {
        return;
      }
      model.db = (answer.value ?? '').trim();
      saveDb(model.db);
    }
  });
}
