import {
  allTags,
  filterRuns,
  groupByProject,
  isFiltered,
  liveDuration,
  matchesText,
  NO_FILTERS,
  searchTerms
} from '../filtering';
import { makeRun } from './runs';

const baseline = makeRun(1, {
  name: 'baseline',
  project: 'mnist',
  tags: ['cnn', 'baseline'],
  params: { lr: 0.01, optimizer: 'adam' },
  metrics: {
    loss: { last: 0.1, min: 0.1, max: 2.3, last_step: 59, count: 60 }
  },
  notebook: 'train.ipynb'
});
const wide = makeRun(2, {
  name: 'wide-net',
  project: 'mnist',
  status: 'failed',
  tags: ['cnn'],
  params: { lr: 0.1 }
});
const vit = makeRun(3, {
  name: 'vit-small',
  project: 'cifar10',
  status: 'running',
  tags: ['vit'],
  description: 'Patch size 4'
});
// Newest first, as the model lists them.
const runs = [vit, wide, baseline];

describe('matchesText', () => {
  it('matches everything without terms', () => {
    expect(runs.every(run => matchesText(run, []))).toBe(true);
  });

  it('searches names, projects, #ids, statuses, tags, params, metric keys...', () => {
    const find = (text: string) =>
      runs.filter(run => matchesText(run, searchTerms(text))).map(r => r.id);
    expect(find('wide')).toEqual([2]);
    expect(find('MNIST')).toEqual([2, 1]);
    expect(find('#3')).toEqual([3]);
    expect(find('failed')).toEqual([2]);
    expect(find('vit')).toEqual([3]);
    expect(find('lr=0.0')).toEqual([1]);
    expect(find('optimizer=adam')).toEqual([1]);
    expect(find('loss')).toEqual([1]);
    expect(find('train.ipynb')).toEqual([1]);
    expect(find('patch size')).toEqual([3]);
  });

  it('needs every term', () => {
    const terms = searchTerms('  cnn   lr=0.1 ');
    expect(terms).toEqual(['cnn', 'lr=0.1']);
    expect(runs.filter(run => matchesText(run, terms))).toEqual([wide]);
  });
});

describe('filterRuns', () => {
  it('lets everything through without filters', () => {
    const result = filterRuns(runs, NO_FILTERS);
    expect(result.visible).toEqual(runs);
    expect(result.matching).toEqual(runs);
    expect(result.counts).toEqual({ running: 1, failed: 1, finished: 1 });
    expect(isFiltered(NO_FILTERS)).toBe(false);
  });

  it('counts statuses after the text and tag filters, before the status filter', () => {
    const filters = { text: '', tag: 'cnn', status: 'failed' };
    const result = filterRuns(runs, filters);
    expect(result.matching).toEqual([wide, baseline]);
    expect(result.counts).toEqual({ failed: 1, finished: 1 });
    expect(result.visible).toEqual([wide]);
    expect(isFiltered(filters)).toBe(true);
  });

  it('treats a blank search as no filter', () => {
    expect(isFiltered({ ...NO_FILTERS, text: '   ' })).toBe(false);
    expect(
      filterRuns(runs, { ...NO_FILTERS, text: 'nothing' }).visible
    ).toEqual([]);
  });
});

describe('groupByProject', () => {
  it('orders projects by their first run and keeps the order of runs', () => {
    const groups = groupByProject(runs);
    expect(Array.from(groups.keys())).toEqual(['cifar10', 'mnist']);
    expect(groups.get('mnist')).toEqual([wide, baseline]);
  });
});

describe('allTags', () => {
  it('lists each tag once, sorted', () => {
    expect(allTags(runs)).toEqual(['baseline', 'cnn', 'vit']);
  });
});

describe('liveDuration', () => {
  it('counts a running run from its start, and keeps the stored duration otherwise', () => {
    expect(liveDuration(vit, vit.started! + 42)).toBe(42);
    expect(liveDuration(vit, vit.started! - 5)).toBe(0);
    expect(liveDuration(baseline, 99999)).toBe(100);
    expect(
      liveDuration(
        makeRun(9, { status: 'running', started: null, duration: null }),
        5
      )
    ).toBe(null);
  });
});
