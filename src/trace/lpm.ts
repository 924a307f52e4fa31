// Longest-prefix match: the kernel's choice of a route for one destination, over `route -n` rows.
import { ipv4ToInt, isIpv4, maskToPrefix } from '../net/ip.ts';
import type { RouteEntry } from '../parse/types.ts';

/**
 * The row of an IPv4 `route -n` table the kernel uses for `ip` (main table, no policy rules):
 * - a row matches when `ip` lies in destination/genmask; rows whose flags lack U (down) never match;
 * - the longest prefix wins; among rows of equal prefix, the lowest metric, then the first listed
 *   (the kernel keeps same-prefix routes ordered by metric).
 * Blackhole (Iface "*") and reject ("!") rows match like any other: the caller decides what they do.
 * null when nothing matches (not even a default route). Throws when `ip` is not an IPv4 address.
 */
export function longestPrefixMatch<T extends RouteEntry>(routes: readonly T[], ip: string): T | null {
  if (!isIpv4(ip)) throw new Error(`longest-prefix match: ${JSON.stringify(ip)} is not an IPv4 address (route -n lists IPv4 routes)`);
  const address = ipv4ToInt(ip);
  let best: T | null = null;
  let bestPrefix = -1;
  for (const route of routes) {
    if (!route.flags.includes('U')) continue;
    const prefix = maskToPrefix(route.genmask);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if (((address & mask) >>> 0) !== ipv4ToInt(route.destination)) continue;
    if (prefix > bestPrefix || (prefix === bestPrefix && best !== null && route.metric < best.metric)) {
      best = route;
      bestPrefix = prefix;
    }
  }
  return best;
}
