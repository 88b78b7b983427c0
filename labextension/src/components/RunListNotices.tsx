import React from 'react';

import { trackerIcon } from '../icons';
import { RunsModel } from '../model';

export interface IRunListNoticesProps {
  model: RunsModel;
  /** How many runs the filters let through. */
  visibleCount: number;
  onClearFilters: () => void;
}

/** What the list says instead of (or above) runs: an error, loading, no runs, no matches. */
export function RunListNotices({
  model,
  visibleCount,
  onClearFilters
}: IRunListNoticesProps): JSX.Element {
  const total = model.runs.length;
  return (
    <>
      {model.error && (
        <div className="jp-TrackerRuns-error" role="alert">
          <strong>Cannot list runs.</strong> {model.error}
          <button
            className="jp-TrackerRuns-linkButton"
            onClick={() => void model.refresh(true)}
          >
            Retry
          </button>
        </div>
      )}
      {!model.error && model.loaded && total === 0 && (
        <NoRuns dbExists={model.exists} />
      )}
      {!model.loaded && !model.error && (
        <div className="jp-TrackerRuns-empty">Loading runs…</div>
      )}
      {total > 0 && visibleCount === 0 && (
        <div className="jp-TrackerRuns-empty">
          <p>No runs match the filters.</p>
          <button
            className="jp-TrackerRuns-linkButton"
            onClick={onClearFilters}
          >
            Clear filters
          </button>
        </div>
      )}
    </>
  );
}

/** An empty database (or none yet), with how to track a first run. */
function NoRuns({ dbExists }: { dbExists: boolean }): JSX.Element {
  return (
    <div className="jp-TrackerRuns-empty">
      <trackerIcon.react tag="span" className="jp-TrackerRuns-emptyIcon" />
      <p>
        <strong>No runs yet</strong>
      </p>
      <p>
        {dbExists ? 'This database has no runs.' : 'No database here yet.'}{' '}
        Track a cell to see it here:
      </p>
      <pre className="jp-TrackerRuns-snippet">
        %load_ext tracker{'\n'}%%track_run lr=0.01{'\n'}run.log(loss=…)
      </pre>
    </div>
  );
}
