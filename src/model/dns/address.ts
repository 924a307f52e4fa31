// A and AAAA answers (coredns plugin/backend_lookup.go A/AAAA, plugin/kubernetes ns.go).
import { ipFamily, type IpFamily } from '../../net/ip.ts';
import type { DnsRecord } from '../types.ts';
import { type ModelAnswer, noerror, nxdomain } from './answer.ts';
import { canonicalIp, isInZone } from './names.ts';
import { type DnsContext, lookupRecords } from './records.ts';

const MAX_CNAME_CHAIN = 10;

/** "ns.dns.<zone>": the name of the zone's nameserver, which the plugin answers itself. */
export function isNameserverName(context: DnsContext, name: string): boolean {
  return name === `ns.dns.${context.zone}`;
}

/**
 * The A (IPv4) or AAAA (IPv6) answer for a name under the cluster zone. Rules:
 * - "ns.dns.<zone>": the kube-dns Service IPs of the family (assumes the CoreDNS pods back only that
 *   Service; CoreDNS really lists the Services its own pod IP is an endpoint of);
 * - a name that does not exist (lookupRecords): NXDOMAIN;
 * - each address entry of the family gives one record, duplicates dropped; entries of the other family
 *   give nothing, so a name with only those is NOERROR with no records (NODATA);
 * - an ExternalName entry gives a CNAME record to its target, then:
 *   - a target inside the cluster zone is resolved the same way and its records follow the CNAME; when
 *     it resolves to nothing the CNAME is left out too (a chain stops after 10 CNAMEs or on a loop);
 *   - a target outside is resolved upstream (forward): those records cannot be predicted, so the answer
 *     is marked partial and only the CNAME is compared.
 */
export function addressAnswer(context: DnsContext, name: string, type: 'A' | 'AAAA', chain: DnsRecord[] = []): ModelAnswer {
  const family: IpFamily = type === 'A' ? 'IPv4' : 'IPv6';
  if (isNameserverName(context, name)) {
    const ips = context.snapshot.dns.serviceIPs.filter((ip) => ipFamily(ip) === family);
    return noerror(ips.map((ip) => ({ name, type, data: canonicalIp(ip) })), `${name} names the cluster's DNS server: the kube-dns Service ${family} addresses`);
  }
  const lookup = lookupRecords(context, name);
  if (!lookup.found) return nxdomain(lookup.reason);
  const records: DnsRecord[] = [];
  let partial = false;
  for (const entry of lookup.entries) {
    const entryFamily = ipFamily(entry.host);
    if (entryFamily === family) {
      const data = canonicalIp(entry.host);
      if (!records.some((r) => r.type === type && r.data === data)) records.push({ name, type, data });
    } else if (entryFamily === null && entry.host !== name && chain.length <= MAX_CNAME_CHAIN && !chain.some((r) => r.data === entry.host)) {
      const cname: DnsRecord = { name, type: 'CNAME', data: entry.host };
      if (isInZone(entry.host, context.zone)) {
        const next = addressAnswer(context, entry.host, type, [...chain, cname]);
        if (next.answer.rcode === 'NOERROR' && next.answer.answers.length) {
          records.push(cname, ...next.answer.answers);
          partial ||= next.answer.partial === true;
        }
      } else {
        records.push(cname);
        partial = true;
      }
    }
  }
  const why = records.length
    ? lookup.about
    : `${lookup.about}; it has no ${family} address, so the answer is NOERROR with no ${type} records`;
  return noerror(records, partial ? `${why}; the addresses of the target come from the upstream resolver` : why, partial);
}
