// printf-style padding ("%-28s", "%8llu") for the renderers. Appending a ready-made run of spaces
// allocates less than String.prototype.padEnd/padStart, which matters when a listing has 100,000 lines.

const SPACES: string[] = Array.from({ length: 65 }, (_, width) => ' '.repeat(width));

function spaces(count: number): string {
  return SPACES[count] ?? ' '.repeat(count);
}

/** "%-Ns": left-justified in `width` columns; longer text is kept whole. */
export function padRight(text: string, width: number): string {
  return text.length >= width ? text : text + spaces(width - text.length);
}

/** "%Ns": right-justified in `width` columns; longer text is kept whole. */
export function padLeft(text: string, width: number): string {
  return text.length >= width ? text : spaces(width - text.length) + text;
}
