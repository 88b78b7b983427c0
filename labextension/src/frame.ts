/**
 * Sandboxed iframes for self-contained card HTML.
 *
 * Cards are shown through `srcdoc` in an iframe without `allow-same-origin`: even
 * with scripts allowed (for the charts), the card runs in an opaque origin and can
 * reach neither JupyterLab nor the server's cookies.
 */

/** Scripts (the charts), links and downloads; never the parent's origin. */
export const SANDBOX_FLAGS =
  'allow-scripts allow-popups allow-popups-to-escape-sandbox allow-downloads';

export interface ICardFrameOptions {
  html: string;
  title?: string;
}

/** Make the iframe element that shows a card. */
export function createCardFrame(options: ICardFrameOptions): HTMLIFrameElement {
  const iframe = document.createElement('iframe');
  iframe.className = 'jp-TrackerFrame';
  iframe.setAttribute('sandbox', SANDBOX_FLAGS);
  iframe.setAttribute('referrerpolicy', 'no-referrer');
  iframe.title = options.title ?? 'Run card';
  iframe.srcdoc = options.html;
  return iframe;
}
