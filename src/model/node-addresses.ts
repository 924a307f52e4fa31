// The node addresses kube-proxy (IPVS mode) opens NodePorts on.
// Sources: kubernetes pkg/proxy/ipvs/proxier.go (nodeIPs), pkg/proxy/util/nodeport_addresses.go,
// pkg/proxy/ipvs/util netlink_linux.go (GetAllLocalAddressesExcept), cmd/kube-proxy/app/server.go ("primary").
import { cidrContains, ipFamily, type IpFamily, parseCidr } from '../net/ip.ts';
import type { NodeView } from '../snapshot/types.ts';
import { checkedCidr } from './lookup.ts';

const isLoopback = (ip: string) => cidrContains('127.0.0.0/8', ip) || ip === '::1';
const isIpv6LinkLocal = (ip: string) => cidrContains('fe80::/10', ip);

/** kube-proxy's "primary" node IP of a family: the first InternalIP of that family, else the first ExternalIP. */
function primaryAddress(node: NodeView, family: IpFamily): string | null {
  const of = (type: string) => node.addresses.find((a) => a.type === type && ipFamily(a.address) === family)?.address;
  return of('InternalIP') ?? of('ExternalIP') ?? null;
}

/**
 * The addresses of `node` that carry NodePort virtual servers, for one family. Rules:
 * - kube-proxy uses every address of every interface except kube-ipvs0, loopback and IPv6 link-local
 *   ones. netlab only sees what the API shows: the node's InternalIP/ExternalIP status addresses, its
 *   Calico addresses (IPv4Address, the tunl0 and vxlan.calico tunnel addresses), plus
 *   `extraAddresses` for the rest (docker0, secondary IPs, ...), which the user has to supply;
 * - nodePortAddresses: with no CIDR of this family, or a zero-length one, every address is used (minus
 *   loopback and IPv6 link-local); otherwise the addresses inside the CIDRs, minus loopback; "primary"
 *   means the node's primary address of the family only.
 * Sorted and without duplicates.
 */
export function nodePortAddresses(node: NodeView, family: IpFamily, nodePortCidrs: string[], extraAddresses: string[] = []): string[] {
  if (nodePortCidrs.includes('primary')) {
    const primary = primaryAddress(node, family);
    return primary ? [primary] : [];
  }
  const fromNode = [
    ...node.addresses.filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => a.address),
    ...[node.calico.ipv4Address].filter((a) => a !== undefined).map((cidr) => parseCidr(cidr).address),
    ...[node.calico.ipipTunnelAddr, node.calico.vxlanTunnelAddr].filter((a) => a !== undefined),
  ];
  for (const address of extraAddresses) {
    if (!ipFamily(address)) throw new Error(`extra node address ${JSON.stringify(address)} of node ${node.name} is not an IP address`);
  }
  const cidrs = nodePortCidrs.map((cidr) => checkedCidr(cidr, 'kube-proxy nodePortAddresses')).filter((cidr) => cidr.family === family);
  const matchAll = cidrs.length === 0 || cidrs.some((cidr) => cidr.prefix === 0);
  const wanted = (ip: string) => (matchAll ? !isIpv6LinkLocal(ip) : cidrs.some((cidr) => cidrContains(cidr, ip)));
  const addresses = [...fromNode, ...extraAddresses].filter((ip) => ipFamily(ip) === family && !isLoopback(ip) && wanted(ip));
  return [...new Set(addresses)].sort();
}
