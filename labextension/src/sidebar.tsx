import {
  caretDownIcon,
  caretRightIcon,
  closeIcon,
  refreshIcon,
  ReactWidget,
  searchIcon,
  UseSignal
} from '@jupyterlab/ui-components';
import React, { useEffect, useMemo, useState } from 'react';

import { IRun } from './api';
import {
  formatAgo,
  formatDuration,
  formatParam,
  formatTimestamp,
  formatValue
} from './format';
import { trackerIcon } from './icons';
import { RunsModel, STATUSES } from './model';

/** What the sidebar asks its host to do. */
export interface IRunsActions {
  open(run: IRun): void;
  compare(ids: number[]): void;
  chooseDb(): void;
}

/** Most metrics shown per run row. */
const METRICS_PER_ROW = 3;

/** The "Runs" panel of the left sidebar. */
export class RunsSidebar extends ReactWidget {
  constructor(
    readonly model: RunsModel,
    private _actions: IRunsActions
  ) {
    super();
    this.id = 'jupyter-tracker-runs';
    this.addClass('jp-TrackerRuns');
    this.title.icon = trackerIcon;
    this.title.caption = 'Runs (jupyter-tracker)';
  }

  protected onAfterShow(): void {
    this.model.start();
    void this.model.refresh();
  }

  render(): JSX.Element {
    return (
      <UseSignal signal={this.model.changed}>
        {() => <RunsView model={this.model} actions={this._actions} />}
      </UseSignal>
    );
  }
}

interface IViewProps {
  model: RunsModel;
  actions: IRunsActions;
}

/** Every whitespace-separated term must occur in the run's searchable text. */
function matchesText(run: IRun, terms: string[]): boolean {
  if (!terms.length) {
    return true;
  }
  const haystack = [
    run.name,
    run.project,
    `#${run.id}`,
    run.status,
    run.description ?? '',
    run.notebook ?? '',
    ...run.tags,
    ...Object.entries(run.params).map(([k, v]) => `${k}=${formatParam(v)}`),
    ...Object.keys(run.metrics)
  ]
    .join('\n')
    .toLowerCase();
  return terms.every(term => haystack.includes(term));
}

/** Keep the end of a long path, where the file name is. */
function shortPath(path: string, max = 40): string {
  return path.length <= max ? path : '…' + path.slice(path.length - max + 1);
}

function liveDuration(run: IRun, now: number): number | null {
  if (run.status === 'running' && run.started) {
    return Math.max(0, now - run.started);
  }
  return run.duration;
}

function RunsView({ model, actions }: IViewProps): JSX.Element {
  const [text, setText] = useState('');
  const [status, setStatus] = useState<string>('');
  const [tag, setTag] = useState<string>('');
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [, setTick] = useState(0);

  // Running durations tick every second without asking the server.
  const live = model.hasRunning;
  useEffect(() => {
    if (!live) {
      return;
    }
    const timer = window.setInterval(() => setTick(t => t + 1), 1000);
    return () => window.clearInterval(timer);
  }, [live]);

  const runs = model.runs;
  const now = model.now();
  const terms = text.toLowerCase().split(/\s+/).filter(Boolean);

  const allTags = useMemo(() => {
    const tags = new Set<string>();
    runs.forEach(run => run.tags.forEach(t => tags.add(t)));
    return Array.from(tags).sort();
  }, [runs]);

  const textAndTag = runs.filter(
    run => matchesText(run, terms) && (!tag || run.tags.includes(tag))
  );
  const counts: Record<string, number> = {};
  textAndTag.forEach(run => {
    counts[run.status] = (counts[run.status] ?? 0) + 1;
  });
  const visible = textAndTag.filter(run => !status || run.status === status);

  // Projects ordered by their newest run; runs newest first within each.
  const groups = new Map<string, IRun[]>();
  visible.forEach(run => {
    const list = groups.get(run.project) ?? [];
    list.push(run);
    groups.set(run.project, list);
  });

  const selected = model.selected;
  const filtered = !!(terms.length || status || tag);
  const clearFilters = () => {
    setText('');
    setStatus('');
    setTag('');
  };
  const toggleGroup = (project: string) => {
    const next = new Set(collapsed);
    if (next.has(project)) {
      next.delete(project);
    } else {
      next.add(project);
    }
    setCollapsed(next);
  };

  return (
    <div className="jp-TrackerRuns-body">
      <header className="jp-TrackerRuns-header">
        <div className="jp-TrackerRuns-titleRow">
          <trackerIcon.react className="jp-TrackerRuns-logo" tag="span" />
          <h2 className="jp-TrackerRuns-title">Runs</h2>
          {live && (
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
          title={`Database: ${model.resolvedDb || model.db || 'default'}\nClick to choose another database`}
          onClick={() => actions.chooseDb()}
        >
          <span className="jp-TrackerRuns-dbLabel">DB</span>
          <span className="jp-TrackerRuns-dbPath">
            {shortPath(model.resolvedDb || model.db || '.tracker/tracker.db')}
          </span>
        </button>
      </header>

      <div className="jp-TrackerRuns-filters">
        <div className="jp-TrackerRuns-searchRow">
          <label className="jp-TrackerRuns-search">
            <searchIcon.react
              tag="span"
              className="jp-TrackerRuns-searchIcon"
            />
            <input
              type="search"
              className="jp-TrackerRuns-searchInput"
              placeholder="Filter runs…"
              aria-label="Filter runs"
              value={text}
              onChange={event => setText(event.target.value)}
            />
          </label>
          {allTags.length > 0 && (
            <select
              className="jp-TrackerRuns-tagSelect"
              aria-label="Filter by tag"
              value={tag}
              onChange={event => setTag(event.target.value)}
            >
              <option value="">All tags</option>
              {allTags.map(t => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          )}
        </div>
        <div
          className="jp-TrackerRuns-chips"
          role="radiogroup"
          aria-label="Status"
        >
          <button
            className={`jp-TrackerChip ${status ? '' : 'jp-mod-active'}`}
            role="radio"
            aria-checked={!status}
            onClick={() => setStatus('')}
          >
            All{' '}
            <span className="jp-TrackerChip-count">{textAndTag.length}</span>
          </button>
          {STATUSES.filter(s => counts[s] || s === status).map(s => (
            <button
              key={s}
              className={`jp-TrackerChip ${status === s ? 'jp-mod-active' : ''}`}
              data-status={s}
              role="radio"
              aria-checked={status === s}
              onClick={() => setStatus(status === s ? '' : s)}
            >
              <span className="jp-TrackerChip-dot" />
              {s}
              <span className="jp-TrackerChip-count">{counts[s] ?? 0}</span>
            </button>
          ))}
        </div>
      </div>

      <div className="jp-TrackerRuns-list" role="list">
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
        {!model.error && model.loaded && runs.length === 0 && (
          <div className="jp-TrackerRuns-empty">
            <trackerIcon.react
              tag="span"
              className="jp-TrackerRuns-emptyIcon"
            />
            <p>
              <strong>No runs yet</strong>
            </p>
            <p>
              {model.exists
                ? 'This database has no runs.'
                : 'No database here yet.'}{' '}
              Track a cell to see it here:
            </p>
            <pre className="jp-TrackerRuns-snippet">
              %load_ext tracker{'\n'}%%track_run lr=0.01{'\n'}run.log(loss=…)
            </pre>
          </div>
        )}
        {!model.loaded && !model.error && (
          <div className="jp-TrackerRuns-empty">Loading runs…</div>
        )}
        {runs.length > 0 && visible.length === 0 && (
          <div className="jp-TrackerRuns-empty">
            <p>No runs match the filters.</p>
            <button
              className="jp-TrackerRuns-linkButton"
              onClick={clearFilters}
            >
              Clear filters
            </button>
          </div>
        )}
        {Array.from(groups.entries()).map(([project, list]) => {
          const isCollapsed = collapsed.has(project);
          const running = list.filter(r => r.status === 'running').length;
          const Caret = isCollapsed ? caretRightIcon : caretDownIcon;
          return (
            <section
              className="jp-TrackerProject"
              key={project}
              data-project={project}
            >
              <button
                className="jp-TrackerProject-header"
                aria-expanded={!isCollapsed}
                onClick={() => toggleGroup(project)}
              >
                <Caret.react tag="span" className="jp-TrackerProject-caret" />
                <span className="jp-TrackerProject-name">{project}</span>
                {running > 0 && (
                  <span className="jp-TrackerProject-running">
                    {running} running
                  </span>
                )}
                <span className="jp-TrackerProject-count">{list.length}</span>
              </button>
              {!isCollapsed && (
                <ul className="jp-TrackerProject-runs">
                  {list.map(run => (
                    <RunRow
                      key={run.id}
                      run={run}
                      now={now}
                      selected={model.isSelected(run.id)}
                      onToggle={() => model.toggle(run.id)}
                      onOpen={() => actions.open(run)}
                    />
                  ))}
                </ul>
              )}
            </section>
          );
        })}
      </div>

      {selected.length > 0 && (
        <div className="jp-TrackerRuns-selection">
          <span className="jp-TrackerRuns-selectionCount">
            {selected.length} selected
          </span>
          <span className="jp-TrackerRuns-spacer" />
          <button
            className="jp-TrackerButton jp-mod-primary"
            disabled={selected.length < 2}
            title={
              selected.length < 2
                ? 'Select at least two runs to compare'
                : 'Open the comparison card'
            }
            onClick={() => actions.compare(selected)}
          >
            Compare
          </button>
          <button
            className="jp-TrackerRuns-iconButton"
            title="Clear selection"
            aria-label="Clear selection"
            onClick={() => model.clearSelection()}
          >
            <closeIcon.react tag="span" />
          </button>
        </div>
      )}

      <footer className="jp-TrackerRuns-footer">
        <span>
          {filtered ? `${visible.length} of ${runs.length}` : runs.length}{' '}
          {runs.length === 1 ? 'run' : 'runs'}
        </span>
        {model.lastUpdate && (
          <span
            title={`Updated ${new Date(model.lastUpdate).toLocaleTimeString()}`}
          >
            updated {new Date(model.lastUpdate).toLocaleTimeString()}
          </span>
        )}
      </footer>
    </div>
  );
}

interface IRowProps {
  run: IRun;
  now: number;
  selected: boolean;
  onToggle: () => void;
  onOpen: () => void;
}

function RunRow({
  run,
  now,
  selected,
  onToggle,
  onOpen
}: IRowProps): JSX.Element {
  const metrics = Object.entries(run.metrics).slice(0, METRICS_PER_ROW);
  const params = Object.entries(run.params);
  const tooltip = [
    `${run.name} (#${run.id}) — ${run.status}`,
    run.description ?? '',
    `Created ${formatTimestamp(run.created)}`,
    run.ended ? `Ended ${formatTimestamp(run.ended)}` : '',
    run.notebook ? `Notebook ${run.notebook}` : '',
    params.length
      ? 'Params: ' + params.map(([k, v]) => `${k}=${formatParam(v)}`).join(', ')
      : '',
    'Click to open the run card; Ctrl/⌘-click or the box to select.'
  ]
    .filter(Boolean)
    .join('\n');

  return (
    <li
      className={`jp-TrackerRun ${selected ? 'jp-mod-selected' : ''}`}
      data-run-id={run.id}
      data-status={run.status}
      role="listitem"
      tabIndex={0}
      title={tooltip}
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
          {run.last_step !== null && run.last_step !== undefined && (
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
        </div>
        {metrics.length > 0 && (
          <div className="jp-TrackerRun-metrics">
            {metrics.map(([key, summary]) => (
              <span
                className="jp-TrackerMetric"
                key={key}
                title={`${key}: last ${formatValue(summary.last)}, min ${formatValue(summary.min)}, max ${formatValue(summary.max)} (${summary.count} points)`}
              >
                <span className="jp-TrackerMetric-key">{key}</span>
                <span className="jp-TrackerMetric-value">
                  {formatValue(summary.last)}
                </span>
              </span>
            ))}
            {run.metric_count > metrics.length && (
              <span className="jp-TrackerMetric-more">
                +{run.metric_count - metrics.length}
              </span>
            )}
          </div>
        )}
        {run.tags.length > 0 && (
          <div className="jp-TrackerRun-tags">
            {run.tags.map(t => (
              <span className="jp-TrackerTag" key={t}>
                {t}
              </span>
            ))}
          </div>
        )}
      </div>
    </li>
  );
}

export function StatusBadge({ status }: { status: string }): JSX.Element {
  return (
    <span className="jp-TrackerStatus" data-status={status}>
      <span className="jp-TrackerStatus-dot" />
      {status}
    </span>
  );
}
