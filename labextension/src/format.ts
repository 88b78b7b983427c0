/** Text formatting shared by the sidebar views. */

/** "850 ms", "42 s", "3 m 05 s", "2 h 10 m", "3 d 4 h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '';
  }
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 60) {
    return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  }
  const s = Math.floor(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) {
    return `${Math.floor(s / 60)} m ${pad(s % 60)} s`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} m`;
  }
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** "just now", "5m ago", "3h ago", "2d ago", then a date. */
export function formatAgo(time: number | null, now: number): string {
  if (!time) {
    return '';
  }
  const delta = Math.max(0, now - time);
  if (delta < 45) {
    return 'just now';
  }
  if (delta < 3600) {
    return `${Math.max(1, Math.round(delta / 60))}m ago`;
  }
  if (delta < 86400) {
    return `${Math.round(delta / 3600)}h ago`;
  }
  if (delta < 7 * 86400) {
    return `${Math.round(delta / 86400)}d ago`;
  }
  return new Date(time * 1000).toLocaleDateString();
}

export function formatTimestamp(time: number | null): string {
  return time ? new Date(time * 1000).toLocaleString() : '';
}

/** A metric value in at most ~5 significant digits; non-finite values as words. */
export function formatValue(value: number | string | null): string {
  if (value === null || value === undefined) {
    return 'NaN';
  }
  if (typeof value === 'string') {
    return value === 'Infinity' ? '∞' : value === '-Infinity' ? '−∞' : value;
  }
  if (Number.isInteger(value) && Math.abs(value) < 1e7) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
    return value.toExponential(2);
  }
  return String(Number(value.toPrecision(4)));
}

/** A param value as short text. */
export function formatParam(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number') {
    return formatValue(value);
  }
  return JSON.stringify(value);
}

/** Keep the end of a long path, where the file name is. */
export function shortPath(path: string, max = 40): string {
  return path.length <= max ? path : '…' + path.slice(path.length - max + 1);
}

/** The address itself when it is an http(s) URL (safe as a link's href), else null. */
export function webUrl(address: string | null | undefined): string | null {
  if (!address) {
    return null;
  }
  try {
    const url = new URL(address);
    return url.protocol === 'http:' || url.protocol === 'https:'
      ? address
      : null;
  } catch {
    return null;
  }
}
