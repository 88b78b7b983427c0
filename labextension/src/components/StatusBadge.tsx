import React from 'react';

/** A run's status as a coloured dot and word (the colour comes from `data-status` in CSS). */
export function StatusBadge({ status }: { status: string }): JSX.Element {
  return (
    <span className="jp-TrackerStatus" data-status={status}>
      <span className="jp-TrackerStatus-dot" />
      {status}
    </span>
  );
}
