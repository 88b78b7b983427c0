/**
 * Sandboxed iframes for self-contained card HTML.
 *
 * Cards are shown through `srcdoc` in an iframe without `allow-same-origin`: even
 * with scripts allowed (for the charts), the card runs in an opaque origin and can
 * reach neither JupyterLab nor the server's cookies.
 */

const SIZE_MESSAGE = 'jupyter-tracker:card-size';

// Posts the document's height to the parent so an output iframe can fit its content.
const SIZE_SCRIPT = `<script>(function () {
  var last = 0;
  function post() {
    var h = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (Math.abs(h - last) > 1) {
      last = h;
      parent.postMessage({ type: '${SIZE_MESSAGE}', height: h }, '*');
    }
  }
  addEventListener('load', post);
  if (window.ResizeObserver) { new ResizeObserver(post).observe(document.body || document.documentElement); }
  post();
})();</script>`;

/** Sandbox flags: scripts only where the HTML is trusted. */
export function sandboxFlags(scripts: boolean): string {
  return scripts
    ? 'allow-scripts allow-popups allow-popups-to-escape-sandbox allow-downloads'
    : 'allow-popups allow-popups-to-escape-sandbox';
}

export interface ICardFrameOptions {
  html: string;
  /** Run the card's scripts (charts); false shows the static content only. */
  scripts: boolean;
  /** Grow the iframe with its content (notebook outputs) instead of filling the parent. */
  fitContent: boolean;
  title?: string;
}

/** Make the iframe element; when `fitContent`, call the returned `dispose` on removal. */
export function createCardFrame(options: ICardFrameOptions): {
  iframe: HTMLIFrameElement;
  dispose: () => void;
} {
  const iframe = document.createElement('iframe');
  iframe.className = 'jp-TrackerFrame';
  iframe.setAttribute('sandbox', sandboxFlags(options.scripts));
  iframe.setAttribute('referrerpolicy', 'no-referrer');
  iframe.title = options.title ?? 'Run card';
  const fit = options.fitContent && options.scripts;
  iframe.srcdoc = fit ? injectSizeScript(options.html) : options.html;
  if (!fit) {
    return { iframe, dispose: () => undefined };
  }
  iframe.classList.add('jp-mod-fit');
  const onMessage = (event: MessageEvent) => {
    if (
      event.source === iframe.contentWindow &&
      event.data &&
      event.data.type === SIZE_MESSAGE &&
      typeof event.data.height === 'number'
    ) {
      // Bounded: a card sized in viewport units must not grow without end.
      const height = Math.min(Math.max(event.data.height, 80), 8000);
      iframe.style.height = `${height + 2}px`;
    }
  };
  window.addEventListener('message', onMessage);
  return {
    iframe,
    dispose: () => window.removeEventListener('message', onMessage)
  };
}

function injectSizeScript(html: string): string {
  const index = html.toLowerCase().lastIndexOf('</body>');
  return index < 0
    ? html + SIZE_SCRIPT
    : html.slice(0, index) + SIZE_SCRIPT + html.slice(index);
}
