import React from 'react';

export interface IRunsFooterProps {
  /** Runs in the database. */
  total: number;
  /** Runs the filters let through; null when no filter is set. */
  shown: number | null;
  /** When the last answer came (ms since the epoch). */
  lastUpdate: number | null;
}

/** "3 of 12 runs · updated 10:42:07". */
export function RunsFooter({
  total,
  shown,
  lastUpdate
}: IRunsFooterProps): JSX.Element {
  const time = lastUpdate ? new Date(lastUpdate).toLocaleTimeString() : '';
  return (
    <footer className="jp-TrackerRuns-footer">
      <span>
        {shown === null ? total : `${shown} of ${total}`}{' '}
        {total === 1 ? 'run' : 'runs'}
      </span>
      {time && <span title={`Updated ${time}`}>updated {time}</span>}
    </footer>
  );
}
