import { searchIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { IRunFilters } from '../filtering';
import { StatusChips } from './StatusChips';

export interface IRunFiltersProps {
  filters: IRunFilters;
  onChange: (filters: IRunFilters) => void;
  /** The tags to offer (no tag menu when empty). */
  tags: string[];
  /** Runs per status, and in all, after the text and tag filters. */
  counts: Record<string, number>;
  total: number;
}

/** The search box, the tag menu and the status chips. */
export function RunFilters({
  filters,
  onChange,
  tags,
  counts,
  total
}: IRunFiltersProps): JSX.Element {
  const set = (change: Partial<IRunFilters>) =>
    onChange({ ...filters, ...change });
  return (
    <div className="jp-TrackerRuns-filters">
      <div className="jp-TrackerRuns-searchRow">
        <label className="jp-TrackerRuns-search">
          <searchIcon.react tag="span" className="jp-TrackerRuns-searchIcon" />
          <input
            type="search"
            className="jp-TrackerRuns-searchInput"
            placeholder="Filter runs…"
            aria-label="Filter runs"
            value={filters.text}
            onChange={event => set({ text: event.target.value })}
          />
        </label>
        {tags.length > 0 && (
          <select
            className="jp-TrackerRuns-tagSelect"
            aria-label="Filter by tag"
            value={filters.tag}
            onChange={event => set({ tag: event.target.value })}
          >
            <option value="">All tags</option>
            {tags.map(tag => (
              <option key={tag} value={tag}>
                {tag}
              </option>
            ))}
          </select>
        )}
      </div>
      <StatusChips
        status={filters.status}
        counts={counts}
        total={total}
        onChange={status => set({ status })}
      />
    </div>
  );
}
