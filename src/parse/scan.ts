// A cursor over tool output: line by line, then whitespace-separated token by token, without
// building per-line strings or arrays (the parsers must keep up with 100,000-line listings).
// Tokens are positions in the whole text; a parser slices only the fields it keeps.
import { ParseError } from './types.ts';

const SPACE = 32;
const TAB = 9;

/** The index of the first character at or after `i` that is not a space or tab (or `end`). */
function skipBlanks(text: string, i: number, end: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c !== SPACE && c !== TAB) break;
    i++;
  }
  return i;
}
const CR = 13;
const MINUS = 45;

export class LineScanner {
  readonly text: string;
  readonly format: string;
  readonly source: string;
  /** 1-based number of the current line */
  lineNumber = 0;
  lineStart = 0;
  /** end of the current line, before any "\r" */
  lineEnd = 0;
  /** start of the current token (valid after nextToken() returned true) */
  tokenStart = 0;
  tokenEnd = 0;
  private cursor = 0;
  private nextLineStart = 0;

  constructor(text: string, format: string, source: string) {
    this.text = text;
    this.format = format;
    this.source = source;
  }

  /** Moves to the next line; false at the end. The empty rest after a final "\n" is not a line. */
  nextLine(): boolean {
    const text = this.text;
    if (this.nextLineStart >= text.length) return false;
    this.lineStart = this.nextLineStart;
    let end = text.indexOf('\n', this.lineStart);
    if (end === -1) end = text.length;
    this.nextLineStart = end + 1;
    if (end > this.lineStart && text.charCodeAt(end - 1) === CR) end--;
    this.lineEnd = end;
    this.cursor = this.lineStart;
    this.lineNumber++;
    return true;
  }

  /** The current line's text (for error messages and the rare field that needs it whole). */
  line(): string {
    return this.text.slice(this.lineStart, this.lineEnd);
  }

  isBlank(): boolean {
    for (let i = this.lineStart; i < this.lineEnd; i++) {
      const c = this.text.charCodeAt(i);
      if (c !== SPACE && c !== TAB) return false;
    }
    return true;
  }

  /** Whether the current line starts with `prefix` exactly (leading spaces included). */
  lineStartsWith(prefix: string): boolean {
    return this.lineEnd - this.lineStart >= prefix.length && sameChars(this.text, this.lineStart, prefix);
  }

  /** Places the token cursor at `offset` characters into the line. */
  seek(offset: number): void {
    this.cursor = this.lineStart + offset;
  }

  /** Advances to the next whitespace-separated token of the line; false when none is left. */
  nextToken(): boolean {
    const text = this.text;
    const end = this.lineEnd;
    let i = skipBlanks(text, this.cursor, end);
    if (i >= end) {
      this.cursor = end;
      return false;
    }
    this.tokenStart = i;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c === SPACE || c === TAB) break;
      i++;
    }
    this.tokenEnd = i;
    this.cursor = i;
    return true;
  }

  /**
   * Reads the next token as an unsigned decimal, finding its end and its value in one pass (numbers
   * are most of a large listing). Returns -1 when no token is left or it is not all digits;
   * token() then gives the offending text.
   */
  nextUint(): number {
    const text = this.text;
    const end = this.lineEnd;
    let i = skipBlanks(text, this.cursor, end);
    this.tokenStart = i;
    let value = i < end ? 0 : -1;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c === SPACE || c === TAB) break;
      if (c < 48 || c > 57) value = -1;
      else if (value !== -1) value = value * 10 + (c - 48);
      i++;
    }
    this.tokenEnd = i;
    this.cursor = i;
    return value;
  }

  /** Consumes the next token only when it equals `expected`. */
  acceptToken(expected: string): boolean {
    const { cursor, tokenStart, tokenEnd } = this;
    if (this.nextToken() && this.tokenIs(expected)) return true;
    this.cursor = cursor;
    this.tokenStart = tokenStart;
    this.tokenEnd = tokenEnd;
    return false;
  }

  /** The tokens left on the line (for the rare lines read whole: headers, search lists). */
  remainingTokens(): string[] {
    const tokens: string[] = [];
    while (this.nextToken()) tokens.push(this.token());
    return tokens;
  }

  token(): string {
    return this.text.slice(this.tokenStart, this.tokenEnd);
  }

  tokenIs(expected: string): boolean {
    return this.tokenEnd - this.tokenStart === expected.length && sameChars(this.text, this.tokenStart, expected);
  }

  /** The token as an unsigned decimal integer, or -1 when it is not one. */
  tokenUint(): number {
    return decimalAt(this.text, this.tokenStart, this.tokenEnd);
  }

  /** The token as a signed decimal integer, or null when it is not one. */
  tokenInt(): number | null {
    if (this.text.charCodeAt(this.tokenStart) === MINUS) {
      const magnitude = decimalAt(this.text, this.tokenStart + 1, this.tokenEnd);
      return magnitude < 0 ? null : -magnitude;
    }
    const value = decimalAt(this.text, this.tokenStart, this.tokenEnd);
    return value < 0 ? null : value;
  }

  /** Reads the next token or throws, naming what was expected. */
  expectToken(what: string): void {
    if (!this.nextToken()) throw this.error(`missing ${what}`);
  }

  /** Throws when tokens are left on the line. */
  expectLineEnd(what: string): void {
    if (this.nextToken()) throw this.error(`unexpected ${JSON.stringify(this.token())} after ${what}`);
  }

  error(reason: string): ParseError {
    return new ParseError(this.format, this.lineNumber, this.line(), reason, this.source);
  }
}

/** Whether `expected` occurs in text at `start`. A char loop: cheaper than a startsWith call for these short words. */
function sameChars(text: string, start: number, expected: string): boolean {
  for (let i = 0; i < expected.length; i++) {
    if (text.charCodeAt(start + i) !== expected.charCodeAt(i)) return false;
  }
  return true;
}

/** Digits in text[start, end) as a number; -1 when empty or not all digits. */
export function decimalAt(text: string, start: number, end: number): number {
  if (end <= start) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}
