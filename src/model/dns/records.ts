// The kubernetes plugin's record lookup (coredns plugin/kubernetes kubernetes.go Records, findServices,
// findPods): a name under the cluster zone becomes a list of entries, or "no such name".
import { ipFamily } from '../../net/ip.ts';
import type { ClusterSnapshot, EndpointSliceView, EndpointView, ServiceView } from '../../snapshot/types.ts';
import { indexSlices, type SliceIndex, slicesOf } from '../lookup.ts';
import { canonicalIp, endpointLabel, labelsBelowZone, normalizeName, parseRequest, podLabel, podLabelText, type RecordRequest } from './names.ts';

/** The snapshot with the indexes CoreDNS's informers keep, built once per model run. */
export interface DnsContext {
  snapshot: ClusterSnapshot;
  /** the cluster domain, normalized */
  zone: string;
  namespaces: Set<string>;
  /** Services by "<namespace>/<name>" */
  services: Map<string, ServiceView>;
  slices: SliceIndex;
  /** Services by ClusterIP (canonical text), the first one when several claim it */
  byClusterIP: Map<string, ServiceView>;
  /** ready endpoint addresses (canonical text) of non-FQDN slices, with the slice they are in */
  readyByAddress: Map<string, { slice: EndpointSliceView; endpoint: EndpointView; address: string }[]>;
}

export function makeDnsContext(snapshot: ClusterSnapshot): DnsContext {
  const byClusterIP = new Map<string, ServiceView>();
  for (const service of snapshot.services) {
    for (const ip of service.clusterIPs) if (ipFamily(ip) && !byClusterIP.has(canonicalIp(ip))) byClusterIP.set(canonicalIp(ip), service);
  }
  const readyByAddress: DnsContext['readyByAddress'] = new Map();
  for (const slice of snapshot.endpointSlices) {
    if (slice.addressType === 'FQDN') continue;
    for (const endpoint of slice.endpoints.filter((e) => e.ready)) {
      for (const address of endpoint.addresses.filter((a) => ipFamily(a))) {
        const key = canonicalIp(address);
        const entries = readyByAddress.get(key);
        if (entries) entries.push({ slice, endpoint, address });
        else readyByAddress.set(key, [{ slice, endpoint, address }]);
      }
    }
  }
  return {
    snapshot,
    zone: normalizeName(snapshot.dns.clusterDomain),
    namespaces: new Set(snapshot.namespaces),
    services: new Map(snapshot.services.map((s) => [`${s.namespace}/${s.name}`, s])),
    slices: indexSlices(snapshot),
    byClusterIP,
    readyByAddress,
  };
}

/** One of CoreDNS's internal answers (its msg.Service): an address or a CNAME target, and the name it stands for. */
export interface BackendEntry {
  /** an IP address, or the target name of an ExternalName Service */
  host: string;
  /** the port; -1 when the Service or EndpointSlice declares none */
  port: number;
  /** the name this entry is the address of, SRV's target: "<svc>.<ns>.svc.<zone>", "<label>.<svc>.<ns>.svc.<zone>" */
  owner: string;
}

export type Lookup =
  | { found: true; entries: BackendEntry[]; about: string }
  | { found: false; reason: string };

const notFound = (reason: string): Lookup => ({ found: false, reason });

/** A port of a Service or slice as CoreDNS matches it; port -1, name and protocol "" stand for "no ports declared". */
interface NamedPort {
  name: string;
  protocol: string;
  port: number;
}

const NO_PORTS: NamedPort[] = [{ name: '', protocol: '', port: -1 }];

/** matchPortAndProtocol: a request's port and protocol, when given, equal the port's (ignoring case). */
function portMatches(request: RecordRequest, port: NamedPort): boolean {
  const same = (a: string, b: string) => a === '' || a.toLowerCase() === b.toLowerCase();
  return same(request.port, port.name) && same(request.protocol, port.protocol);
}

export function serviceName(context: Pick<DnsContext, 'zone'>, service: Pick<ServiceView, 'name' | 'namespace'>): string {
  return `${service.name}.${service.namespace}.svc.${context.zone}`;
}

/**
 * Records: what a name under the cluster zone resolves to before the query type is looked at.
 * - the zone apex, svc.<zone>, pod.<zone>: found, no entries (NODATA);
 * - a bad name (see parseRequest): not found (NXDOMAIN);
 * - a namespace that does not exist: not found (CoreDNS watches Namespaces);
 * - then findPods or findServices.
 */
export function lookupRecords(context: DnsContext, name: string): Lookup {
  const parsed = parseRequest(labelsBelowZone(name, context.zone));
  if (parsed.kind === 'apex') return { found: true, entries: [], about: `${name} is the cluster zone itself, which exists but holds no records of its own` };
  if (parsed.kind === 'invalid') return notFound(parsed.reason);
  const request = parsed.request;
  if (!context.namespaces.has(request.namespace)) {
    return notFound(`namespace ${JSON.stringify(request.namespace)} does not exist, so nothing under it does`);
  }
  return request.podOrSvc === 'pod' ? findPods(context, request) : findServices(context, request);
}

/**
 * findPods, by the plugin's pods mode (kubeadm sets insecure; the plugin default is disabled):
 * - disabled: no pod names at all;
 * - "<ns>.pod.<zone>": the namespace, no records;
 * - insecure: any label that decodes to an address answers that address, pod or no pod;
 * - verified: only when a pod of that namespace, not being deleted, has a primary pod IP written exactly as
 *   the label decodes (CoreDNS compares the text, kubernetes.go findPods: `ip == p.PodIP`).
 * Labels left of the pod label are ignored, as CoreDNS does.
 */
function findPods(context: DnsContext, request: RecordRequest): Lookup {
  const mode = context.snapshot.dns.podsMode;
  if (mode === 'disabled') return notFound('pod records are disabled in CoreDNS (kubernetes plugin without "pods insecure" or "pods verified")');
  if (request.service === '') return { found: true, entries: [], about: `namespace ${request.namespace} exists, but this name names no pod` };
  const owner = `${request.service}.${request.namespace}.pod.${context.zone}`;
  const text = podLabelText(request.service);
  if (!ipFamily(text)) return notFound(`${JSON.stringify(request.service)} does not decode to an IP address (it reads as ${JSON.stringify(text)})`);
  const address = canonicalIp(text);
  if (mode === 'insecure') {
    return { found: true, entries: [{ host: address, port: 0, owner }], about: `pods mode is insecure: CoreDNS answers the address the label spells (${address}) without checking for a pod` };
  }
  const live = context.snapshot.pods.filter((p) => p.namespace === request.namespace && !p.terminating && p.podIPs[0] !== undefined);
  const pods = live.filter((p) => p.podIPs[0] === text);
  if (!pods.length) {
    const respelled = live.find((p) => canonicalIp(p.podIPs[0]!) === address);
    if (respelled) {
      return notFound(`pods mode is verified: pod ${request.namespace}/${respelled.name} has IP ${respelled.podIPs[0]}, but CoreDNS compares the label's text (${text}) with it as written, so only ${podLabel(respelled.podIPs[0]!)} names it`);
    }
    return notFound(`pods mode is verified and no pod in ${request.namespace} has primary IP ${text}`);
  }
  return {
    found: true,
    entries: pods.map(() => ({ host: address, port: 0, owner })),
    about: `pods mode is verified and pod ${request.namespace}/${pods.map((p) => p.name).join(', ')} has IP ${address}`,
  };
}

/**
 * findServices, for a name under "<ns>.svc":
 * - "<ns>.svc.<zone>": the namespace, no records;
 * - no Service of that name: NXDOMAIN;
 * - ExternalName: one CNAME-style entry to externalName; NXDOMAIN when the name carries an endpoint or
 *   port label, or when externalName is an IP address (CoreDNS makes no record of it);
 * - headless, or any Service asked for an endpoint label: one entry per ready endpoint address x matching
 *   slice port (see endpointEntries); NXDOMAIN when there is none;
 * - ClusterIP: one entry per matching port x ClusterIP, endpoints or not; NXDOMAIN when no port matches.
 */
function findServices(context: DnsContext, request: RecordRequest): Lookup {
  if (request.service === '') return { found: true, entries: [], about: `namespace ${request.namespace} exists, but the name names no Service in it` };
  const service = context.services.get(`${request.namespace}/${request.service}`);
  if (!service) return notFound(`there is no Service ${JSON.stringify(request.service)} in namespace ${request.namespace}`);
  const id = `${service.namespace}/${service.name}`;
  const owner = serviceName(context, service);

  if (service.type === 'ExternalName') {
    if (request.endpoint || request.port || request.protocol) return notFound(`ExternalName Service ${id} has no endpoints or ports to look up`);
    const target = (service.externalName ?? '').toLowerCase().replace(/\.$/, '');
    if (target === '' || ipFamily(target)) return notFound(`ExternalName Service ${id} points at ${JSON.stringify(target)}, which is not a DNS name, so CoreDNS makes no record`);
    return { found: true, entries: [{ host: target, port: 0, owner }], about: `Service ${id} is of type ExternalName: its name is an alias (CNAME) of ${target}` };
  }

  if (service.headless || request.endpoint) return endpointEntries(context, service, request);

  const ports = service.ports.length ? service.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port })) : NO_PORTS;
  const matching = ports.filter((p) => portMatches(request, p));
  if (!matching.length) return notFound(`Service ${id} has no port named ${JSON.stringify(request.port)} with protocol ${JSON.stringify(request.protocol)}`);
  return {
    found: true,
    entries: matching.flatMap((p) => service.clusterIPs.map((ip) => ({ host: ip, port: p.port, owner }))),
    about: `Service ${id} has ClusterIP ${service.clusterIPs.join(', ')}, which CoreDNS answers whether or not the Service has endpoints`,
  };
}

/** A slice's ports as CoreDNS keeps them: a missing port number is -1, a slice without ports gets the -1 sentinel. */
function slicePorts(slice: EndpointSliceView): NamedPort[] {
  return slice.ports.length ? slice.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port ?? -1 })) : NO_PORTS;
}

/**
 * The entries of a headless Service, or of an endpoint name "<label>.<svc>.<ns>.svc":
 * - only ready endpoints count (conditions.ready, nil counting as ready; publishNotReadyAddresses makes
 *   the EndpointSlice controller mark every pod ready); FQDN slices are left out;
 * - every address of the endpoint, times every slice port matching the request;
 * - for an endpoint name, only addresses whose label (endpointLabel) equals it.
 */
function endpointEntries(context: DnsContext, service: ServiceView, request: RecordRequest): Lookup {
  const id = `${service.namespace}/${service.name}`;
  const owner = serviceName(context, service);
  const entries: BackendEntry[] = [];
  const described = new Set<string>();
  let readyAddresses = 0;
  for (const slice of slicesOf(context.slices, service)) {
    if (slice.addressType === 'FQDN') continue;
    const ports = slicePorts(slice).filter((p) => portMatches(request, p));
    for (const endpoint of slice.endpoints.filter((e) => e.ready)) {
      for (const address of endpoint.addresses) {
        readyAddresses++;
        const label = endpointLabel(address, endpoint.hostname);
        if (request.endpoint && label !== request.endpoint) continue;
        if (ports.length) described.add(`${address}${endpoint.targetRef ? ` (${endpoint.targetRef.kind.toLowerCase()} ${endpoint.targetRef.name})` : ''}`);
        for (const p of ports) entries.push({ host: address, port: p.port, owner: `${label}.${owner}` });
      }
    }
  }
  const addresses = [...described].join(', ');
  if (request.endpoint) {
    if (!entries.length) {
      return notFound(`no ready endpoint of Service ${id} is named ${JSON.stringify(request.endpoint)} (an endpoint's name is its EndpointSlice hostname, else its address with dashes)`);
    }
    return { found: true, entries, about: `${JSON.stringify(request.endpoint)} names the ready endpoint ${addresses} of Service ${id}` };
  }
  if (readyAddresses === 0) return notFound(`headless Service ${id} has no ready endpoint, and a headless name without ready endpoints does not exist`);
  if (!entries.length) return notFound(`no ready endpoint of headless Service ${id} has a port named ${JSON.stringify(request.port)} with protocol ${JSON.stringify(request.protocol)}`);
  return { found: true, entries, about: `headless Service ${id} answers with its ready endpoints: ${addresses}` };
}
