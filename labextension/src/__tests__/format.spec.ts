import {
  formatAgo,
  formatDuration,
  formatParam,
  formatTimestamp,
  formatValue,
  shortPath,
  webUrl
} from '../format';

describe('formatDuration', () => {
  it('is empty for a missing or non-finite duration', () => {
    expect(formatDuration(null)).toBe('');
    expect(formatDuration(undefined)).toBe('');
    expect(formatDuration(NaN)).toBe('');
    expect(formatDuration(Infinity)).toBe('');
  });

  it('shows milliseconds below a second', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(0.85)).toBe('850 ms');
    expect(formatDuration(0.0004)).toBe('0 ms');
  });

  it('shows tenths of a second below 10 s, whole seconds below a minute', () => {
    expect(formatDuration(1)).toBe('1.0 s');
    expect(formatDuration(4.24)).toBe('4.2 s');
    expect(formatDuration(42.4)).toBe('42 s');
  });

  it('shows minutes and padded seconds below an hour', () => {
    expect(formatDuration(60)).toBe('1 m 00 s');
    expect(formatDuration(185.9)).toBe('3 m 05 s');
    expect(formatDuration(3599)).toBe('59 m 59 s');
  });

  it('shows hours and padded minutes below a day, then days and hours', () => {
    expect(formatDuration(3600)).toBe('1 h 00 m');
    expect(formatDuration(2 * 3600 + 10 * 60 + 59)).toBe('2 h 10 m');
    expect(formatDuration(86400)).toBe('1 d 0 h');
    expect(formatDuration(3 * 86400 + 4 * 3600 + 1800)).toBe('3 d 4 h');
  });
});

describe('formatAgo', () => {
  const now = 1_700_000_000;

  it('is empty without a time', () => {
    expect(formatAgo(null, now)).toBe('');
    expect(formatAgo(0, now)).toBe('');
  });

  it('says "just now" below 45 s, and for times ahead of the clock', () => {
    expect(formatAgo(now, now)).toBe('just now');
    expect(formatAgo(now - 44, now)).toBe('just now');
    expect(formatAgo(now + 30, now)).toBe('just now');
  });

  it('counts minutes, hours and days', () => {
    expect(formatAgo(now - 50, now)).toBe('1m ago');
    expect(formatAgo(now - 5 * 60, now)).toBe('5m ago');
    expect(formatAgo(now - 3 * 3600, now)).toBe('3h ago');
    expect(formatAgo(now - 2 * 86400, now)).toBe('2d ago');
  });

  it('gives the date after a week', () => {
    const time = now - 8 * 86400;
    expect(formatAgo(time, now)).toBe(
      new Date(time * 1000).toLocaleDateString()
    );
  });
});

describe('formatTimestamp', () => {
  it('gives the local date and time of seconds since the epoch', () => {
    expect(formatTimestamp(null)).toBe('');
    expect(formatTimestamp(1_700_000_000)).toBe(
      new Date(1_700_000_000_000).toLocaleString()
    );
  });
});

describe('formatValue', () => {
  it('names missing and non-finite values', () => {
    expect(formatValue(null)).toBe('NaN');
    expect(formatValue('NaN')).toBe('NaN');
    expect(formatValue('Infinity')).toBe('∞');
    expect(formatValue('-Infinity')).toBe('−∞');
  });

  it('keeps integers below ten million as they are', () => {
    expect(formatValue(0)).toBe('0');
    expect(formatValue(42)).toBe('42');
    expect(formatValue(-3)).toBe('-3');
    expect(formatValue(9_999_999)).toBe('9999999');
  });

  it('rounds other numbers to four significant digits', () => {
    expect(formatValue(3.14159)).toBe('3.142');
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue(123.456)).toBe('123.5');
    expect(formatValue(0.5)).toBe('0.5');
    expect(formatValue(-0.0025)).toBe('-0.0025');
  });

  it('writes very small and very large numbers in exponent form', () => {
    expect(formatValue(0.0001234)).toBe('1.23e-4');
    expect(formatValue(2_500_000.5)).toBe('2.50e+6');
    expect(formatValue(12_345_678)).toBe('1.23e+7');
  });
});

describe('formatParam', () => {
  it('shows strings as they are, numbers as metric values, the rest as JSON', () => {
    expect(formatParam('adam')).toBe('adam');
    expect(formatParam(0.01)).toBe('0.01');
    expect(formatParam(1 / 3)).toBe('0.3333');
    expect(formatParam(true)).toBe('true');
    expect(formatParam(null)).toBe('null');
    expect(formatParam([1, 2])).toBe('[1,2]');
    expect(formatParam({ depth: 3 })).toBe('{"depth":3}');
  });
});

describe('shortPath', () => {
  it('keeps short paths and the end of long ones', () => {
    expect(shortPath('.tracker/tracker.db')).toBe('.tracker/tracker.db');
    const long = 'projects/' + 'x'.repeat(40) + '/tracker.db';
    const short = shortPath(long);
    expect(short).toHaveLength(40);
    expect(short.startsWith('…')).toBe(true);
    expect(short.endsWith('/tracker.db')).toBe(true);
    expect(shortPath('abcdef', 4)).toBe('…def');
  });
});

describe('webUrl', () => {
  it('keeps http and https addresses, the only ones made into links', () => {
    const page = 'http://127.0.0.1:5000/#/experiments/1/runs/abc';
    expect(webUrl(page)).toBe(page);
    expect(webUrl('https://mlflow.example/#/x')).toBe(
      'https://mlflow.example/#/x'
    );
  });

  it('refuses scripts, other schemes and nothing', () => {
    expect(webUrl('javascript:alert(1)')).toBeNull();
    expect(webUrl('file:///etc/passwd')).toBeNull();
    expect(webUrl('not a url')).toBeNull();
    expect(webUrl(null)).toBeNull();
    expect(webUrl(undefined)).toBeNull();
  });
});
