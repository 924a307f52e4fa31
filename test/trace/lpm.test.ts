import { readFileSync } from 'node:fs';
import { parseRouteN } from '../../src/parse/route.ts';
import type { RouteEntry } from '../../src/parse/types.ts';
import { longestPrefixMatch } from '../../src/trace/lpm.ts';

// node-1's real `route -n` from the seed example (examples/seed/observed/README.md says where it comes from)
const seed = parseRouteN(readFileSync(new URL('../../examples/seed/observed/node-1/route-n.txt', import.meta.url), 'utf8')).routes;
const row = (destination: string, genmask: string, extra: Partial<RouteEntry> = {}): RouteEntry => ({
  destination, gateway: '0.0.0.0', genmask, flags: 'U', metric: 0, ref: 0, use: 0, iface: 'eth0', ...extra,
});
const pick = (routes: RouteEntry[], ip: string) => {
  const r = longestPrefixMatch(routes, ip);
  return r && `${r.destination}/${r.genmask} ${r.iface}`;
};

describe('longestPrefixMatch on the seed node-1 table', () => {
  test.each([
    ['10.244.0.137', '10.244.0.137/255.255.255.255 calid3c6b0469a6'], // a local pod's /32 beats its block
    ['10.244.0.9', '10.244.0.0/255.255.255.0 *'], // no pod: the block's blackhole
    ['10.244.1.141', '10.244.1.0/255.255.255.0 tunl0'], // node-2's block through the tunnel
    ['10.130.29.81', '10.130.29.0/255.255.255.0 ens32'], // the host subnet
    ['8.8.8.8', '0.0.0.0/0.0.0.0 ens32'], // the default route
  ])('%s -> %s', (ip, expected) => {
    expect(pick(seed, ip)).toBe(expected);
  });
});

describe('longestPrefixMatch rules', () => {
  test('equal prefixes: the lowest metric wins, whatever the order', () => {
    const routes = [row('10.0.0.0', '255.0.0.0', { metric: 100, iface: 'slow' }), row('10.0.0.0', '255.0.0.0', { metric: 5, iface: 'fast' })];
    expect(longestPrefixMatch(routes, '10.1.2.3')!.iface).toBe('fast');
    expect(longestPrefixMatch([...routes].reverse(), '10.1.2.3')!.iface).toBe('fast');
  });

  test('equal prefix and metric: the first listed', () => {
    const routes = [row('10.0.0.0', '255.0.0.0', { iface: 'first' }), row('10.0.0.0', '255.0.0.0', { iface: 'second' })];
    expect(longestPrefixMatch(routes, '10.9.9.9')!.iface).toBe('first');
  });

  test('no match without a default route; a row without U never matches', () => {
    expect(longestPrefixMatch([row('192.168.0.0', '255.255.0.0')], '10.0.0.1')).toBeNull();
    expect(longestPrefixMatch([row('10.0.0.0', '255.0.0.0', { flags: 'G' })], '10.0.0.1')).toBeNull();
  });

  test('the boundary addresses of a prefix match it, the next address does not', () => {
    const routes = [row('10.244.1.0', '255.255.255.192')];
    expect(longestPrefixMatch(routes, '10.244.1.0')).not.toBeNull();
    expect(longestPrefixMatch(routes, '10.244.1.63')).not.toBeNull();
    expect(longestPrefixMatch(routes, '10.244.1.64')).toBeNull();
  });

  test('a non-IPv4 destination is refused with its value named', () => {
    expect(() => longestPrefixMatch(seed, 'fd00::1')).toThrow('"fd00::1" is not an IPv4 address');
  });
});
