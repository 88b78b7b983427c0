import { closeIcon } from '@jupyterlab/ui-components';
import React from 'react';

export interface ISelectionBarProps {
  /** The selected run ids. */
  selected: number[];
  onCompare: (ids: number[]) => void;
  onClear: () => void;
}

/** Shown while runs are selected: compare them (two or more) or clear the selection. */
export function SelectionBar({
  selected,
  onCompare,
  onClear
}: ISelectionBarProps): JSX.Element | null {
  if (!selected.length) {
    return null;
  }
  const canCompare = selected.length >= 2;
  return (
    <div className="jp-TrackerRuns-selection">
      <span className="jp-TrackerRuns-selectionCount">
        {selected.length} selected
      </span>
      <span className="jp-TrackerRuns-spacer" />
      <button
        className="jp-TrackerButton jp-mod-primary"
        disabled={!canCompare}
        title={
          canCompare
            ? 'Open the comparison card'
            : 'Select at least two runs to compare'
        }
        onClick={() => onCompare(selected)}
      >
        Compare
      </button>
      <button
        className="jp-TrackerRuns-iconButton"
        title="Clear selection"
        aria-label="Clear selection"
        onClick={onClear}
      >
        <closeIcon.react tag="span" />
      </button>
    </div>
  );
}
