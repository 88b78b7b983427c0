import { refreshIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { shortPath } from '../format';
import { trackerIcon } from '../icons';
import { RunsModel } from '../model';

export interface IRunsHeaderProps {
  model: RunsModel;
  onChooseDb: () => void;
}

/** The panel's title row (live badge, refresh button) and the database it shows. */
export function RunsHeader({
  model,
  onChooseDb
}: IRunsHeaderProps): JSX.Element {
  const db = model.resolvedDb || model.db;
  return (
    <header className="jp-TrackerRuns-header">
      <div className="jp-TrackerRuns-titleRow">
        <trackerIcon.react className="jp-TrackerRuns-logo" tag="span" />
        <h2 className="jp-TrackerRuns-title">Runs</h2>
        {model.hasRunning && (
          <span className="jp-TrackerRuns-live" title="A run is live">
            <span className="jp-TrackerRuns-liveDot" />
            live
          </span>
        )}
        <span className="jp-TrackerRuns-spacer" />
        <button
          className="jp-TrackerRuns-iconButton"
          title="Refresh"
          aria-label="Refresh runs"
          onClick={() => void model.refresh(true)}
        >
          <refreshIcon.react
            tag="span"
            className={model.loading ? 'jp-mod-spin' : ''}
          />
        </button>
      </div>
      <button
        className="jp-TrackerRuns-db"
        title={`Database: ${db || 'default'}\nClick to choose another database`}
        onClick={onChooseDb}
      >
        <span className="jp-TrackerRuns-dbLabel">DB</span>
        <span className="jp-TrackerRuns-dbPath">
          {shortPath(db || '.tracker/tracker.db')}
        </span>
      </button>
    </header>
  );
}
