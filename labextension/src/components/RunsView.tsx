import React, { useState } from 'react';

import { IRun } from '../api';
import {
  allTags,
  filterRuns,
  IRunFilters,
  isFiltered,
  NO_FILTERS
} from '../filtering';
import { RunsModel } from '../model';
import { RunFilters } from './RunFilters';
import { RunList } from './RunList';
import { RunsFooter } from './RunsFooter';
import { RunsHeader } from './RunsHeader';
import { SelectionBar } from './SelectionBar';
import { useSecondTicker } from './useSecondTicker';

/** What the runs panel asks its host to do. */
export interface IRunsActions {
  open(run: IRun): void;
  compare(ids: number[]): void;
  chooseDb(): void;
  /** Show another store found under the server root (and remember it). */
  chooseStore(db: string): void;
  rename(run: IRun): void;
}

export interface IRunsViewProps {
  model: RunsModel;
  actions: IRunsActions;
}

/** The runs panel: header, filters, the runs by project, the selection and a footer. */
export function RunsView({ model, actions }: IRunsViewProps): JSX.Element {
  const [filters, setFilters] = useState<IRunFilters>(NO_FILTERS);
  useSecondTicker(model.hasRunning);

  const runs = model.runs;
  const { matching, counts, visible } = filterRuns(runs, filters);

  return (
    <div className="jp-TrackerRuns-body">
      <RunsHeader
        model={model}
        onChooseDb={() => actions.chooseDb()}
        onChooseStore={db => actions.chooseStore(db)}
      />
      <RunFilters
        filters={filters}
        onChange={setFilters}
        tags={allTags(runs)}
        counts={counts}
        total={matching.length}
      />
      <RunList
        model={model}
        visible={visible}
        onOpen={run => actions.open(run)}
        onRename={run => actions.rename(run)}
        onClearFilters={() => setFilters(NO_FILTERS)}
      />
      <SelectionBar
        selected={model.selected}
        onCompare={ids => actions.compare(ids)}
        onClear={() => model.clearSelection()}
      />
      <RunsFooter
        total={runs.length}
        shown={isFiltered(filters) ? visible.length : null}
        lastUpdate={model.lastUpdate}
      />
    </div>
  );
}
