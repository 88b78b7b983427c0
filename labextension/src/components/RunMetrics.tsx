import React from 'react';

import { IRun } from '../api';
import { formatValue } from '../format';

/** Most metrics shown per run row. */
export const METRICS_PER_ROW = 3;

/** A run's first metrics (last value; min, max and count in the tooltip) and how many more. */
export function RunMetrics({ run }: { run: IRun }): JSX.Element | null {
  const metrics = Object.entries(run.metrics).slice(0, METRICS_PER_ROW);
  if (!metrics.length) {
    return null;
  }
  return (
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
  );
}
