// Word wrapping for everything netlab prints to a terminal: the report's explanations and the help text.

/**
 * Breaks `text` at whitespace so that no line is longer than `width` (a word longer than the room is put on
 * a line of its own rather than cut). The first line starts with `indent`, the others with `hangingIndent`;
 * every line but the last ends with `breakMark` (e.g. " \" for a shell command). No words, no lines: "".
 */
export function wrapWords(text: string, width: number, indent = '', hangingIndent = indent, breakMark = ''): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const prefix = lines.length === 0 ? indent : hangingIndent;
    if (line && prefix.length + line.length + 1 + word.length + breakMark.length > width) {
      lines.push(prefix + line + breakMark);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push((lines.length === 0 ? indent : hangingIndent) + line);
  return lines.join('\n');
}
