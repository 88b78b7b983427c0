/** Filtering and grouping of the runs the sidebar lists: pure functions of the runs. */

import type { IRun } from './api';
import { formatParam } from './format';

/** What the sidebar's filters hold ('' for "any"). */
export interface IRunFilters {
  text: string;
  status: string;
  tag: string;
}

export const NO_FILTERS: IRunFilters = { text: '', status: '', tag: '' };

/** What the filters let through, and the counts shown on the status chips. */
export interface IFilteredRuns {
  /** Runs matching the text and tag filters, whatever their status. */
  matching: IRun[];
  /** How many of `matching` have each status. */
  counts: Record<string, number>;
  /** Runs matching every filter, in the order given. */
  visible: IRun[];
}

/** The lowercase whitespace-separated terms of a search text. */
export function searchTerms(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter(Boolean);
}

/** Every term must occur in the run's searchable text (name, project, #id, params as k=v...). */
export function matchesText(run: IRun, terms: string[]): boolean {
  if (!terms.length) {
    return true;
  }
  const haystack = [
    run.name,
    run.project,
    `#${run.id}`,
    run.status,
    run.description ?? '',
    run.notebook ?? '',
    ...run.tags,
    ...Object.entries(run.params).map(([k, v]) => `${k}=${formatParam(v)}`),
    ...Object.keys(run.metrics)
  ]
    .join('\n')
    .toLowerCase();
  return terms.every(term => haystack.includes(term));
}

export function isFiltered(filters: IRunFilters): boolean {
  return !!(searchTerms(filters.text).length || filters.status || filters.tag);
}

export function filterRuns(runs: IRun[], filters: IRunFilters): IFilteredRuns {
  const terms = searchTerms(filters.text);
  const matching = runs.filter(
    run =>
      matchesText(run, terms) &&
      (!filters.tag || run.tags.includes(filters.tag))
  );
  const counts: Record<string, number> = {};
  for (const run of matching) {
    counts[run.status] = (counts[run.status] ?? 0) + 1;
  }
  const visible = matching.filter(
    run => !filters.status || run.status === filters.status
  );
  return { matching, counts, visible };
}

/** Runs by project, projects in the order of their first run (newest first for sorted runs). */
export function groupByProject(runs: IRun[]): Map<string, IRun[]> {
  const groups = new Map<string, IRun[]>();
  for (const run of runs) {
    const list = groups.get(run.project) ?? [];
    list.push(run);
    groups.set(run.project, list);
  }
  return groups;
}

/** Every tag of the runs, sorted. */
export function allTags(runs: IRun[]): string[] {
  const tags = new Set<string>();
  runs.forEach(run => run.tags.forEach(tag => tags.add(tag)));
  return Array.from(tags).sort();
}

/** A live run's duration grows with the clock; an ended run's is stored. */
export function liveDuration(run: IRun, now: number): number | null {
  if (run.status === 'running' && run.started) {
    return Math.max(0, now - run.started);
  }
  return run.duration;
}
