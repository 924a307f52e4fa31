// DNS names as CoreDNS's kubernetes plugin reads and writes them (coredns plugin/kubernetes parse.go,
// kubernetes.go endpointHostname and findPods, plugin/pkg/dnsutil/reverse.go).
import { bigIntToIpv6, ipFamily, ipv6ToBigInt } from '../../net/ip.ts';

export const REVERSE_ZONES = ['in-addr.arpa', 'ip6.arpa'] as const;

/** Lower case, without the trailing dot: the form every name in the model takes. Throws on an empty name. */
export function normalizeName(name: string): string {
  const normalized = name.trim().toLowerCase().replace(/\.$/, '');
  if (normalized === '') throw new Error(`DNS name ${JSON.stringify(name)} is empty`);
  return normalized;
}

export function isInZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** The labels of `name` left of `zone` ("web.default.svc" of "web.default.svc.cluster.local"). */
export function labelsBelowZone(name: string, zone: string): string[] {
  return name === zone ? [] : name.slice(0, -(zone.length + 1)).split('.');
}

/** What a name under the cluster zone asks for (CoreDNS's recordRequest). "" means "not given". */
export interface RecordRequest {
  podOrSvc: 'pod' | 'svc';
  namespace: string;
  service: string; // the Service name, or for pod names the dashed pod IP
  endpoint: string;
  port: string; // SRV port name, underscore stripped
  protocol: string; // SRV protocol, underscore stripped
}

export type ParsedName =
  | { kind: 'apex' } // the zone itself, svc.<zone> or pod.<zone>: a name that exists, with no records
  | { kind: 'invalid'; reason: string }
  | { kind: 'request'; request: RecordRequest };

/**
 * parseRequest: `[_port._proto.|endpoint.]service.namespace.(svc|pod)`, read right to left.
 * - nothing, "svc" or "pod" below the zone: the apex (NODATA);
 * - the label before the zone must be "svc" or "pod", more than five labels are too many: invalid (NXDOMAIN);
 * - one label left of the service is an endpoint, two are port and protocol (leading "_" stripped).
 */
export function parseRequest(labels: string[]): ParsedName {
  const last = labels.length - 1;
  if (last < 0 || (last === 0 && (labels[0] === 'svc' || labels[0] === 'pod'))) return { kind: 'apex' };
  const podOrSvc = labels[last];
  if (podOrSvc !== 'svc' && podOrSvc !== 'pod') {
    return { kind: 'invalid', reason: `the label before the cluster zone is ${JSON.stringify(podOrSvc)}, and CoreDNS only serves names under "svc" and "pod"` };
  }
  if (labels.length > 5) {
    return { kind: 'invalid', reason: `${labels.length} labels below the zone are more than the longest form (_port._proto.service.namespace.svc)` };
  }
  const at = (i: number) => labels[i] ?? '';
  const strip = (label: string) => label.replace(/^_/, '');
  const request: RecordRequest = { podOrSvc, namespace: at(last - 1), service: at(last - 2), endpoint: '', port: '', protocol: '' };
  if (labels.length === 4) request.endpoint = at(0);
  if (labels.length === 5) {
    request.port = strip(at(0));
    request.protocol = strip(at(1));
  }
  return { kind: 'request', request };
}

/**
 * An endpoint's label under its Service (endpointHostname): the EndpointSlice hostname when set, else the
 * address with dashes: 10-244-1-5, or for IPv6 ":" -> "-" with "0" appended after a trailing dash (CoreDNS
 * 1.12.3 and later; 1.12.1 left the trailing dash).
 */
export function endpointLabel(address: string, hostname: string | null): string {
  if (hostname) return hostname.toLowerCase();
  if (address.includes('.')) return address.replaceAll('.', '-');
  const dashed = address.toLowerCase().replaceAll(':', '-');
  return dashed.endsWith('-') ? `${dashed}0` : dashed;
}

/** The label of a pod name: the pod IP with "." (IPv4) or ":" (IPv6) turned into "-". */
export function podLabel(ip: string): string {
  return ip.toLowerCase().replaceAll(ipFamily(ip) === 'IPv4' ? '.' : ':', '-');
}

/**
 * findPods' reading of a pod label, as text: 3 dashes and no "--" is IPv4 (dashes become dots), anything
 * else IPv6 (dashes become colons). CoreDNS keeps this text: pods verified compares it with the pod's IP as
 * written, so "fd00-0-0-0-0-0-0-5" is not the pod "fd00::5".
 */
export function podLabelText(label: string): string {
  const ipv4 = (label.match(/-/g) ?? []).length === 3 && !label.includes('--');
  return label.replaceAll('-', ipv4 ? '.' : ':');
}

/** The text Go's net.IP.String gives an address (RFC 5952 for IPv6). */
export function canonicalIp(ip: string): string {
  return ipFamily(ip) === 'IPv6' ? bigIntToIpv6(ipv6ToBigInt(ip)) : ip;
}

/** 10.96.0.10 -> 10.0.96.10.in-addr.arpa; IPv6 -> 32 reversed nibbles under ip6.arpa. */
export function reverseName(ip: string): string {
  if (ipFamily(ip) === 'IPv4') return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const hex = ipv6ToBigInt(ip).toString(16).padStart(32, '0');
  return `${[...hex].reverse().join('.')}.ip6.arpa`;
}

/** ExtractAddressFromReverse: the address a full reverse name stands for, or null for a partial or bad one. */
export function addressFromReverse(name: string): string | null {
  if (name.endsWith('.in-addr.arpa')) {
    const text = name.slice(0, -'.in-addr.arpa'.length).split('.').reverse().join('.');
    return ipFamily(text) === 'IPv4' ? text : null;
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.').reverse();
    if (nibbles.length !== 32 || nibbles.some((n) => !/^[0-9a-f]$/.test(n))) return null;
    return canonicalIp(nibbles.join('').replace(/(.{4})(?!$)/g, '$1:'));
  }
  return null;
}
