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
  /** The card's colours: JupyterLab's theme (the card's own default follows the system's). */
  theme?: CardTheme;
}

export type CardTheme = 'light' | 'dark';

/** What the card page listens for (card.js): its colours, changed without reloading it. */
export const THEME_MESSAGE = 'jupyter-tracker-theme';

/** Fired on window when JupyterLab's theme has changed (outputs.ts): cards and charts follow. */
export const THEME_EVENT = 'jupyter-tracker-theme';

/** Light or dark, as JupyterLab's theme is now. */
export function labTheme(): CardTheme {
  return document.body.dataset.jpThemeLight === 'false' ? 'dark' : 'light';
}

/**
 * The card's HTML with its theme set on the root element, so its first paint is in the right colours.
 */
export function themedHtml(html: string, theme: CardTheme): string {
  return html.replace(/<html\b/i, `<html data-theme="${theme}"`);
}

/** Make the iframe element that shows a card. */
export function createCardFrame(options: ICardFrameOptions): HTMLIFrameElement {
  const iframe = document.createElement('iframe');
  iframe.className = 'jp-TrackerFrame';
  iframe.setAttribute('sandbox', SANDBOX_FLAGS);
  iframe.setAttribute('referrerpolicy', 'no-referrer');
  iframe.title = options.title ?? 'Run card';
  iframe.srcdoc = options.theme
    ? themedHtml(options.html, options.theme)
    : options.html;
  return iframe;
}

/** Tell a card shown in `iframe` to change its colours (it redraws its charts). */
export function setFrameTheme(
  iframe: HTMLIFrameElement,
  theme: CardTheme
): void {
  // The card runs in an opaque origin: '*' is the only target that reaches it; it carries no secret.
  iframe.contentWindow?.postMessage({ type: THEME_MESSAGE, theme }, '*');
}
