import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { createCardFrame } from './frame';

/** The mime type of a self-contained run card (a string of HTML). */
export const CARD_MIME_TYPE = 'application/vnd.jupyter-tracker.card+html';

/**
 * Renders a run card in notebooks and output areas, in a sandboxed iframe that
 * fits its content. Scripts (the charts) run only when the output is trusted.
 */
export class CardRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this.addClass('jp-TrackerCardOutput');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[this._mimeType];
    const html = typeof data === 'string' ? data : '';
    this._disposeFrame();
    this.node.replaceChildren();
    const { iframe, dispose } = createCardFrame({
      html,
      scripts: model.trusted,
      fitContent: true,
      title: 'Run card'
    });
    this._disposeFrame = dispose;
    this.node.appendChild(iframe);
    return Promise.resolve();
  }

  dispose(): void {
    this._disposeFrame();
    super.dispose();
  }

  private _mimeType: string;
  private _disposeFrame: () => void = () => undefined;
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  // Safe: untrusted cards render without scripts in an opaque-origin iframe.
  safe: true,
  mimeTypes: [CARD_MIME_TYPE],
  defaultRank: 40,
  createRenderer: options => new CardRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: 'jupyter-tracker:card-renderer',
  description: 'Renders jupyter-tracker run cards in notebook outputs.',
  rendererFactory,
  rank: 40,
  dataType: 'string'
};

export default extension;
