import type { IRun, IRunsReply } from '../api';
import {
  FetchRuns,
  FULL_EVERY_MS,
  IDLE_MS,
  LIVE_MS,
  MAX_BACKOFF_MS,
  RunsModel,
  UNSEEN_MS
} from '../model';
import { makeRun } from './runs';

/**
 * A server in memory: answers like `GET /jupyter-tracker/api/runs`, with only the runs changed
 * after `since` (its clock, in seconds) unless `since` is null.
 */
class FakeServer {
  calls: { db: string; since: number | null }[] = [];
  clock = 5000;
  failure: Error | null = null;

  put(run: IRun): void {
    this._runs.set(run.id, run);
    this._changed.set(run.id, this.clock);
  }
  remove(id: number): void {
    this._runs.delete(id);
  }

  fetch: FetchRuns = async (db, since) => {
    this.calls.push({ db, since });
    if (this.failure) {
      throw this.failure;
    }
    return this.reply(db, since);
  };

  reply(db: string, since: number | null): IRunsReply {
    const all = Array.from(this._runs.values());
    const reply: IRunsReply = {
      db: db || '.tracker/tracker.db',
      exists: true,
      now: this.clock,
      full: since === null,
      runs: all.filter(
        run => since === null || (this._changed.get(run.id) ?? 0) > since
      ),
      ids: all.map(run => run.id)
    };
    this.clock += 1;
    return reply;
  }

  private _runs = new Map<number, IRun>();
  private _changed = new Map<number, number>();
}

function setup(runs: IRun[] = [makeRun(1), makeRun(2), makeRun(3)]) {
  const server = new FakeServer();
  runs.forEach(run => server.put(run));
  const model = new RunsModel({ fetchRuns: server.fetch });
  let changes = 0;
  model.changed.connect(() => changes++);
  return { server, model, changes: () => changes };
}

describe('RunsModel without polling', () => {
  it('lists every run at first, newest first', async () => {
    const { server, model, changes } = setup([
      makeRun(1, { created: 10 }),
      makeRun(2, { created: 30 }),
      makeRun(3, { created: 30 }),
      makeRun(4, { created: 20 })
    ]);
    expect(model.loaded).toBe(false);
    await model.refresh();
    expect(server.calls).toEqual([{ db: '', since: null }]);
    expect(model.runs.map(run => run.id)).toEqual([3, 2, 4, 1]);
    expect(model.loaded).toBe(true);
    expect(model.loading).toBe(false);
    expect(model.resolvedDb).toBe('.tracker/tracker.db');
    expect(model.lastUpdate).not.toBeNull();
    expect(changes()).toBeGreaterThanOrEqual(2); // loading, then loaded
  });

  it('then asks only for changes since the last answer, and merges them', async () => {
    const { server, model } = setup();
    await model.refresh();
    const answeredAt = server.clock - 1;
    model.toggle(1, true);
    model.toggle(2, true);

    server.put(makeRun(2, { status: 'failed' }));
    server.put(makeRun(4, { name: 'new' }));
    server.remove(1);
    await model.refresh();

    expect(server.calls[1].since).toBe(answeredAt);
    expect(model.runs.map(run => run.id)).toEqual([4, 3, 2]);
    expect(model.get(2)?.status).toBe('failed');
    expect(model.get(4)?.name).toBe('new');
    // A deleted run leaves the list and the selection.
    expect(model.get(1)).toBeUndefined();
    expect(model.selected).toEqual([2]);
    expect(model.isSelected(1)).toBe(false);
  });

  it('asks for everything when told to, and every 30 s', async () => {
    const { server, model } = setup();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    try {
      await model.refresh();
      await model.refresh();
      await model.refresh(true);
      clock.mockReturnValue(1_000_000 + FULL_EVERY_MS + 1);
      await model.refresh();
      expect(server.calls.map(call => call.since === null)).toEqual([
        true,
        false,
        true,
        true
      ]);
    } finally {
      clock.mockRestore();
    }
  });

  it('shares one request between concurrent refreshes', async () => {
    const { server, model } = setup();
    await Promise.all([model.refresh(), model.refresh(), model.refresh()]);
    expect(server.calls).toHaveLength(1);
  });

  it('keeps the error of a failed request, never rejects, and starts over with a full listing', async () => {
    const { server, model } = setup();
    await model.refresh();
    server.failure = new Error('The Jupyter server cannot be reached.');
    await expect(model.refresh()).resolves.toBeUndefined();
    expect(model.error).toBe('The Jupyter server cannot be reached.');
    expect(model.runs).toHaveLength(3); // the last known runs stay
    expect(model.loading).toBe(false);

    server.failure = null;
    await model.refresh();
    expect(server.calls[2].since).toBeNull();
    expect(model.error).toBeNull();
  });

  it('follows the server clock', async () => {
    const { server, model } = setup();
    server.clock = Date.now() / 1000 + 3600;
    await model.refresh();
    expect(model.now() - Date.now() / 1000).toBeCloseTo(3600, 0);
  });

  it('knows whether a run is live', async () => {
    const { server, model } = setup();
    await model.refresh();
    expect(model.hasRunning).toBe(false);
    server.put(makeRun(5, { status: 'running' }));
    await model.refresh();
    expect(model.hasRunning).toBe(true);
  });

  it('selects and unselects runs, and tells', async () => {
    const { model, changes } = setup();
    await model.refresh();
    const before = changes();
    model.toggle(3);
    model.toggle(1);
    expect(model.selected).toEqual([3, 1]);
    model.toggle(3);
    expect(model.selected).toEqual([1]);
    model.toggle(1, true);
    expect(model.selected).toEqual([1]);
    model.clearSelection();
    expect(model.selected).toEqual([]);
    expect(changes() - before).toBe(5);
  });

  it('starts over when the database changes, ignoring answers about the previous one', async () => {
    const server = new FakeServer();
    server.put(makeRun(1));
    let answerOld: () => void = () => undefined;
    const fetchRuns: FetchRuns = (db, since) => {
      server.calls.push({ db, since });
      const reply = server.reply(db, since);
      if (db === '') {
        // The first database answers late.
        return new Promise(resolve => (answerOld = () => resolve(reply)));
      }
      return Promise.resolve({ ...reply, runs: [makeRun(7)], ids: [7] });
    };
    const model = new RunsModel({ fetchRuns });
    const first = model.refresh();
    model.toggle(1, true);

    model.db = 'other/tracker.db';
    expect(model.runs).toEqual([]);
    expect(model.selected).toEqual([]);
    expect(model.loaded).toBe(false);
    // The new database is asked at once, not after the previous answer.
    expect(server.calls).toEqual([
      { db: '', since: null },
      { db: 'other/tracker.db', since: null }
    ]);
    await model.refresh();
    answerOld();
    await first;
    expect(model.runs.map(run => run.id)).toEqual([7]);
    expect(model.resolvedDb).toBe('other/tracker.db');
  });
});

describe('RunsModel polling', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  /** Let timers and the promises they start run for `ms` of fake time. */
  const wait = (ms: number) => jest.advanceTimersByTimeAsync(ms);

  it('asks at once, then every 10 s while no run is live', async () => {
    const { server, model } = setup();
    model.start();
    model.start(); // a second start changes nothing
    await wait(0);
    expect(server.calls).toHaveLength(1);
    expect(model.pollInterval).toBe(IDLE_MS);
    await wait(IDLE_MS - 1);
    expect(server.calls).toHaveLength(1);
    await wait(1);
    expect(server.calls).toHaveLength(2);
    await wait(IDLE_MS);
    expect(server.calls).toHaveLength(3);
    model.dispose();
  });

  it('asks every 2 s while a run is live, every 30 s while the panel is closed', async () => {
    const { server, model } = setup([makeRun(1, { status: 'running' })]);
    let visible = true;
    model.isVisible = () => visible;
    model.start();
    await wait(0);
    expect(model.pollInterval).toBe(LIVE_MS);
    await wait(3 * LIVE_MS);
    expect(server.calls).toHaveLength(4);

    visible = false;
    await wait(LIVE_MS); // this tick learns that nobody looks
    expect(server.calls).toHaveLength(5);
    expect(model.pollInterval).toBe(UNSEEN_MS);
    await wait(UNSEEN_MS - 1);
    expect(server.calls).toHaveLength(5);
    await wait(1);
    expect(server.calls).toHaveLength(6);

    // The run ends while the panel is open again.
    visible = true;
    server.put(makeRun(1, { status: 'finished' }));
    await wait(UNSEEN_MS);
    expect(model.get(1)?.status).toBe('finished');
    expect(model.pollInterval).toBe(IDLE_MS);
    model.dispose();
  });

  it('backs off while the server fails, and recovers', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5); // the poll's jitter
    const server = new FakeServer();
    server.put(makeRun(1));
    const times: number[] = [];
    const model = new RunsModel({
      fetchRuns: (db, since) => {
        times.push(Date.now());
        return server.fetch(db, since);
      }
    });
    model.start();
    await wait(0);
    server.failure = new Error('down');
    await wait(10 * MAX_BACKOFF_MS);
    expect(model.error).toBe('down');
    const gaps = times.slice(1).map((time, i) => time - times[i]);
    // 10 s, then growing delays up to the cap: not a request every 10 s.
    expect(gaps[0]).toBe(IDLE_MS);
    expect(gaps[1]).toBeGreaterThan(IDLE_MS);
    expect(gaps[2]).toBeGreaterThan(gaps[1]);
    expect(Math.max(...gaps)).toBe(MAX_BACKOFF_MS);
    expect(times.length).toBeLessThan(15);

    server.failure = null;
    await wait(MAX_BACKOFF_MS);
    expect(model.error).toBeNull();
    const recovered = times.length;
    await wait(IDLE_MS);
    expect(times.length).toBe(recovered + 1);
    model.dispose();
  });

  it('counts the next tick from a manual refresh, which waits for the answer', async () => {
    const { server, model } = setup();
    model.start();
    await wait(4000);
    expect(server.calls).toHaveLength(1);

    server.put(makeRun(8));
    const refreshed = model.refresh(true);
    await wait(0);
    await refreshed;
    expect(server.calls).toHaveLength(2);
    expect(server.calls[1].since).toBeNull();
    expect(model.get(8)).toBeDefined();

    await wait(IDLE_MS - 1); // not at the old schedule (6 s after the refresh)
    expect(server.calls).toHaveLength(2);
    await wait(1);
    expect(server.calls).toHaveLength(3);
    model.dispose();
  });

  it('stops when disposed', async () => {
    const { server, model } = setup();
    model.start();
    await wait(0);
    model.dispose();
    expect(model.isDisposed).toBe(true);
    await wait(5 * IDLE_MS);
    expect(server.calls).toHaveLength(1);
    await expect(model.refresh()).resolves.toBeUndefined();
  });
});

describe('RunsModel stores and edits', () => {
  it('lists the stores, keeps the last list when the server fails, and tells', async () => {
    let fail = false;
    const stores = ['.tracker/tracker.db', 'a/.tracker/tracker.db'];
    const model = new RunsModel({
      fetchRuns: new FakeServer().fetch,
      fetchStores: async () => {
        if (fail) {
          throw new Error('down');
        }
        return { stores, default: stores[0], truncated: false };
      }
    });
    let changes = 0;
    model.changed.connect(() => changes++);
    expect(model.stores).toEqual([]);
    const reply = await model.loadStores();
    expect(reply?.default).toBe('.tracker/tracker.db');
    expect(model.stores).toEqual(stores);
    expect(changes).toBe(1);
    fail = true;
    await expect(model.loadStores()).resolves.toBeNull();
    expect(model.stores).toEqual(stores);
  });

  it('has no stores to list without a way to ask', async () => {
    const { model } = setup();
    await expect(model.loadStores()).resolves.toBeNull();
    expect(model.stores).toEqual([]);
  });

  it('shows an edited run at once, unless another store is shown by then', async () => {
    const { model, changes } = setup();
    await model.refresh();
    const before = changes();
    model.applyEdit('', makeRun(2, { name: 'renamed', tags: ['best'] }));
    expect(model.get(2)?.name).toBe('renamed');
    expect(model.get(2)?.tags).toEqual(['best']);
    expect(changes() - before).toBe(1);

    model.db = 'other/.tracker/tracker.db';
    model.applyEdit('', makeRun(9, { name: 'late' }));
    expect(model.get(9)).toBeUndefined();
  });
});
