// The /etc/resolv.conf kubelet gives a pod (through the container runtime).
// Source: kubernetes pkg/kubelet/network/dns/dns.go (GetPodDNS, getPodDNSType, appendDNSConfig,
// mergeDNSOptions, formDNSConfigFitsLimits); model spec §4.
import { ipFamily } from '../net/ip.ts';
import type { ResolvConf } from '../parse/types.ts';
import type { ClusterSnapshot } from '../snapshot/types.ts';
import type { ExpectedResolvConf } from './types.ts';

/** A pod's spec.dnsConfig. */
export interface PodDnsConfig {
  nameservers?: string[];
  searches?: string[];
  options?: { name: string; value?: string | null }[];
}

export interface ResolvConfRequest {
  namespace: string;
  /** ClusterFirst (also when ""), ClusterFirstWithHostNet, Default or None */
  dnsPolicy: string;
  hostNetwork?: boolean;
  /** The node's resolv.conf as kubelet reads it (kubelet resolvConf, default /etc/resolv.conf). Absent: an
   *  empty file. null: kubelet runs with resolvConf "" (then the pod gets a loopback nameserver). 'unknown':
   *  not read (the operator cannot see the node's file): what the pod takes from it is left open. */
  hostResolvConf?: ResolvConf | null | 'unknown';
  /** The node's IPs, for resolvConf "": one loopback nameserver per IP, ::1 for IPv6 ones. Default one IPv4. */
  nodeIPs?: string[];
  dnsConfig?: PodDnsConfig | null;
}

const MAX_NAMESERVERS = 3;
// ExpandedDNSConfig limits (GA and always on since Kubernetes 1.28; the legacy ones were 6 and 256).
const MAX_SEARCH_DOMAINS = 32;
const MAX_SEARCH_LINE_CHARS = 2048;
const MAX_SEARCH_DOMAIN_CHARS = 253;

type PodDnsType = 'cluster' | 'host' | 'none';

function podDnsType(dnsPolicy: string, hostNetwork: boolean): PodDnsType {
  switch (dnsPolicy) {
    case 'None':
      return 'none';
    case 'ClusterFirstWithHostNet':
      return 'cluster';
    case '':
    case 'ClusterFirst':
      return hostNetwork ? 'host' : 'cluster';
    case 'Default':
      return 'host';
    default:
      throw new Error(`dnsPolicy ${JSON.stringify(dnsPolicy)} is not one of ClusterFirst, ClusterFirstWithHostNet, Default, None`);
  }
}

function omitDuplicates(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * The resolv.conf of a pod in `request.namespace`. Rules:
 * - The base is the node's resolv.conf (nameservers, search with trailing dots removed, options).
 * - ClusterFirst, not hostNetwork, and ClusterFirstWithHostNet: nameservers = the cluster DNS IPs only
 *   (snapshot.dns.serviceIPs, kubelet's clusterDNS); search = "<ns>.svc.<domain> svc.<domain> <domain>"
 *   then the node's search list, duplicates removed; options = ndots:5 only. With no cluster DNS IP,
 *   kubelet falls back to Default (and records a MissingClusterDNS event).
 * - ClusterFirst with hostNetwork, and Default: the node's settings unchanged; with kubelet resolvConf ""
 *   one loopback nameserver per node IP (127.0.0.1, ::1 for IPv6) and search ".".
 * - None: empty; spec.dnsConfig must bring a nameserver (the API rejects the pod otherwise: an error here).
 * - spec.dnsConfig, for any policy: its nameservers and searches are appended, duplicates removed; its
 *   options are merged by name, a pod option replacing the base option of the same name (kubelet merges
 *   through a map, so the written order is random: options are a set here).
 * - Limits: at most 3 nameservers; search domains longer than 253 characters are dropped, at most 32
 *   are kept, and domains are cut from the end until the search line fits in 2048 characters.
 */
export function expectedResolvConf(snapshot: ClusterSnapshot, request: ResolvConfRequest): ExpectedResolvConf {
  const host = hostBase(request);
  let type = podDnsType(request.dnsPolicy, request.hostNetwork ?? false);
  if (type === 'cluster' && snapshot.dns.serviceIPs.length === 0) type = 'host';
  let conf: ResolvConf;
  if (type === 'cluster') {
    const domain = snapshot.dns.clusterDomain;
    const clusterSearch = domain ? [`${request.namespace}.svc.${domain}`, `svc.${domain}`, domain] : [];
    conf = { nameservers: [...snapshot.dns.serviceIPs], search: omitDuplicates([...clusterSearch, ...host.search]), options: { ndots: '5' } };
  } else if (type === 'host') {
    conf = host;
  } else {
    conf = { nameservers: [], search: [], options: {} };
  }
  if (request.dnsConfig) conf = appendDnsConfig(conf, request.dnsConfig);
  if (type === 'none' && conf.nameservers.length === 0) {
    throw new Error(`a pod with dnsPolicy None in namespace ${request.namespace} needs dnsConfig.nameservers (the API server rejects it otherwise)`);
  }
  const unknownNode = request.hostResolvConf === 'unknown';
  return {
    namespace: request.namespace,
    dnsPolicy: request.dnsPolicy || 'ClusterFirst',
    nameservers: conf.nameservers.slice(0, MAX_NAMESERVERS),
    search: searchWithinLimits(conf.search),
    options: conf.options,
    unknownFromNode: !unknownNode ? null : type === 'cluster' ? 'search-tail' : type === 'host' ? 'node-file' : null,
  };
}

function hostBase(request: ResolvConfRequest): ResolvConf {
  if (request.hostResolvConf === 'unknown') return { nameservers: [], search: [], options: {} };
  if (request.hostResolvConf === null) {
    const families = request.nodeIPs?.length ? request.nodeIPs.map((ip) => ipFamily(ip)) : ['IPv4'];
    return { nameservers: families.map((family) => (family === 'IPv6' ? '::1' : '127.0.0.1')), search: ['.'], options: {} };
  }
  const file = request.hostResolvConf ?? { nameservers: [], search: [], options: {} };
  return { nameservers: [...file.nameservers], search: file.search.map((s) => s.replace(/\.$/, '')), options: { ...file.options } };
}

function appendDnsConfig(base: ResolvConf, dnsConfig: PodDnsConfig): ResolvConf {
  const options = { ...base.options };
  for (const option of dnsConfig.options ?? []) options[option.name] = option.value ? option.value : null;
  return {
    nameservers: omitDuplicates([...base.nameservers, ...(dnsConfig.nameservers ?? [])]),
    search: omitDuplicates([...base.search, ...(dnsConfig.searches ?? [])]),
    options,
  };
}

function searchWithinLimits(search: string[]): string[] {
  const kept = search.slice(0, MAX_SEARCH_DOMAINS).filter((domain) => domain.length <= MAX_SEARCH_DOMAIN_CHARS);
  while (kept.length > 0 && kept.join(' ').length > MAX_SEARCH_LINE_CHARS) kept.pop();
  return kept;
}
