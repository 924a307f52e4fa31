// One query, answered as CoreDNS's kubernetes plugin would (coredns plugin/kubernetes handler.go ServeDNS).
import type { ClusterSnapshot } from '../../snapshot/types.ts';
import type { DnsAnswer, DnsExpectation, DnsQuery } from '../types.ts';
import { addressAnswer } from './address.ts';
import { type ModelAnswer, UnpredictableDnsQuery } from './answer.ts';
import { cnameAnswer } from './cname.ts';
import { isInZone, normalizeName, REVERSE_ZONES } from './names.ts';
import { forwardZonePtrAnswer, reversePtrAnswer } from './ptr.ts';
import { type DnsContext, makeDnsContext } from './records.ts';
import { srvAnswer } from './srv.ts';
import { txtAnswer } from './txt.ts';

/**
 * The expected answer to `query`, with why, as kubeadm's CoreDNS serves it (kubernetes plugin for the
 * cluster domain and the reverse zones, fallthrough for the reverse zones only). Rules:
 * - names are compared lower case, without the trailing dot;
 * - under the cluster domain, by type: A/AAAA (addressAnswer), SRV (srvAnswer), CNAME (cnameAnswer),
 *   PTR (forwardZonePtrAnswer), TXT (txtAnswer);
 * - under in-addr.arpa / ip6.arpa: PTR by reversePtrAnswer; any other type, the plugin says NXDOMAIN
 *   and falls through to forward: unpredictable;
 * - any other name goes to forward (upstream): unpredictable.
 * Throws UnpredictableDnsQuery when the answer does not depend on the cluster. SERVFAIL (the plugin not
 * yet synced with the API server) is never expected.
 */
export function dnsExpectationFor(snapshot: ClusterSnapshot, query: DnsQuery): DnsExpectation {
  return expectationInContext(makeDnsContext(snapshot), query);
}

/** dnsExpectationFor with the snapshot's indexes already built (for many queries against one snapshot). */
export function expectationInContext(context: DnsContext, query: DnsQuery): DnsExpectation {
  const name = normalizeName(query.name);
  const { answer, why } = answerInContext(context, name, query.type);
  return { query: { name, type: query.type }, expect: answer, why };
}

/** The expected answer alone; see dnsExpectationFor for the rules. */
export function expectedAnswerFor(snapshot: ClusterSnapshot, query: DnsQuery): DnsAnswer {
  return dnsExpectationFor(snapshot, query).expect;
}

function answerInContext(context: DnsContext, name: string, type: DnsQuery['type']): ModelAnswer {
  if (REVERSE_ZONES.some((zone) => isInZone(name, zone)) && !isInZone(name, context.zone)) {
    if (type === 'PTR') return reversePtrAnswer(context, name);
    throw new UnpredictableDnsQuery(`${type} ${name}: the kubernetes plugin has no ${type} records in reverse zones and passes the query to the upstream resolver`);
  }
  if (!isInZone(name, context.zone)) {
    throw new UnpredictableDnsQuery(`${name} is outside the cluster domain ${context.zone}: CoreDNS forwards it to the upstream resolver`);
  }
  switch (type) {
    case 'A':
    case 'AAAA':
      return addressAnswer(context, name, type);
    case 'SRV':
      return srvAnswer(context, name);
    case 'CNAME':
      return cnameAnswer(context, name);
    case 'PTR':
      return forwardZonePtrAnswer(context, name);
    case 'TXT':
      return txtAnswer(context, name);
  }
}
