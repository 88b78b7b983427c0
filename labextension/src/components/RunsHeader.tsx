import { caretDownIcon, refreshIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { shortPath } from '../format';
import { trackerIcon } from '../icons';
import { RunsModel } from '../model';
import {
  ROOT_STORE,
  shortStoreLabel,
  storeLabel,
  storeOptions
} from '../stores';

/** About what the chooser shows in a sidebar of the default width; longer folders keep their end. */
const STORE_LABEL_CHARS = 25;

export interface IRunsHeaderProps {
  model: RunsModel;
  onChooseDb: () => void;
  /** Show the runs of another store found under the server root. */
  onChooseStore: (db: string) => void;
}

/** The panel's title row (live badge, refresh button) and the store it shows, or a chooser of stores. */
export function RunsHeader({
  model,
  onChooseDb,
  onChooseStore
}: IRunsHeaderProps): JSX.Element {
  const db = model.resolvedDb || model.db || ROOT_STORE;
  const options = storeOptions(model.stores, db);
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
          onClick={() => {
            void model.refresh(true);
            void model.loadStores();
          }}
        >
          <refreshIcon.react
            tag="span"
            className={model.loading ? 'jp-mod-spin' : ''}
          />
        </button>
      </div>
      {options.length > 1 ? (
        <label
          className="jp-TrackerRuns-db jp-TrackerRuns-dbChooser"
          title={`Store: ${db}\n${options.length} stores under the server root`}
        >
          <span className="jp-TrackerRuns-dbLabel">DB</span>
          <select
            className="jp-TrackerRuns-dbSelect"
            aria-label="Runs store"
            value={db}
            onChange={event => onChooseStore(event.target.value)}
          >
            {options.map(store => (
              <option key={store} value={store} title={storeLabel(store)}>
                {shortStoreLabel(store, STORE_LABEL_CHARS)}
              </option>
            ))}
          </select>
          <caretDownIcon.react tag="span" className="jp-TrackerRuns-dbCaret" />
        </label>
      ) : (
        <button
          className="jp-TrackerRuns-db"
          title={`Database: ${db}\nClick to choose another database`}
          onClick={onChooseDb}
        >
          <span className="jp-TrackerRuns-dbLabel">DB</span>
          <span className="jp-TrackerRuns-dbPath">{shortPath(db)}</span>
        </button>
      )}
    </header>
  );
}
