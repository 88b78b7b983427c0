import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Per-key summary of a run's metric, as the server sends it. */
export interface IMetricSummary {
  last: number | string | null;
  min: number | string | null;
  max: number | string | null;
  last_step: number | null;
  count: number;
}

/** One run, as listed by `GET /jupyter-tracker/api/runs`. */
export interface IRun {
  id: number;
  uuid: string;
  name: string;
  project: string;
  status: string;
  created: number;
  started: number | null;
  ended: number | null;
  heartbeat: number | null;
  duration: number | null;
  description: string | null;
  notebook: string | null;
  tags: string[];
  params: Record<string, unknown>;
  metrics: Record<string, IMetricSummary>;
  metric_count: number;
  last_step: number | null;
  /** The run's page on the MLflow server it was pushed to (or pulled from), if any. */
  mlflow_url: string | null;
}

/** The answer of `GET /jupyter-tracker/api/runs`. */
export interface IRunsReply {
  /** The database path, relative to the server root. */
  db: string;
  exists: boolean;
  /** Server time of the answer: the `since` of the next incremental request. */
  now: number;
  /** False when only runs changed since `since` were sent. */
  full: boolean;
  runs: IRun[];
  /** Every run id matching the filters: ids missing here were deleted. */
  ids: number[];
}

/** The answer of `GET /jupyter-tracker/api/stores`. */
export interface IStoresReply {
  /** Every `.tracker/tracker.db` under the server root, root-relative, the root's first. */
  stores: string[];
  /** The store to show when none was chosen: the root's if there is one, else the first. */
  default: string;
  /** True when the search stopped at a limit (depth, folders, stores) before seeing everything. */
  truncated: boolean;
}

/** The answer of the edit endpoints: the run as `GET runs` lists it now. */
export interface IEditReply {
  run: IRun;
}

/** An error answered by the server, with its message. */
export class TrackerApiError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

const API = 'jupyter-tracker/api';

function buildUrl(
  settings: ServerConnection.ISettings,
  path: string,
  query: Record<string, string | number | undefined | null>
): string {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') {
      params[key] = String(value);
    }
  }
  const search = URLExt.objectToQueryString(params);
  return URLExt.join(settings.baseUrl, API, path) + search;
}

/** GET (or with a `body`, POST as JSON) a path of the tracker API; ServerConnection adds the token and XSRF header. */
async function request(
  path: string,
  query: Record<string, string | number | undefined | null>,
  body?: unknown,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<Response> {
  const url = buildUrl(settings, path, query);
  const init: RequestInit =
    body === undefined
      ? {}
      : {
          method: 'POST',
          body: JSON.stringify(body),
          headers: { 'Content-Type': 'application/json' }
        };
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch {
    throw new TrackerApiError('The Jupyter server cannot be reached.', 0);
  }
  if (!response.ok) {
    let message = response.statusText || `HTTP ${response.status}`;
    try {
      const body = await response.json();
      message = body.message || message;
    } catch {
      // Not JSON: keep the status text.
    }
    throw new TrackerApiError(message, response.status);
  }
  return response;
}

export async function fetchRuns(
  db: string,
  since?: number | null
): Promise<IRunsReply> {
  const response = await request('runs', { db, since });
  return (await response.json()) as IRunsReply;
}

export async function fetchCardHtml(db: string, run: string): Promise<string> {
  const response = await request(`runs/${encodeURIComponent(run)}/card`, {
    db
  });
  return response.text();
}

export async function fetchComparisonHtml(
  db: string,
  ids: number[]
): Promise<string> {
  const response = await request('compare', { db, ids: ids.join(',') });
  return response.text();
}

/** Every store under the server root. */
export async function fetchStores(
  settings?: ServerConnection.ISettings
): Promise<IStoresReply> {
  const response = await request('stores', {}, undefined, settings);
  return (await response.json()) as IStoresReply;
}

/** Rename a run (the server refuses an empty name, one over 250 characters, or one taken in its project). */
export async function renameRun(
  db: string,
  run: string,
  name: string,
  settings?: ServerConnection.ISettings
): Promise<IEditReply> {
  const response = await request(
    `runs/${encodeURIComponent(run)}/rename`,
    { db },
    { name },
    settings
  );
  return (await response.json()) as IEditReply;
}

/** Add and remove tags of a run. */
export async function editTags(
  db: string,
  run: string,
  add: string[],
  remove: string[],
  settings?: ServerConnection.ISettings
): Promise<IEditReply> {
  const response = await request(
    `runs/${encodeURIComponent(run)}/tags`,
    { db },
    { add, remove },
    settings
  );
  return (await response.json()) as IEditReply;
}
