// The node addresses kube-proxy (IPVS mode) opens NodePorts on.
// Sources: kubernetes pkg/proxy/ipvs/proxier.go syncProxyRules (nodeIPs), pkg/proxy/util/nodeport_addresses.go
// (NewNodePortAddresses, MatchAll, GetNodeIPs), pkg/proxy/ipvs/netlink_linux.go (GetAllLocalAddressesExcept,
// isValidForSet), cmd/kube-proxy/app/server.go ("primary").
import { type Cidr, cidrContains, ipFamily, type IpFamily, parseCidr } from '../net/ip.ts';
import type { InterfaceAddressTable } from '../parse/types.ts';
import type { NodeView } from '../snapshot/types.ts';
import { checkedCidr } from './lookup.ts';

/** The dummy interface kube-proxy (IPVS mode) puts Service addresses on. */
export const KUBE_IPVS_INTERFACE = 'kube-ipvs0';

const FAMILIES: IpFamily[] = ['IPv4', 'IPv6'];
const isLoopback = (ip: string) => cidrContains('127.0.0.0/8', ip) || ip === '::1';
const isIpv6LinkLocal = (ip: string) => cidrContains('fe80::/10', ip);

/** One address a NodePort is opened on, and how netlab knows the node has it. */
export interface NodePortAddress {
  address: string;
  /**
   * observed: the interface `ip -o addr` showed it on (kube-ipvs0 only when no other interface has it);
   * inferred (the node's addresses were not observed): the Node field it comes from, e.g. "InternalIP"
   */
  source: { observed: true; iface: string } | { observed: false; field: string };
}

/**
 * kube-proxy's node IP of a family (detectNodeIPs over utilnode.GetNodeHostIPs): the first InternalIP of
 * that family, else the first ExternalIP; null when the Node has none (kube-proxy then has loopback).
 */
function primaryAddress(node: NodeView, family: IpFamily): string | null {
  const of = (type: string) => node.addresses.find((a) => a.type === type && ipFamily(a.address) === family);
  return (of('InternalIP') ?? of('ExternalIP'))?.address ?? null;
}

/** expandNodePortAddressKeywords (cmd/kube-proxy/app/server.go): "primary", "localhost" and "all" as CIDRs. */
export function expandNodePortAddresses(node: NodeView, entries: string[]): string[] {
  return entries.flatMap((entry) => {
    if (entry === 'primary') {
      return FAMILIES.map((family) => primaryAddress(node, family)).filter((ip) => ip !== null).map((ip) => `${ip}/${ipFamily(ip) === 'IPv4' ? 32 : 128}`);
    }
    if (entry === 'localhost') return ['127.0.0.0/8', '::1/128'];
    if (entry === 'all') return ['0.0.0.0/0', '::/0'];
    return [entry];
  });
}

/** The addresses NodePorts open on, and the CIDRs that bound them (null: any address of the family, MatchAll). */
export interface NodePortAddressing {
  addresses: NodePortAddress[];
  within: Cidr[] | null;
}

/**
 * The addresses of `node` that carry NodePort virtual servers, for one family, sorted by address. The
 * nodePortAddresses entries, keywords expanded, are kept for this family (NewNodePortAddresses), then:
 * - no CIDR of this family, or a zero-length one (MatchAll): every address of the family on every interface
 *   except kube-ipvs0, minus loopback and IPv6 link-local ones (GetAllLocalAddressesExcept);
 * - otherwise: every interface address inside one of the CIDRs, kube-ipvs0's included, minus loopback
 *   (GetNodeIPs lists all interfaces: a CIDR that covers the Service CIDR gives NodePorts on ClusterIPs;
 *   "primary" gives one only when an interface holds the node IP).
 * With `interfaces` (the node's `ip -o addr`) these are exact. Without it netlab only has the Node object:
 * it expects the InternalIPs and Calico's own addresses (the node address, the tunl0 and vxlan.calico
 * addresses), which are on interfaces, and not the ExternalIPs, which often are not (a cloud's NAT address).
 */
export function nodePortAddresses(node: NodeView, family: IpFamily, entries: string[], interfaces: InterfaceAddressTable | null): NodePortAddressing {
  const candidates = interfaces ? observedCandidates(interfaces, family) : inferredCandidates(node, family);
  const cidrs = expandNodePortAddresses(node, entries).map((cidr) => checkedCidr(cidr, 'kube-proxy nodePortAddresses')).filter((cidr) => cidr.family === family);
  const matchAll = cidrs.length === 0 || cidrs.some((cidr) => cidr.prefix === 0);
  const wanted = (c: NodePortAddress) =>
    !isLoopback(c.address) &&
    (matchAll ? !isIpv6LinkLocal(c.address) && !(c.source.observed && c.source.iface === KUBE_IPVS_INTERFACE) : cidrs.some((cidr) => cidrContains(cidr, c.address)));
  const byAddress = new Map<string, NodePortAddress>();
  for (const candidate of candidates) {
    if (!wanted(candidate)) continue;
    // An address on several interfaces: name a real one rather than kube-ipvs0.
    const seen = byAddress.get(candidate.address);
    if (!seen || (seen.source.observed && seen.source.iface === KUBE_IPVS_INTERFACE)) byAddress.set(candidate.address, candidate);
  }
  const addresses = [...byAddress.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return { addresses, within: matchAll ? null : cidrs };
}

function observedCandidates(interfaces: InterfaceAddressTable, family: IpFamily): NodePortAddress[] {
  return interfaces.addresses
    .filter((a) => a.family === family)
    .map((a) => ({ address: a.address, source: { observed: true, iface: a.iface } }));
}

function inferredCandidates(node: NodeView, family: IpFamily): NodePortAddress[] {
  const inferred = (address: string, field: string): NodePortAddress => ({ address, source: { observed: false, field } });
  const { calico } = node;
  return [
    ...node.addresses.filter((a) => a.type === 'InternalIP').map((a) => inferred(a.address, 'InternalIP')),
    ...(calico.ipv4Address ? [inferred(parseCidr(calico.ipv4Address).address, 'projectcalico.org/IPv4Address')] : []),
    ...(calico.ipipTunnelAddr ? [inferred(calico.ipipTunnelAddr, 'projectcalico.org/IPv4IPIPTunnelAddr (tunl0)')] : []),
    ...(calico.vxlanTunnelAddr ? [inferred(calico.vxlanTunnelAddr, 'projectcalico.org/IPv4VXLANTunnelAddr (vxlan.calico)')] : []),
  ].filter((c) => ipFamily(c.address) === family);
}
