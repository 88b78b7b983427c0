import React from 'react';

import { STATUSES } from '../model';

export interface IStatusChipsProps {
  /** The chosen status; '' for all. */
  status: string;
  /** Runs per status (after the text and tag filters). */
  counts: Record<string, number>;
  /** Runs of every status (after the text and tag filters). */
  total: number;
  onChange: (status: string) => void;
}

/** "All" and one chip per status that has runs: a radio group; clicking the chosen chip clears it. */
export function StatusChips({
  status,
  counts,
  total,
  onChange
}: IStatusChipsProps): JSX.Element {
  return (
    <div className="jp-TrackerRuns-chips" role="radiogroup" aria-label="Status">
      <button
        className={`jp-TrackerChip ${status ? '' : 'jp-mod-active'}`}
        role="radio"
        aria-checked={!status}
        onClick={() => onChange('')}
      >
        All <span className="jp-TrackerChip-count">{total}</span>
      </button>
      {STATUSES.filter(s => counts[s] || s === status).map(s => (
        <button
          key={s}
          className={`jp-TrackerChip ${status === s ? 'jp-mod-active' : ''}`}
          data-status={s}
          role="radio"
          aria-checked={status === s}
          onClick={() => onChange(status === s ? '' : s)}
        >
          <span className="jp-TrackerChip-dot" />
          {s}
          <span className="jp-TrackerChip-count">{counts[s] ?? 0}</span>
        </button>
      ))}
    </div>
  );
}
