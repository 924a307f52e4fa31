// YAML text to plain values, with syntax errors that say where: the line and column inside
// the text, so callers can prefix the file (or the ConfigMap key) the text came from.
import { LineCounter, parseAllDocuments } from 'yaml';

export class YamlSyntaxError extends Error {
  override name = 'YamlSyntaxError';

  constructor(problem: string, line: number, column: number) {
    super(`invalid YAML at line ${line}, column ${column}: ${problem}`);
  }
}

/** The value of each document in `text`, in order (null for an empty document); none for empty text. */
export function parseYamlDocuments(text: string): unknown[] {
  const lineCounter = new LineCounter();
  return parseAllDocuments(text, { prettyErrors: false, lineCounter }).map((document) => {
    const error = document.errors[0];
    if (error !== undefined) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      throw new YamlSyntaxError(error.message, line, col);
    }
    return document.toJS() as unknown;
  });
}
