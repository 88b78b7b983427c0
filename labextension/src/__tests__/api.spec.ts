import { ServerConnection } from '@jupyterlab/services';

import { editTags, fetchStores, renameRun, TrackerApiError } from '../api';
import { makeRun } from './runs';

/** Settings whose `fetch` records each request and answers with `answer`. */
function server(answer: (request: Request) => Response) {
  const seen: { method: string; url: URL; body: string }[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/lab-base/',
    token: 'secret',
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      seen.push({
        method: request.method,
        url: new URL(request.url),
        body: await request.clone().text()
      });
      return answer(request);
    }
  });
  return { settings, seen };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });

describe('the tracker API', () => {
  it('lists the stores under the server root', async () => {
    const reply = {
      stores: ['.tracker/tracker.db', 'a/.tracker/tracker.db'],
      default: '.tracker/tracker.db',
      truncated: false
    };
    const { settings, seen } = server(() => json(reply));
    await expect(fetchStores(settings)).resolves.toEqual(reply);
    expect(seen[0].method).toBe('GET');
    expect(seen[0].url.pathname).toBe('/lab-base/jupyter-tracker/api/stores');
  });

  it('renames a run with a JSON POST naming the store', async () => {
    const run = makeRun(3, { name: 'new name' });
    const { settings, seen } = server(() => json({ run }));
    const reply = await renameRun(
      'notebooks/a/.tracker/tracker.db',
      '3',
      'new name',
      settings
    );
    expect(reply.run).toEqual(run);
    expect(seen[0].method).toBe('POST');
    expect(seen[0].url.pathname).toBe(
      '/lab-base/jupyter-tracker/api/runs/3/rename'
    );
    expect(seen[0].url.searchParams.get('db')).toBe(
      'notebooks/a/.tracker/tracker.db'
    );
    expect(JSON.parse(seen[0].body)).toEqual({ name: 'new name' });
  });

  it('sends the tags to add and to remove', async () => {
    const { settings, seen } = server(() => json({ run: makeRun(1) }));
    await editTags('', 'a b', ['x'], ['y', 'z'], settings);
    expect(seen[0].url.pathname).toBe(
      '/lab-base/jupyter-tracker/api/runs/a%20b/tags'
    );
    expect(seen[0].url.searchParams.has('db')).toBe(false); // the default store
    expect(JSON.parse(seen[0].body)).toEqual({
      add: ['x'],
      remove: ['y', 'z']
    });
  });

  it("turns an error answer into a TrackerApiError with the server's message", async () => {
    const { settings } = server(() =>
      json({ message: 'name must be non-empty text' }, 400)
    );
    const failure = renameRun('', '1', ' ', settings);
    await expect(failure).rejects.toBeInstanceOf(TrackerApiError);
    await expect(failure).rejects.toMatchObject({
      status: 400,
      message: 'name must be non-empty text'
    });
  });
});
