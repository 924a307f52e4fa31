// The shape every record-kind module returns, and the rcode helpers they share.
import type { DnsAnswer, DnsRecord } from '../types.ts';

export interface ModelAnswer {
  answer: DnsAnswer;
  /** the answer in plain words, for DnsExpectation.why */
  why: string;
}

export function nxdomain(why: string): ModelAnswer {
  return { answer: { rcode: 'NXDOMAIN', answers: [] }, why };
}

/** NOERROR with the records; with none, that is NODATA: the name exists, without records of this type. */
export function noerror(answers: DnsRecord[], why: string, partial = false): ModelAnswer {
  return { answer: { rcode: 'NOERROR', answers, ...(partial ? { partial } : {}) }, why };
}

/** The query leaves the kubernetes plugin (another zone, or a reverse name it has no record for): the upstream
 *  resolver answers it, and nothing in the cluster objects decides what it says. */
export class UnpredictableDnsQuery extends Error {
  override name = 'UnpredictableDnsQuery';
}
