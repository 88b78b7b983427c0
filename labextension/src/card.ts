import { Widget } from '@lumino/widgets';

import { TrackerApiError } from './api';
import { createCardFrame, labTheme, setFrameTheme, THEME_EVENT } from './frame';

/** What reopens a card tab after a page reload. */
export interface ICardArgs {
  db: string;
  /** A run id, uuid or name: a run card. */
  run?: string;
  /** Run ids: a comparison. */
  ids?: number[];
  label?: string;
}

export interface ICardPanelOptions {
  args: ICardArgs;
  load: () => Promise<string>;
}

/**
 * A main-area view of a card: loads the self-contained HTML from the server and
 * shows it in a sandboxed iframe, with loading and error states.
 */
export class CardPanel extends Widget {
  constructor(options: ICardPanelOptions) {
    super();
    this.addClass('jp-TrackerCard');
    this.args = options.args;
    this._load = options.load;
    this._status = document.createElement('div');
    this._status.className = 'jp-TrackerCard-status';
    this.node.appendChild(this._status);
    window.addEventListener(THEME_EVENT, this._onTheme);
    void this.reload();
  }

  dispose(): void {
    window.removeEventListener(THEME_EVENT, this._onTheme);
    super.dispose();
  }

  readonly args: ICardArgs;

  /** The HTML shown now ('' while loading or after an error). */
  get html(): string {
    return this._html;
  }

  /** Fetch the card again (the run may have progressed). */
  async reload(): Promise<void> {
    this._showStatus('loading', 'Loading card…');
    try {
      const html = await this._load();
      if (this.isDisposed) {
        return;
      }
      this._html = html;
      this._frame?.remove();
      const iframe = createCardFrame({
        html,
        title: this.title.label,
        theme: labTheme()
      });
      // A switch while the card was loading: it missed the message.
      iframe.addEventListener('load', this._onTheme);
      this._frame = iframe;
      this.node.appendChild(iframe);
      this._status.hidden = true;
    } catch (error) {
      this._html = '';
      this._frame?.remove();
      this._frame = null;
      const status = error instanceof TrackerApiError ? error.status : 0;
      const hint =
        status === 501
          ? 'The HTML card needs the export part of jupyter-tracker, which is not installed in the server environment.'
          : status === 404
            ? 'The run may have been deleted.'
            : '';
      this._showStatus('error', (error as Error).message, hint);
    }
  }

  /** Save the card as a standalone HTML file. */
  download(filename: string): void {
    if (!this._html) {
      return;
    }
    const url = URL.createObjectURL(
      new Blob([this._html], { type: 'text/html' })
    );
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  private _showStatus(kind: string, message: string, hint = ''): void {
    this._status.hidden = false;
    this._status.classList.toggle(
      'jp-mod-overlay',
      kind === 'loading' && this._frame !== null
    );
    this._status.dataset.kind = kind;
    this._status.replaceChildren();
    if (kind === 'loading') {
      const spinner = document.createElement('div');
      spinner.className = 'jp-TrackerCard-spinner';
      this._status.appendChild(spinner);
    }
    const text = document.createElement('div');
    text.className = 'jp-TrackerCard-message';
    text.textContent = message;
    this._status.appendChild(text);
    if (hint) {
      const more = document.createElement('div');
      more.className = 'jp-TrackerCard-hint';
      more.textContent = hint;
      this._status.appendChild(more);
    }
  }

  /** JupyterLab's theme changed: the card follows, without reloading. */
  private _onTheme = (): void => {
    if (this._frame) {
      setFrameTheme(this._frame, labTheme());
    }
  };

  private _load: () => Promise<string>;
  private _html = '';
  private _frame: HTMLIFrameElement | null = null;
  private _status: HTMLDivElement;
}
