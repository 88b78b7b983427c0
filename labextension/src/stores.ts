import type { IStoresReply } from './api';

/** The store at the server root, where the sidebar looks when nothing else is known. */
export const ROOT_STORE = '.tracker/tracker.db';

/** A store as the chooser names it, by its folder under the server root: '/' or '/notebooks/a'. */
export function storeLabel(db: string): string {
  const path = db || ROOT_STORE;
  const folder = path.endsWith(ROOT_STORE)
    ? path.slice(0, path.length - ROOT_STORE.length).replace(/\/$/, '')
    : path;
  return '/' + folder;
}

/**
 * `storeLabel` in at most `max` characters: the last folders that fit after '…/', or when the last
 * folder alone is too long, its beginning (where people put what tells folders apart).
 */
export function shortStoreLabel(db: string, max: number): string {
  const label = storeLabel(db);
  if (label.length <= max) {
    return label;
  }
  const parts = label.split('/');
  let tail = parts.pop() ?? '';
  if (tail.length + 2 > max) {
    return '…/' + tail.slice(0, Math.max(1, max - 3)) + '…';
  }
  while (
    parts.length &&
    parts[parts.length - 1].length + tail.length + 3 <= max
  ) {
    tail = `${parts.pop()}/${tail}`;
  }
  return '…/' + tail;
}

/**
 * Which store to show: the one chosen before (remembered across reloads) while it is still there, or
 * while the server's search stopped early and may have missed it; else the server's default (the
 * root's store if there is one, else the first). Without a list (the server did not answer), the
 * remembered one.
 */
export function pickStore(
  reply: IStoresReply | null,
  saved: string | null | undefined
): string {
  if (!reply) {
    return saved || '';
  }
  if (saved && (reply.stores.includes(saved) || reply.truncated)) {
    return saved;
  }
  return reply.default;
}

/** The chooser's options: the stores found, and the one shown now if the search did not find it. */
export function storeOptions(stores: string[], current: string): string[] {
  const shown = current || ROOT_STORE;
  return stores.includes(shown) ? stores : [shown, ...stores];
}
