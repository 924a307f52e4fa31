// PTR answers (coredns plugin/kubernetes reverse.go serviceRecordForIP, plugin/backend_lookup.go PTR).
import type { DnsRecord } from '../types.ts';
import { type ModelAnswer, noerror, nxdomain, UnpredictableDnsQuery } from './answer.ts';
import { addressFromReverse, endpointLabel } from './names.ts';
import { type DnsContext, lookupRecords, serviceName } from './records.ts';

/**
 * The PTR answer for a reverse name (in-addr.arpa, ip6.arpa). Rules:
 * - a Service whose ClusterIP is the address: "<svc>.<ns>.svc.<zone>" (only ClusterIPs, not external IPs);
 * - otherwise every ready endpoint with that address, in any namespace: "<label>.<svc>.<ns>.svc.<zone>",
 *   one per Service, duplicates dropped;
 * - nothing matches, or the name is not a whole address: the plugin would say NXDOMAIN, but kubeadm's
 *   Corefile has "fallthrough in-addr.arpa ip6.arpa", so the query goes to forward and the upstream
 *   resolver answers: throws UnpredictableDnsQuery.
 */
export function reversePtrAnswer(context: DnsContext, name: string): ModelAnswer {
  const address = addressFromReverse(name);
  if (!address) throw new UnpredictableDnsQuery(`${name} is not the reverse name of a whole address: CoreDNS passes it to the upstream resolver`);
  const service = context.byClusterIP.get(address);
  if (service) {
    return noerror([{ name, type: 'PTR', data: serviceName(context, service) }], `${address} is the ClusterIP of Service ${service.namespace}/${service.name}`);
  }
  const records: DnsRecord[] = [];
  const owners = new Set<string>();
  for (const { slice, endpoint, address: written } of context.readyByAddress.get(address) ?? []) {
    const data = `${endpointLabel(written, endpoint.hostname)}.${slice.serviceName}.${slice.namespace}.svc.${context.zone}`;
    if (records.some((r) => r.data === data)) continue;
    records.push({ name, type: 'PTR', data });
    owners.add(`${slice.namespace}/${slice.serviceName}`);
  }
  if (!records.length) {
    throw new UnpredictableDnsQuery(`${address} is no ClusterIP and no ready endpoint: CoreDNS passes ${name} to the upstream resolver`);
  }
  return noerror(records, `${address} is a ready endpoint of Service ${[...owners].join(', ')}`);
}

/** PTR for a name under the cluster zone: the name is no address, so NXDOMAIN when it does not exist, else no records. */
export function forwardZonePtrAnswer(context: DnsContext, name: string): ModelAnswer {
  const lookup = lookupRecords(context, name);
  return lookup.found ? noerror([], `${lookup.about}; PTR records live under in-addr.arpa and ip6.arpa`) : nxdomain(lookup.reason);
}
