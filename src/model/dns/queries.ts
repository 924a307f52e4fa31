// Which questions the DNS layer asks: the names the cluster objects promise (and a few they deny).
import { ipFamily } from '../../net/ip.ts';
import type { ClusterSnapshot, ServiceView } from '../../snapshot/types.ts';
import { podFinished, slicesOf } from '../lookup.ts';
import type { DnsExpectation, DnsQuery } from '../types.ts';
import { endpointLabel, podLabel, reverseName } from './names.ts';
import { type DnsContext, makeDnsContext, serviceName } from './records.ts';
import { expectationInContext } from './resolve.ts';

export interface DnsExpectationOptions {
  /** namespaces whose Services and pods are asked about; default every namespace of the snapshot */
  namespaces?: string[];
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** `base`, or `base-2`, `base-3`... : the first that is not in `taken`. */
function unusedName(base: string, taken: string[]): string {
  let name = base;
  for (let n = 2; taken.includes(name); n++) name = `${base}-${n}`;
  return name;
}

/**
 * The queries netlab asks CoreDNS about, each with the answer the model expects (dnsExpectationFor).
 * Per namespace:
 * - "does-not-exist.<ns>.svc.<zone>" A (a name no Service has; NXDOMAIN);
 * - per Service, by name:
 *   - ExternalName: CNAME of the Service name;
 *   - others: A and AAAA of the Service name (ClusterIPs; headless: ready endpoints, NXDOMAIN with none;
 *     the family a Service lacks gives NODATA);
 *   - SRV "_<port>._<proto>.<svc>.<ns>.svc.<zone>" per named port;
 *   - A/AAAA of each ready endpoint's name, "<label>.<svc>.<ns>.svc.<zone>" (hostname or dashed address);
 *   - PTR of each ClusterIP; for headless Services, PTR of each ready endpoint address;
 * - when pod records are enabled: A/AAAA of "<dashed ip>.<ns>.pod.<zone>" per pod IP of each running,
 *   not hostNetwork pod.
 * Once: a Service name in a namespace that does not exist (NXDOMAIN).
 * Duplicate questions are asked once.
 */
export function expectedDns(snapshot: ClusterSnapshot, options: DnsExpectationOptions = {}): DnsExpectation[] {
  const context = makeDnsContext(snapshot);
  const { zone } = context;
  const queries = new Map<string, DnsQuery>();
  const ask = (name: string, type: DnsQuery['type']) => queries.set(`${name} ${type}`, { name, type });

  for (const namespace of options.namespaces ?? snapshot.namespaces) {
    const services = snapshot.services.filter((s) => s.namespace === namespace).sort(byName);
    ask(`${unusedName('does-not-exist', services.map((s) => s.name))}.${namespace}.svc.${zone}`, 'A');
    for (const service of services) askAboutService(context, service, ask);
    if (snapshot.dns.podsMode !== 'disabled') {
      for (const pod of snapshot.pods.filter((p) => p.namespace === namespace && !p.hostNetwork && !podFinished(p.phase))) {
        for (const ip of pod.podIPs) ask(`${podLabel(ip)}.${namespace}.pod.${zone}`, ipFamily(ip) === 'IPv6' ? 'AAAA' : 'A');
      }
    }
  }
  const someService = [...snapshot.services].sort(byName)[0]?.name ?? 'does-not-exist';
  ask(`${someService}.${unusedName('no-such-namespace', snapshot.namespaces)}.svc.${zone}`, 'A');
  return [...queries.values()].map((query) => expectationInContext(context, query));
}

function askAboutService(context: DnsContext, service: ServiceView, ask: (name: string, type: DnsQuery['type']) => void): void {
  const name = serviceName(context, service);
  if (service.type === 'ExternalName') {
    ask(name, 'CNAME');
    return;
  }
  ask(name, 'A');
  ask(name, 'AAAA');
  for (const port of service.ports.filter((p) => p.name !== '')) ask(`_${port.name}._${port.protocol.toLowerCase()}.${name}`, 'SRV');
  for (const slice of slicesOf(context.slices, service)) {
    if (slice.addressType === 'FQDN') continue;
    for (const endpoint of slice.endpoints.filter((e) => e.ready)) {
      for (const address of endpoint.addresses) {
        const type = ipFamily(address) === 'IPv6' ? 'AAAA' : 'A';
        ask(`${endpointLabel(address, endpoint.hostname)}.${name}`, type);
        if (service.headless) ask(reverseName(address), 'PTR');
      }
    }
  }
  for (const ip of service.clusterIPs) ask(reverseName(ip), 'PTR');
}
