import React, { useState } from 'react';

import { IRun } from '../api';
import { groupByProject } from '../filtering';
import { RunsModel } from '../model';
import { ProjectGroup } from './ProjectGroup';
import { RunListNotices } from './RunListNotices';

export interface IRunListProps {
  model: RunsModel;
  /** The runs the filters let through, newest first. */
  visible: IRun[];
  onOpen: (run: IRun) => void;
  onRename: (run: IRun) => void;
  onClearFilters: () => void;
}

/** The runs grouped by project (projects ordered by their newest run), or why there are none. */
export function RunList({
  model,
  visible,
  onOpen,
  onRename,
  onClearFilters
}: IRunListProps): JSX.Element {
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const toggleGroup = (project: string) => {
    const next = new Set(collapsed);
    if (next.has(project)) {
      next.delete(project);
    } else {
      next.add(project);
    }
    setCollapsed(next);
  };
  const now = model.now();

  return (
    <div className="jp-TrackerRuns-list" role="list">
      <RunListNotices
        model={model}
        visibleCount={visible.length}
        onClearFilters={onClearFilters}
      />
      {Array.from(groupByProject(visible).entries()).map(([project, runs]) => (
        <ProjectGroup
          key={project}
          project={project}
          runs={runs}
          model={model}
          now={now}
          collapsed={collapsed.has(project)}
          onToggleCollapsed={() => toggleGroup(project)}
          onOpen={onOpen}
          onRename={onRename}
        />
      ))}
    </div>
  );
}
