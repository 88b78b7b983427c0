import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { fetchRuns, IRun } from './api';

/** Poll delays: fast while a run is live, slower when idle, slowest in a hidden page. */
const LIVE_MS = 2000;
const IDLE_MS = 10000;
const HIDDEN_MS = 30000;
/** A full listing now and then picks up edits that do not touch a run's timestamps. */
const FULL_EVERY_MS = 30000;

export const STATUSES = [
  'running',
  'finished',
  'failed',
  'interrupted',
  'crashed'
] as const;

/**
 * The runs of one database, kept fresh by polling the server extension.
 *
 * After the first full listing only runs changed since the previous answer are
 * fetched (`since`), and never more often than every 2 s.
 */
export class RunsModel implements IDisposable {
  constructor(db = '') {
    this._db = db;
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
  /** Fetch changes (or everything when `full`); concurrent calls share one request. */
  refresh(full = false): Promise<void> {
    if (this._pending) {
      return this._pending;
    }
    this._pending = this._fetch(full).finally(() => {
      this._pending = null;
    });
    return this._pending;
  }

  /** Start polling; the delay adapts to whether a run is live. */
  start(): void {
    if (this._started || this._disposed) {
      return;
    }
    this._started = true;
    void this._tick();
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    window.clearTimeout(this._timer);
    Signal.clearData(this);
  }

  private async _tick(): Promise<void> {
    await this.refresh();
    if (this._disposed) {
      return;
    }
    let delay = this.hasRunning ? LIVE_MS : IDLE_MS;
    if (document.hidden || !this.isVisible()) {
      delay = Math.max(delay, HIDDEN_MS);
    }
    window.clearTimeout(this._timer);
    this._timer = window.setTimeout(() => void this._tick(), delay);
  }

  private async _fetch(full: boolean): Promise<void> {
    const db = this._db;
    const wantFull =
      full ||
      this._since === null ||
      Date.now() - this._lastFull > FULL_EVERY_MS;
    this._loading = true;
    this._changed.emit();
    try {
      const reply = await fetchRuns(db, wantFull ? null : this._since);
      if (db !== this._db) {
        return; // The database changed while this request was in flight.
      }
      if (reply.full) {
        this._runs.clear();
        this._lastFull = Date.now();
      }
      for (const run of reply.runs) {
        this._runs.set(run.id, run);
      }
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
    } catch (error) {
      if (db === this._db) {
        this._error = (error as Error).message;
        // Start over with a full listing once the server answers again.
        this._since = null;
      }
    } finally {
      this._loading = false;
      if (!this._disposed) {
        this._changed.emit();
      }
    }
  }

  private _db: string;
  private _resolvedDb = '';
  private _exists = true;
  private _error: string | null = null;
  private _loading = false;
  private _loaded = false;
  private _lastUpdate: number | null = null;
  private _clockOffset = 0;
  private _since: number | null = null;
  private _lastFull = 0;
  private _runs = new Map<number, IRun>();
  private _selected = new Set<number>();
  private _pending: Promise<void> | null = null;
  private _timer = 0;
  private _started = false;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}
