// The ParseError a parse throws; fails the test when it throws something else or nothing.
import { ParseError } from '../../src/parse/types.ts';

export function parseErrorOf(parse: () => unknown): ParseError {
  try {
    parse();
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
  throw new Error('expected a ParseError');
}
