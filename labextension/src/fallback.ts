import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISanitizer } from '@jupyterlab/apputils';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

const WIDGET_MIME = 'application/vnd.jupyter.widget-view+json';
// What ipywidgets writes where a saved output's widget is gone (kernel restarted, notebook reopened).
const MISSING = 'Error displaying widget: model not found';
// Only our own outputs are touched: their static HTML carries this attribute.
const MARKER = 'data-jupyter-tracker="fallback"';

// Just what this plugin reads of a notebook: it needs no dependency on @jupyterlab/notebook.
interface IOutputAreaLike {
  widgets: ReadonlyArray<{ node: HTMLElement }>;
  model: {
    length: number;
    get(index: number): { data: Record<string, unknown> };
  };
}

/**
 * The static HTML saved beside a run panel or comparison whose widget output holds `node`, or null.
 */
function savedHtml(app: JupyterFrontEnd, node: HTMLElement): string | null {
  for (const widget of app.shell.widgets('main')) {
    const cells = (widget as any).content?.widgets as
      | ReadonlyArray<{ node: HTMLElement; outputArea?: IOutputAreaLike }>
      | undefined;
    if (!cells || !widget.node.contains(node)) {
      continue;
    }
    for (const cell of cells) {
      const area = cell.outputArea;
      if (!area || !cell.node.contains(node)) {
        continue;
      }
      const index = area.widgets.findIndex(child => child.node.contains(node));
      if (index < 0 || index >= area.model.length) {
        return null;
      }
      const data = area.model.get(index).data;
      const html = Array.isArray(data['text/html'])
        ? (data['text/html'] as string[]).join('')
        : data['text/html'];
      return data[WIDGET_MIME] &&
        typeof html === 'string' &&
        html.includes(MARKER)
        ? html
        : null;
    }
  }
  return null;
}

/**
 * A saved run panel whose widget is gone shows the static summary saved with it (status, params,
 * metrics, charts as images) instead of ipywidgets' "model not found". For notebooks saved by earlier
 * versions: a finished panel's output now holds no widget at all (outputs.ts draws it).
 */
export const fallbackPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-tracker:saved-panels',
  description:
    'Shows the saved summary of a run panel whose widget is no longer in the kernel.',
  autoStart: true,
  requires: [ISanitizer],
  activate: (app: JupyterFrontEnd, sanitizer: IRenderMime.ISanitizer) => {
    let queued = false;
    const replace = () => {
      queued = false;
      for (const node of document.querySelectorAll<HTMLElement>(
        '.jupyter-widgets:not(.jt-saved)'
      )) {
        if (node.textContent !== MISSING) {
          continue;
        }
        const html = savedHtml(app, node);
        if (html) {
          node.classList.add('jt-saved');
          node.innerHTML = sanitizer.sanitize(html);
        }
      }
    };
    new MutationObserver(() => {
      if (!queued) {
        queued = true;
        requestAnimationFrame(replace);
      }
    }).observe(document.body, {
      childList: true,
      subtree: true,
      characterData: true
    });
  }
};
