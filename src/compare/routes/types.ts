// What each CNI's finding words provide (calico.ts, flannel.ts); index.ts does the comparing.
import type { ExpectedRoute, RouteWhy } from '../../model/types.ts';
import type { RouteEntry } from '../../parse/types.ts';

export interface FindingWords {
  message: string;
  cause: string;
  next: string;
}

export interface RouteFindingTexts<W extends RouteWhy> {
  /** why an expected row shows other `fields` (the message itself lists the differences) */
  mismatch(node: string, want: ExpectedRoute & { why: W }, got: RouteEntry, fields: string[]): Omit<FindingWords, 'message'>;
  /** an expected row that is not there; `key` is "destination/prefix" */
  missing(node: string, want: ExpectedRoute & { why: W }, key: string): FindingWords;
  /** a row inside the CNI's ranges that nothing explains */
  unexpected(node: string, key: string, got: RouteEntry, owned: string[]): FindingWords;
}
