import { caretDownIcon, caretRightIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { IRun } from '../api';
import { RunsModel } from '../model';
import { RunRow } from './RunRow';

export interface IProjectGroupProps {
  project: string;
  runs: IRun[];
  model: RunsModel;
  /** The server's clock, in seconds. */
  now: number;
  collapsed: boolean;
  onToggleCollapsed: () => void;
  onOpen: (run: IRun) => void;
  onRename: (run: IRun) => void;
}

/** The runs of one project under a header that folds them. */
export function ProjectGroup({
  project,
  runs,
  model,
  now,
  collapsed,
  onToggleCollapsed,
  onOpen,
  onRename
}: IProjectGroupProps): JSX.Element {
  const running = runs.filter(run => run.status === 'running').length;
  const Caret = collapsed ? caretRightIcon : caretDownIcon;
  return (
    <section className="jp-TrackerProject" data-project={project}>
      <button
        className="jp-TrackerProject-header"
        aria-expanded={!collapsed}
        onClick={onToggleCollapsed}
      >
        <Caret.react tag="span" className="jp-TrackerProject-caret" />
        <span className="jp-TrackerProject-name">{project}</span>
        {running > 0 && (
          <span className="jp-TrackerProject-running">{running} running</span>
        )}
        <span className="jp-TrackerProject-count">{runs.length}</span>
      </button>
      {!collapsed && (
        <ul className="jp-TrackerProject-runs">
          {runs.map(run => (
            <RunRow
              key={run.id}
              run={run}
              now={now}
              selected={model.isSelected(run.id)}
              onToggle={() => model.toggle(run.id)}
              onOpen={() => onOpen(run)}
              onRename={() => onRename(run)}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
