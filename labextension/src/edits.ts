/** Checks and shapes of the two edits the sidebar offers (rename a run, edit its tags); no I/O here. */

/** The longest run name the server (and Python) take. */
export const MAX_NAME_CHARS = 250;

/** Why `name` cannot be a run's new name, or null when it can (the server checks again). */
export function nameProblem(name: string): string | null {
  const clean = name.trim();
  if (!clean) {
    return 'A run needs a name.';
  }
  if (clean.length > MAX_NAME_CHARS) {
    return `The name has ${clean.length} characters; at most ${MAX_NAME_CHARS}.`;
  }
  if (/^\d+$/.test(clean)) {
    return 'A name of digits only would read as a run id: add a letter.';
  }
  return null;
}

/** Tags typed in a dialog, separated by commas: "cnn, first try" gives ['cnn', 'first try']. */
export function parseTags(text: string): string[] {
  const tags = text
    .split(',')
    .map(tag => tag.trim())
    .filter(Boolean);
  return Array.from(new Set(tags));
}

/** What to send to go from the tags a run has to the tags wanted. */
export function tagChanges(
  before: string[],
  after: string[]
): { add: string[]; remove: string[] } {
  return {
    add: after.filter(tag => !before.includes(tag)),
    remove: before.filter(tag => !after.includes(tag))
  };
}
