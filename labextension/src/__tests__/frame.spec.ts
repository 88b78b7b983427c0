import { SANDBOX_FLAGS, themedHtml } from '../frame';

describe('card frames', () => {
  it('set the theme on the card page before its first paint', () => {
    const page =
      '<!DOCTYPE html>\n<html lang="en"><head></head><body></body></html>';
    expect(themedHtml(page, 'dark')).toBe(
      '<!DOCTYPE html>\n<html data-theme="dark" lang="en"><head></head><body></body></html>'
    );
    expect(themedHtml(page, 'light')).toContain(
      '<html data-theme="light" lang="en">'
    );
  });

  it('touch only the root element', () => {
    const page = '<html><body><p>&lt;html&gt; in text</p></body></html>';
    expect(themedHtml(page, 'dark')).toBe(
      '<html data-theme="dark"><body><p>&lt;html&gt; in text</p></body></html>'
    );
  });

  it('never give the card the parent origin', () => {
    expect(SANDBOX_FLAGS).toContain('allow-scripts');
    expect(SANDBOX_FLAGS).not.toContain('allow-same-origin');
  });
});
