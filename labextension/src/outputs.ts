import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IThemeManager } from '@jupyterlab/apputils';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import {
  ISavedModel,
  savedModel,
  VEGA_RUNTIME
} from '../../jupyter_tracker/notebook/widgets/common.js';
import { renderCompare } from '../../jupyter_tracker/notebook/widgets/compare.js';
import { renderRunPanel } from '../../jupyter_tracker/notebook/widgets/run_panel.js';
import { THEME_EVENT } from './frame';

/** A finished run cell's output: the run panel, drawn again with no kernel. */
export const RUN_MIME = 'application/vnd.jupyter-tracker.run+json';
/** A comparison's output: the table and overlay, drawn with no kernel. */
export const COMPARE_MIME = 'application/vnd.jupyter-tracker.compare+json';
/** The kernel's comm target that answers for series a comparison did not save. */
const SERIES_TARGET = 'jupyter_tracker.series';

/** The kernel of the notebook that shows `node`, if it has one now. */
export type KernelFinder = (node: HTMLElement) => any | null;

/**
 * Vega, Vega-Lite and vega-embed for every panel of the page (the kernel's live widgets too, which look
 * in this slot before asking their kernel): loaded when the first chart needs them.
 */
export function provideVega(): void {
  const slot = ((globalThis as any)[VEGA_RUNTIME] ??= {});
  slot.load ??= async () => (await import('vega-embed')).default;
}

/** The kernel of the notebook panel whose node holds `node` (duck-typed: no notebook dependency). */
export function notebookKernel(app: JupyterFrontEnd): KernelFinder {
  return (node: HTMLElement) => {
    for (const widget of app.shell.widgets('main')) {
      if (widget.node.contains(node)) {
        return (widget as any).sessionContext?.session?.kernel ?? null;
      }
    }
    return null;
  };
}

/**
 * Draws a saved run panel or comparison from its output's data, as the live widget did: same code
 * (the kernel's ES modules), same look, theme included; no kernel needed.
 */
export class SavedOutput extends Widget implements IRenderMime.IRenderer {
  constructor(
    private _mimeType: string,
    private _kernel: KernelFinder
  ) {
    super();
    this.addClass('jp-TrackerOutput');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[this._mimeType] as any;
    this._cleanup?.();
    const el = document.createElement('div');
    this.node.replaceChildren(el);
    if (this._mimeType === RUN_MIME) {
      this._cleanup = renderRunPanel({ model: savedModel(data), el });
      return;
    }
    const saved: ISavedModel = savedModel(data, message =>
      this._askKernel(data.source, message, saved)
    );
    this._cleanup = renderCompare({ model: saved, el });
  }

  dispose(): void {
    this._cleanup?.();
    this._cleanup = null;
    super.dispose();
  }

  /** Series the output did not save, from the kernel that showed it (while it runs). */
  private _askKernel(
    source: string,
    message: { metric: string; runs: number[] },
    saved: ISavedModel
  ): void {
    const fail = () =>
      saved.emit('msg:custom', {
        type: 'series',
        metric: message.metric,
        data: {},
        failed: message.runs.map(String)
      });
    const kernel = this._kernel(this.node);
    if (!kernel || !source) {
      fail();
      return;
    }
    try {
      const comm = kernel.createComm(SERIES_TARGET);
      let answered = false;
      comm.onMsg = (msg: any) => {
        answered = true;
        saved.emit('msg:custom', msg.content.data);
      };
      comm.onClose = () => {
        if (!answered) {
          fail();
        }
      };
      comm.open({ source, metric: message.metric, runs: message.runs });
    } catch {
      fail();
    }
  }

  private _cleanup: (() => void) | null = null;
}

/** How a saved comparison finds its notebook's kernel: set by `outputsPlugin` (no kernel until then). */
let findKernel: KernelFinder = () => null;

/**
 * The factory of both saved forms, ahead of their HTML summary (text/html ranks 50). Registered as a
 * mime extension (mime.ts), so that every notebook has it from the start.
 */
export const savedOutputFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [RUN_MIME, COMPARE_MIME],
  defaultRank: 20,
  createRenderer: options =>
    new SavedOutput(options.mimeType, node => findKernel(node))
};

/**
 * The kernels of notebooks for saved comparisons, Vega for every panel of the page, and the theme
 * switch told to their charts (they draw again in the new colours).
 */
export const outputsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-tracker:outputs',
  description:
    'Lets saved comparisons ask their kernel for series, brings Vega for the live panels, tells charts about theme switches.',
  autoStart: true,
  optional: [IThemeManager],
  activate: (app: JupyterFrontEnd, themes: IThemeManager | null) => {
    provideVega();
    findKernel = notebookKernel(app);
    themes?.themeChanged.connect(() =>
      window.dispatchEvent(new Event(THEME_EVENT))
    );
  }
};
