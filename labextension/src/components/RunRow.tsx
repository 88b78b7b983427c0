import React from 'react';

import { IRun } from '../api';
import { liveDuration } from '../filtering';
import {
  formatAgo,
  formatDuration,
  formatParam,
  formatTimestamp,
  webUrl
} from '../format';
import { RunMetrics } from './RunMetrics';
import { StatusBadge } from './StatusBadge';

export interface IRunRowProps {
  run: IRun;
  /** The server's clock, in seconds. */
  now: number;
  selected: boolean;
  onToggle: () => void;
  onOpen: () => void;
  onRename: () => void;
}

/** The tooltip of a row: what does not fit in it. */
function runTooltip(run: IRun): string {
  const params = Object.entries(run.params);
  return [
    `${run.name} (#${run.id}) — ${run.status}`,
    run.description ?? '',
    `Created ${formatTimestamp(run.created)}`,
    run.ended ? `Ended ${formatTimestamp(run.ended)}` : '',
    run.notebook ? `Notebook ${run.notebook}` : '',
    params.length
      ? 'Params: ' + params.map(([k, v]) => `${k}=${formatParam(v)}`).join(', ')
      : '',
    'Click to open the run card; Ctrl/⌘-click or the box to select.',
    'Right-click to rename (F2) or edit tags.'
  ]
    .filter(Boolean)
    .join('\n');
}

/** One run: a click opens its card; Ctrl/⌘/Shift-click, Space or the box selects it. */
export function RunRow({
  run,
  now,
  selected,
  onToggle,
  onOpen,
  onRename
}: IRunRowProps): JSX.Element {
  const hasStep = run.last_step !== null && run.last_step !== undefined;
  const mlflow = webUrl(run.mlflow_url);
  return (
    <li
      className={`jp-TrackerRun ${selected ? 'jp-mod-selected' : ''}`}
      data-run-id={run.id}
      data-status={run.status}
      role="listitem"
      tabIndex={0}
      title={runTooltip(run)}
      aria-selected={selected}
      onClick={event => {
        if (event.ctrlKey || event.metaKey || event.shiftKey) {
          onToggle();
        } else {
          onOpen();
        }
      }}
      onKeyDown={event => {
        if (event.key === 'Enter') {
          onOpen();
        } else if (event.key === 'F2') {
          event.preventDefault();
          onRename();
        } else if (event.key === ' ') {
          event.preventDefault();
          onToggle();
        }
      }}
    >
      <input
        type="checkbox"
        className="jp-TrackerRun-check"
        checked={selected}
        aria-label={`Select ${run.name} for comparison`}
        onClick={event => event.stopPropagation()}
        onChange={() => onToggle()}
      />
      <div className="jp-TrackerRun-main">
        <div className="jp-TrackerRun-top">
          <span className="jp-TrackerRun-name">{run.name}</span>
          <span className="jp-TrackerRun-id">#{run.id}</span>
          <span className="jp-TrackerRuns-spacer" />
          <span className="jp-TrackerRun-duration" title="Duration">
            {formatDuration(liveDuration(run, now)) || '—'}
          </span>
        </div>
        <div className="jp-TrackerRun-meta">
          <StatusBadge status={run.status} />
          <span className="jp-TrackerRun-ago">
            {formatAgo(run.started ?? run.created, now)}
          </span>
          {hasStep && (
            <>
              <span className="jp-TrackerRun-sep">·</span>
              <span
                className="jp-TrackerRun-step"
                title={`Last step ${run.last_step}`}
              >
                step {run.last_step}
              </span>
            </>
          )}
          {mlflow && (
            <>
              <span className="jp-TrackerRun-sep">·</span>
              <a
                className="jp-TrackerRun-mlflow"
                href={mlflow}
                target="_blank"
                rel="noopener noreferrer"
                title={`Open this run on the MLflow server: ${mlflow}`}
                onClick={event => event.stopPropagation()}
                onKeyDown={event => event.stopPropagation()}
              >
                MLflow ↗
              </a>
            </>
          )}
        </div>
        <RunMetrics run={run} />
        {run.tags.length > 0 && (
          <div className="jp-TrackerRun-tags">
            {run.tags.map(tag => (
              <span className="jp-TrackerTag" key={tag}>
                {tag}
              </span>
            ))}
          </div>
        )}
      </div>
    </li>
  );
}
