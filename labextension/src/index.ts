import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IStateDB } from '@jupyterlab/statedb';
import {
  downloadIcon,
  refreshIcon,
  ToolbarButton
} from '@jupyterlab/ui-components';
import { ReadonlyJSONObject } from '@lumino/coreutils';

import { fetchCardHtml, fetchComparisonHtml, IRun } from './api';
import { fallbackPlugin } from './fallback';
import { CardPanel, ICardArgs } from './card';
import { trackerIcon } from './icons';
import { RunsModel } from './model';
import { RunsSidebar } from './sidebar';

export { CARD_MIME_TYPE } from './mime';

namespace CommandIDs {
  export const show = 'jupyter-tracker:show-runs';
  export const refresh = 'jupyter-tracker:refresh';
  export const open = 'jupyter-tracker:open-card';
  export const compare = 'jupyter-tracker:compare';
  export const chooseDb = 'jupyter-tracker:choose-db';
}

const CATEGORY = 'Experiment Tracker';
const STATE_KEY = 'jupyter-tracker:sidebar';

function cardId(args: ICardArgs): string {
  const what = args.ids ? `compare-${args.ids.join('-')}` : `run-${args.run}`;
  return `jupyter-tracker-card-${args.db}-${what}`.replace(
    /[^A-Za-z0-9_-]/g,
    '_'
  );
}

function parseIds(text: string): number[] {
  return text
    .split(/[\s,]+/)
    .map(part => part.replace(/^#/, ''))
    .filter(part => /^\d+$/.test(part))
    .map(Number);
}

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
    const model = new RunsModel('');
    const tracker = new WidgetTracker<MainAreaWidget<CardPanel>>({
      namespace: 'jupyter-tracker-cards'
    });

    const openCard = (args: ICardArgs): MainAreaWidget<CardPanel> => {
      const id = cardId(args);
      const existing = tracker.find(widget => widget.id === id);
      if (existing) {
        shell.activateById(id);
        void existing.content.reload();
        return existing;
      }
      const load = args.ids
        ? () => fetchComparisonHtml(args.db, args.ids ?? [])
        : () => fetchCardHtml(args.db, args.run ?? '');
      const content = new CardPanel({ args, load });
      const widget = new MainAreaWidget({ content });
      widget.id = id;
      widget.title.icon = trackerIcon;
      widget.title.label =
        args.label ??
        (args.ids ? `Compare ${args.ids.length} runs` : `Run ${args.run}`);
      widget.title.caption = args.ids
        ? `Comparison of runs ${args.ids.map(i => `#${i}`).join(', ')}`
        : `Run card: ${widget.title.label}`;
      widget.title.closable = true;
      const filename = `${widget.title.label.replace(/[^\w.-]+/g, '_')}.html`;
      widget.toolbar.addItem(
        'reload',
        new ToolbarButton({
          icon: refreshIcon,
          tooltip: 'Reload the card',
          onClick: () => void content.reload()
        })
      );
      widget.toolbar.addItem(
        'download',
        new ToolbarButton({
          icon: downloadIcon,
          tooltip: 'Download as HTML',
          onClick: () => content.download(filename)
        })
      );
      if (args.run && args.db === model.db) {
        // Show the final card once a live run ends (the card of a running run is a snapshot).
        const runId = Number(args.run);
        let status = model.get(runId)?.status;
        const onChange = () => {
          const now = model.get(runId)?.status;
          if (status === 'running' && now && now !== 'running') {
            void content.reload();
          }
          status = now ?? status;
        };
        model.changed.connect(onChange);
        widget.disposed.connect(() => model.changed.disconnect(onChange));
      }
      void tracker.add(widget);
      shell.add(widget, 'main');
      shell.activateById(id);
      return widget;
    };

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
      label: args =>
        args.run ? `Open Run Card ${args.run}` : 'Open Run Card…',
      caption: 'Open the HTML card of a run in a tab',
      execute: async args => {
        const db = args.db === undefined ? model.db : String(args.db);
        const label = args.label ? String(args.label) : undefined;
        if (Array.isArray(args.ids)) {
          return openCard({ db, ids: args.ids.map(Number), label });
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
        return openCard({ db, run, label });
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
        const db = args.db === undefined ? model.db : String(args.db);
        return openCard({ db, ids });
      }
    });

    commands.addCommand(CommandIDs.chooseDb, {
      label: 'Choose Runs Database…',
      caption:
        'Show the runs of another jupyter-tracker database (a path under the server root)',
      execute: async () => {
        const answer = await InputDialog.getText({
          title: 'Runs Database',
          label:
            'Path relative to the server root (empty: .tracker/tracker.db)',
          text: model.db,
          placeholder: '.tracker/tracker.db'
        });
        if (!answer.button.accept) {
          return;
        }
        model.db = (answer.value ?? '').trim();
        void state?.save(STATE_KEY, { db: model.db });
      }
    });

    if (palette) {
      for (const command of Object.values(CommandIDs)) {
        palette.addItem({ command, category: CATEGORY });
      }
    }

    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.open,
        args: widget => widget.content.args as unknown as ReadonlyJSONObject,
        name: widget => widget.id
      });
    }

    const startPolling = () => {
      if (sidebar.isVisible) {
        model.start();
      }
    };
    void Promise.all([
      app.restored,
      state?.fetch(STATE_KEY) ?? Promise.resolve(undefined)
    ]).then(([, saved]) => {
      const db = (saved as ReadonlyJSONObject | undefined)?.db;
      if (typeof db === 'string' && db) {
        model.db = db;
      }
      startPolling();
    });
  }
};

export default [plugin, fallbackPlugin];
