import { nameProblem, parseTags, tagChanges } from '../edits';
import {
  pickStore,
  ROOT_STORE,
  shortStoreLabel,
  storeLabel,
  storeOptions
} from '../stores';

const A = 'notebooks/a/.tracker/tracker.db';
const B = 'notebooks/b/.tracker/tracker.db';

describe('choosing a store', () => {
  it('names a store by its folder under the server root', () => {
    expect(storeLabel(ROOT_STORE)).toBe('/');
    expect(storeLabel('')).toBe('/');
    expect(storeLabel(A)).toBe('/notebooks/a');
    expect(storeLabel('exp/runs.db')).toBe('/exp/runs.db');
  });

  it('shortens a long folder keeping its last folders, or the start of a long last one', () => {
    expect(shortStoreLabel(A, 30)).toBe('/notebooks/a');
    expect(
      shortStoreLabel('team/projects/mnist/notebooks/.tracker/tracker.db', 20)
    ).toBe('…/mnist/notebooks');
    expect(
      shortStoreLabel(
        'exp/2024-06-image-classification-sweeps/.tracker/tracker.db',
        20
      )
    ).toBe('…/2024-06-image-cla…');
    for (const max of [5, 12, 20, 30]) {
      const short = shortStoreLabel(
        'a/bb/ccc/dddd/eeeee/ffffff-gggggg/.tracker/tracker.db',
        max
      );
      expect(short.length).toBeLessThanOrEqual(max);
    }
  });

  it('keeps the remembered store while it is there, else takes the default', () => {
    const reply = {
      stores: [ROOT_STORE, A, B],
      default: ROOT_STORE,
      truncated: false
    };
    expect(pickStore(reply, B)).toBe(B);
    expect(pickStore(reply, null)).toBe(ROOT_STORE);
    expect(pickStore(reply, '')).toBe(ROOT_STORE);
    expect(pickStore(reply, 'gone/.tracker/tracker.db')).toBe(ROOT_STORE);
    expect(
      pickStore({ stores: [A, B], default: A, truncated: false }, null)
    ).toBe(A);
  });

  it('keeps the remembered store when the search stopped early or failed', () => {
    const deep = 'very/deep/.tracker/tracker.db';
    expect(pickStore({ stores: [A], default: A, truncated: true }, deep)).toBe(
      deep
    );
    expect(pickStore(null, deep)).toBe(deep);
    expect(pickStore(null, undefined)).toBe('');
  });

  it('offers the store shown even when the search did not find it', () => {
    expect(storeOptions([ROOT_STORE, A], A)).toEqual([ROOT_STORE, A]);
    expect(storeOptions([A, B], '')).toEqual([ROOT_STORE, A, B]);
    expect(storeOptions([], '')).toEqual([ROOT_STORE]);
  });
});

describe('editing a run', () => {
  it('checks a new name as the server will', () => {
    expect(nameProblem('  baseline-2 ')).toBeNull();
    expect(nameProblem('   ')).toMatch(/needs a name/);
    expect(nameProblem('x'.repeat(250))).toBeNull();
    expect(nameProblem('x'.repeat(251))).toMatch(/at most 250/);
    expect(nameProblem('123')).toMatch(/run id/);
  });

  it('reads tags separated by commas', () => {
    expect(parseTags(' cnn, first try ,,cnn,')).toEqual(['cnn', 'first try']);
    expect(parseTags('')).toEqual([]);
  });

  it('sends only what changed', () => {
    expect(tagChanges(['a', 'b'], ['b', 'c'])).toEqual({
      add: ['c'],
      remove: ['a']
    });
    expect(tagChanges(['a'], ['a'])).toEqual({ add: [], remove: [] });
  });
});
