import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import type { IRun, IRunsReply, IStoresReply } from './api';

/** Poll intervals: fast while a run is live, slower when idle, slowest when the panel is closed. */
export const LIVE_MS = 2000;
export const IDLE_MS = 10000;
export const UNSEEN_MS = 30000;
/** Failed requests back off (randomly, growing threefold) up to this. */
export const MAX_BACKOFF_MS = 60000;
/** A full listing now and then picks up edits that do not touch a run's timestamps. */
export const FULL_EVERY_MS = 30000;

export const STATUSES = [
  'running',
  'finished',
  'failed',
  'interrupted',
  'crashed'
] as const;

/** How the model asks the server for runs (`fetchRuns` of ./api, or a fake in tests). */
export type FetchRuns = (
  db: string,
  since: number | null
) => Promise<IRunsReply>;

/** How the model asks the server for the stores under its root (`fetchStores` of ./api). */
export type FetchStores = () => Promise<IStoresReply>;

/**
 * The runs of one database, kept fresh by a `Poll` of the server extension.
 *
 * After the first full listing only runs changed since the previous answer are
 * fetched (`since`). The poll ticks every 2 s while a run is live, every 10 s
 * otherwise, every 30 s while nobody looks at the runs panel; it stands by while
 * the browser tab is hidden and backs off when the server does not answer.
 */
export class RunsModel implements IDisposable {
  constructor(options: RunsModel.IOptions) {
    this._db = options.db ?? '';
    this._fetchRuns = options.fetchRuns;
    this._fetchStores = options.fetchStores ?? null;
    this._poll = new Poll({
      name: 'jupyter-tracker:runs',
      auto: false,
      factory: () => this._pollOnce(),
      frequency: { interval: IDLE_MS, backoff: true, max: MAX_BACKOFF_MS },
      standby: 'when-hidden'
    });
  }

  /** Whether anyone looks at the runs; polling slows down when not. */
  isVisible: () => boolean = () => true;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The database path relative to the server root; '' for the default. */
  get db(): string {
    return this._db;
  }
  set db(value: string) {
    if (value === this._db) {
      return;
    }
    this._db = value;
    this._runs.clear();
    this._selected.clear();
    this._since = null;
    this._resolvedDb = '';
    this._exists = true;
    this._error = null;
    this._loaded = false;
    this._changed.emit();
    void this.refresh(true);
  }

  /** The database path the server resolved (for display). */
  get resolvedDb(): string {
    return this._resolvedDb;
  }
  get exists(): boolean {
    return this._exists;
  }
  get error(): string | null {
    return this._error;
  }
  get loading(): boolean {
    return this._loading;
  }
  get loaded(): boolean {
    return this._loaded;
  }
  get lastUpdate(): number | null {
    return this._lastUpdate;
  }
  /** The server's clock now, in seconds (run times come from that clock). */
  now(): number {
    return Date.now() / 1000 + this._clockOffset;
  }

  /** Runs, newest first. */
  get runs(): IRun[] {
    return Array.from(this._runs.values()).sort(
      (a, b) => b.created - a.created || b.id - a.id
    );
  }

  get hasRunning(): boolean {
    for (const run of this._runs.values()) {
      if (run.status === 'running') {
        return true;
      }
    }
    return false;
  }

  get(id: number): IRun | undefined {
    return this._runs.get(id);
  }

  // -- stores ------------------------------------------------------------------------------
  /** The stores under the server root (root-relative), as last listed; [] until then. */
  get stores(): string[] {
    return this._stores;
  }

  /**
   * List the stores under the server root again; resolves with the answer, or null when the server
   * did not give one (the list stays as it was). Never rejects.
   */
  async loadStores(): Promise<IStoresReply | null> {
    if (!this._fetchStores || this._disposed) {
      return null;
    }
    try {
      const reply = await this._fetchStores();
      if (!this._disposed) {
        this._stores = reply.stores;
        this._changed.emit();
      }
      return reply;
    } catch {
      return null;
    }
  }

  /** Show a run as an edit of `db` answered it, at once (edits leave a run's times as they were,
   * so the next incremental listing would not bring it); ignored once another database is shown. */
  applyEdit(db: string, run: IRun): void {
    if (db !== this._db || this._disposed) {
      return;
    }
    this._runs.set(run.id, run);
    this._changed.emit();
  }

  // -- selection ---------------------------------------------------------------------------
  get selected(): number[] {
    return Array.from(this._selected).filter(id => this._runs.has(id));
  }
  isSelected(id: number): boolean {
    return this._selected.has(id);
  }
  toggle(id: number, on?: boolean): void {
    const select = on ?? !this._selected.has(id);
    if (select) {
      this._selected.add(id);
    } else {
      this._selected.delete(id);
    }
    this._changed.emit();
  }
  clearSelection(): void {
    this._selected.clear();
    this._changed.emit();
  }

  // -- fetching ----------------------------------------------------------------------------
  /** The delay of the next poll tick after a successful request, in ms. */
  get pollInterval(): number {
    return this._poll.frequency.interval;
  }

  /**
   * Fetch changes now (everything when `full`) and resolve once the answer is in; never rejects
   * (a failure shows in `error`). Once polling, this is a poll refresh: the next tick counts from now.
   */
  async refresh(full = false): Promise<void> {
    this._fullNext = this._fullNext || full;
    if (this._poll.isDisposed) {
      return;
    }
    if (this._poll.state.phase === 'constructed') {
      return this._request().catch(() => undefined);
    }
    await this._poll.refresh();
    await this._poll.tick.catch(() => undefined);
  }

  /** Start polling (the first request goes out at once); calling it again does nothing. */
  start(): void {
    void this._poll.start();
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._poll.dispose();
    Signal.clearData(this);
  }

  /** One poll tick: a request, then the delay until the next one. Rejects so the poll backs off. */
  private async _pollOnce(): Promise<void> {
    try {
      await this._request();
    } finally {
      const interval = this.isVisible()
        ? this.hasRunning
          ? LIVE_MS
          : IDLE_MS
        : UNSEEN_MS;
      this._poll.frequency = { ...this._poll.frequency, interval };
    }
  }

  /** Concurrent requests for the same database share one. */
  private _request(): Promise<void> {
    if (!this._pending || this._pendingDb !== this._db) {
      const pending = this._fetch().finally(() => {
        if (this._pending === pending) {
          this._pending = null;
        }
      });
      this._pending = pending;
      this._pendingDb = this._db;
    }
    return this._pending;
  }

  private async _fetch(): Promise<void> {
    const db = this._db;
    const full =
      this._fullNext ||
      this._since === null ||
      Date.now() - this._lastFull > FULL_EVERY_MS;
    this._fullNext = false;
    this._loading = true;
    this._changed.emit();
    try {
      const reply = await this._fetchRuns(db, full ? null : this._since);
      if (db === this._db && !this._disposed) {
        this._apply(reply);
      }
    } catch (error) {
      if (db === this._db) {
        this._error = (error as Error).message;
        // Start over with a full listing once the server answers again.
        this._since = null;
      }
      throw error;
    } finally {
      this._loading = false;
      if (!this._disposed) {
        this._changed.emit();
      }
    }
  }

  /** Merge an answer: a full listing replaces the runs, an incremental one updates them. */
  private _apply(reply: IRunsReply): void {
    if (reply.full) {
      this._runs.clear();
      this._lastFull = Date.now();
    }
    for (const run of reply.runs) {
      this._runs.set(run.id, run);
    }
    // Ids missing from the answer were deleted.
    const alive = new Set(reply.ids);
    for (const id of Array.from(this._runs.keys())) {
      if (!alive.has(id)) {
        this._runs.delete(id);
        this._selected.delete(id);
      }
    }
    this._since = reply.now;
    this._clockOffset = reply.now - Date.now() / 1000;
    this._resolvedDb = reply.db;
    this._exists = reply.exists;
    this._error = null;
    this._loaded = true;
    this._lastUpdate = Date.now();
  }

  private _db: string;
  private _fetchRuns: FetchRuns;
  private _fetchStores: FetchStores | null;
  private _stores: string[] = [];
  private _poll: Poll<void, unknown, 'standby'>;
  private _resolvedDb = '';
  private _exists = true;
  private _error: string | null = null;
  private _loading = false;
  private _loaded = false;
  private _lastUpdate: number | null = null;
  private _clockOffset = 0;
  private _since: number | null = null;
  private _lastFull = 0;
  private _fullNext = false;
  private _runs = new Map<number, IRun>();
  private _selected = new Set<number>();
  private _pending: Promise<void> | null = null;
  private _pendingDb = '';
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}

export namespace RunsModel {
  export interface IOptions {
    /** How to ask the server for runs. */
    fetchRuns: FetchRuns;
    /** How to ask the server for the stores under its root (no chooser without it). */
    fetchStores?: FetchStores;
    /** The database path relative to the server root; '' (the default) for the default. */
    db?: string;
  }
}
