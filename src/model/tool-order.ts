// The order the tools print their rows in, so that an expected table reads, and diffs, like the real one.
// The model sorts what it expects with these; the renderers print rows in the order they are given.
import { ipv4ToInt, ipv6ToBigInt, maskToPrefix } from '../net/ip.ts';
import type { IpvsRealServer, IpvsService, RouteEntry } from '../parse/types.ts';

/**
 * The order of /proc/net/route, which `route -n` prints as is: the kernel walks its FIB trie in
 * ascending destination order; routes to the same destination come longer prefix first, then by
 * ascending metric, compared as the kernel's unsigned value (a printed -1 is 4294967295, so it sorts last).
 * IPv4 only: the IPv6 table is walked in a different order.
 */
export function compareRoutes(a: RouteEntry, b: RouteEntry): number {
  const byDestination = ipv4ToInt(a.destination) - ipv4ToInt(b.destination);
  if (byDestination !== 0) return byDestination;
  const byPrefix = maskToPrefix(b.genmask) - maskToPrefix(a.genmask);
  if (byPrefix !== 0) return byPrefix;
  return (a.metric >>> 0) - (b.metric >>> 0);
}

// ipvsadm's sort order (libipvs.c ipvs_cmp_services, ipvs_cmp_dests)

const PROTOCOL_NUMBERS: Record<IpvsService['protocol'], number> = { TCP: 6, UDP: 17, SCTP: 132, FWM: 0 };
const AF_INET = 2;
const AF_INET6 = 10;

/**
 * ipvsadm's service order: fwmark, then address family (IPv4 first), then protocol number
 * (TCP 6 < UDP 17 < SCTP 132), then address, then port. Like the C code, fwmarks and address words
 * are compared by subtracting unsigned 32-bit values into a signed int: when two values differ by
 * 2^31 or more (e.g. 10.x.x.x against 192.168.x.x) the result wraps and they sort the "wrong" way.
 * Such a comparator is not transitive, so with several far-apart addresses the exact order also
 * depends on glibc's qsort; for the usual cluster ranges it is a plain ascending order.
 */
export function compareIpvsServices(a: IpvsService, b: IpvsService): number {
  const byMark = ((a.fwmark ?? 0) - (b.fwmark ?? 0)) | 0;
  if (byMark !== 0) return byMark;
  const byFamily = serviceFamily(a) - serviceFamily(b);
  if (byFamily !== 0) return byFamily;
  const byProtocol = PROTOCOL_NUMBERS[a.protocol] - PROTOCOL_NUMBERS[b.protocol];
  if (byProtocol !== 0) return byProtocol;
  const byAddress = compareAddresses(a.address, b.address);
  if (byAddress !== 0) return byAddress;
  return (a.port ?? 0) - (b.port ?? 0);
}

/** ipvsadm's real-server order within a service: address (with the same int-subtraction quirk), then port. */
export function compareIpvsRealServers(a: Pick<IpvsRealServer, 'address' | 'port'>, b: Pick<IpvsRealServer, 'address' | 'port'>): number {
  const byAddress = compareAddresses(a.address, b.address);
  if (byAddress !== 0) return byAddress;
  return a.port - b.port;
}

function serviceFamily(service: IpvsService): number {
  const ipv6 = service.protocol === 'FWM' ? service.fwmarkIPv6 === true : service.address?.includes(':') === true;
  return ipv6 ? AF_INET6 : AF_INET;
}

/** The C code compares as many 32-bit words as the first address's family has (1 for IPv4, 4 for IPv6). */
function compareAddresses(a: string | null, b: string | null): number {
  const words = a?.includes(':') ? 4 : 1;
  for (let index = 0; index < words; index++) {
    const difference = (addressWord(a, index) - addressWord(b, index)) | 0;
    if (difference !== 0) return difference;
  }
  return 0;
}

/** The index-th 32-bit word of the address in network order; an IPv4 address fills word 0; null (FWM) is zero. */
function addressWord(address: string | null, index: number): number {
  if (address === null) return 0;
  if (!address.includes(':')) return index === 0 ? ipv4ToInt(address) : 0;
  return Number((ipv6ToBigInt(address) >> BigInt(96 - 32 * index)) & 0xffffffffn);
}
