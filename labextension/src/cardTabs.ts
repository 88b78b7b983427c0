import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import {
  downloadIcon,
  refreshIcon,
  ToolbarButton
} from '@jupyterlab/ui-components';

import { fetchCardHtml, fetchComparisonHtml } from './api';
import { CardPanel, ICardArgs } from './card';
import { trackerIcon } from './icons';
import { RunsModel } from './model';

export type CardTab = MainAreaWidget<CardPanel>;

/** A stable DOM id per card, so opening a card again shows its tab. */
export function cardId(args: ICardArgs): string {
  const what = args.ids ? `compare-${args.ids.join('-')}` : `run-${args.run}`;
  return `jupyter-tracker-card-${args.db}-${what}`.replace(
    /[^A-Za-z0-9_-]/g,
    '_'
  );
}

/**
 * The main-area tabs of run cards and comparisons: one tab per card, reloaded
 * (not duplicated) when opened again, restored after a page reload through `tracker`.
 */
export class CardTabs {
  constructor(
    private _shell: JupyterFrontEnd.IShell,
    private _model: RunsModel
  ) {}

  readonly tracker = new WidgetTracker<CardTab>({
    namespace: 'jupyter-tracker-cards'
  });

  open(args: ICardArgs): CardTab {
    const id = cardId(args);
    const existing = this.tracker.find(widget => widget.id === id);
    if (existing) {
      this._shell.activateById(id);
      void existing.content.reload();
      return existing;
    }
    const widget = createCardTab(args);
    widget.id = id;
    if (args.run && args.db === this._model.db) {
      reloadWhenRunEnds(widget, this._model, Number(args.run));
    }
    void this.tracker.add(widget);
    this._shell.add(widget, 'main');
    this._shell.activateById(id);
    return widget;
  }
}

/** A tab that loads the card from the server, with reload and download buttons. */
function createCardTab(args: ICardArgs): CardTab {
  const load = args.ids
    ? () => fetchComparisonHtml(args.db, args.ids ?? [])
    : () => fetchCardHtml(args.db, args.run ?? '');
  const content = new CardPanel({ args, load });
  const widget = new MainAreaWidget({ content });
  const { title } = widget;
  title.icon = trackerIcon;
  title.label =
    args.label ??
    (args.ids ? `Compare ${args.ids.length} runs` : `Run ${args.run}`);
  title.caption = args.ids
    ? `Comparison of runs ${args.ids.map(i => `#${i}`).join(', ')}`
    : `Run card: ${title.label}`;
  title.closable = true;
  const filename = `${title.label.replace(/[^\w.-]+/g, '_')}.html`;
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
  return widget;
}

/** The card of a running run is a snapshot: show the final card once the polled run ends. */
function reloadWhenRunEnds(widget: CardTab, model: RunsModel, runId: number) {
  let status = model.get(runId)?.status;
  const onChange = () => {
    const now = model.get(runId)?.status;
    if (status === 'running' && now && now !== 'running') {
      void widget.content.reload();
    }
    status = now ?? status;
  };
  model.changed.connect(onChange);
  widget.disposed.connect(() => model.changed.disconnect(onChange));
}
