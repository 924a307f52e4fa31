// TXT answers (coredns plugin/kubernetes kubernetes.go Services, TXT case).
import { type ModelAnswer, noerror, nxdomain } from './answer.ts';
import { labelsBelowZone } from './names.ts';
import { type DnsContext, lookupRecords } from './records.ts';

/** The DNS schema version CoreDNS reports (kubernetes/dns specification). */
const DNS_SCHEMA_VERSION = '1.1.0';

/**
 * The TXT answer for a name under the cluster zone. Rules:
 * - "dns-version.<zone>": the schema version, 1.1.0;
 * - a name with entries (a Service, an endpoint, a pod): NOERROR with no records;
 * - anything else, even an existing name without entries such as the zone apex: NXDOMAIN.
 */
export function txtAnswer(context: DnsContext, name: string): ModelAnswer {
  const labels = labelsBelowZone(name, context.zone);
  if (labels.length === 1 && labels[0] === 'dns-version') {
    return noerror([{ name, type: 'TXT', data: DNS_SCHEMA_VERSION }], 'CoreDNS reports the version of the Kubernetes DNS specification it implements');
  }
  const lookup = lookupRecords(context, name);
  if (lookup.found && lookup.entries.length) return noerror([], `${lookup.about}; it has no TXT records`);
  return nxdomain(lookup.found ? `${lookup.about}; CoreDNS answers TXT only for names that have records of some kind` : lookup.reason);
}
