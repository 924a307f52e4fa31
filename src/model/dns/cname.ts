// CNAME answers (coredns plugin/backend_lookup.go CNAME).
import { ipFamily } from '../../net/ip.ts';
import { isNameserverName } from './address.ts';
import { type ModelAnswer, noerror, nxdomain } from './answer.ts';
import { type DnsContext, lookupRecords } from './records.ts';

/**
 * The CNAME answer for a name under the cluster zone. Rules:
 * - a name that does not exist: NXDOMAIN (an ExternalName whose externalName is an IP address included);
 * - the first entry, when it is a name (an ExternalName Service), gives the CNAME record;
 * - any other existing name: NOERROR with no records.
 */
export function cnameAnswer(context: DnsContext, name: string): ModelAnswer {
  if (isNameserverName(context, name)) return noerror([], `${name} only has address records`);
  const lookup = lookupRecords(context, name);
  if (!lookup.found) return nxdomain(lookup.reason);
  const first = lookup.entries[0];
  if (first && ipFamily(first.host) === null) return noerror([{ name, type: 'CNAME', data: first.host }], lookup.about);
  return noerror([], `${lookup.about}; it is not an alias, so there is no CNAME record`);
}
