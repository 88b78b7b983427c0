import type { IRun } from '../api';

/** A finished run with no params, metrics or tags, with `fields` on top. */
export function makeRun(id: number, fields: Partial<IRun> = {}): IRun {
  return {
    id,
    uuid: `uuid-${id}`,
    name: `run-${id}`,
    project: 'default',
    status: 'finished',
    created: 1000 + id,
    started: 1000 + id,
    ended: 1100 + id,
    heartbeat: 1100 + id,
    duration: 100,
    description: null,
    notebook: null,
    tags: [],
    params: {},
    metrics: {},
    metric_count: 0,
    last_step: null,
    mlflow_url: null,
    ...fields
  };
}
