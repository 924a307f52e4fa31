import { parseRouteN } from '../../src/parse/route.ts';
import type { RouteEntry } from '../../src/parse/types.ts';
import { compareRoutes, renderRouteLine, renderRouteN } from '../../src/render/route.ts';
import { readCapture } from '../fixtures/captures/read.ts';

describe('renderRouteN reproduces real route -n output byte for byte', () => {
  test.each(['vm-route-n.txt', 'seed-route-n.txt', 'netns-route-n-reject-metric.txt', 'netns-route-n-inet6.txt'])('%s', (file) => {
    const capture = readCapture(file);
    expect(renderRouteN(parseRouteN(capture))).toBe(capture);
  });

  test('an empty table keeps the header of its family', () => {
    expect(renderRouteN({ routes: [] })).toBe('Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n');
    expect(renderRouteN({ routes: [], ipv6: true })).toBe(
      'Kernel IPv6 routing table\nDestination                    Next Hop                   Flag Met Ref  Use If\n',
    );
  });
});

describe('renderRouteLine', () => {
  const route = (fields: Partial<RouteEntry>): RouteEntry => ({
    destination: '10.244.1.0', gateway: '10.130.29.81', genmask: '255.255.255.0', flags: 'UG', metric: 0, ref: 0, use: 0, iface: 'tunl0', ...fields,
  });

  test('a remote block via tunl0, a blackhole and a reject route', () => {
    expect(renderRouteLine(route({}))).toBe('10.244.1.0      10.130.29.81    255.255.255.0   UG    0      0        0 tunl0');
    expect(renderRouteLine(route({ gateway: '0.0.0.0', genmask: '255.255.255.192', flags: 'U', iface: '*' }))).toBe(
      '10.244.1.0      0.0.0.0         255.255.255.192 U     0      0        0 *',
    );
    expect(renderRouteLine(route({ gateway: '-', flags: '!', ref: null, iface: '-' }))).toBe(
      '10.244.1.0      -               255.255.255.0   !     0      -        0 -',
    );
  });

  test('wide values push the next columns right instead of being cut', () => {
    expect(renderRouteLine(route({ metric: 4294967, use: 123456789 }))).toBe(
      '10.244.1.0      10.130.29.81    255.255.255.0   UG    4294967 0  123456789 tunl0',
    );
  });

  test('an IPv6 row', () => {
    expect(renderRouteLine({ destination: 'fd01::', gateway: 'fd00::1', genmask: '64', flags: 'UG', metric: 1024, ref: 1, use: 0, iface: 'd0' })).toBe(
      'fd01::/64                      fd00::1                    UG   1024 1      0 d0',
    );
  });
});

describe('compareRoutes follows the /proc/net/route (FIB trie) order', () => {
  test.each(['vm-route-n.txt', 'seed-route-n.txt', 'netns-route-n-reject-metric.txt'])('sorting %s shuffled gives the real order back', (file) => {
    const { routes } = parseRouteN(readCapture(file));
    const shuffled = [...routes.slice(3).reverse(), ...routes.slice(0, 3)];
    expect(shuffled).not.toEqual(routes);
    expect(shuffled.sort(compareRoutes)).toEqual(routes);
  });

  test('same destination: longer prefix first, then metric as unsigned (-1 last)', () => {
    const base: RouteEntry = { destination: '10.6.0.0', gateway: '0.0.0.0', genmask: '255.255.0.0', flags: 'U', metric: 0, ref: 0, use: 0, iface: 'eth0' };
    const rows = [
      { ...base, metric: -1 },
      { ...base, metric: 5 },
      { ...base, genmask: '255.255.255.0' },
      { ...base, destination: '10.5.255.0', genmask: '255.255.255.0' },
    ];
    expect(rows.sort(compareRoutes).map((r) => `${r.destination}/${r.genmask}/${r.metric}`)).toEqual([
      '10.5.255.0/255.255.255.0/0',
      '10.6.0.0/255.255.255.0/0',
      '10.6.0.0/255.255.0.0/5',
      '10.6.0.0/255.255.0.0/-1',
    ]);
  });

  test('IPv6 rows are refused (the IPv6 table is walked in another order)', () => {
    const v6 = parseRouteN(readCapture('netns-route-n-inet6.txt')).routes;
    expect(() => compareRoutes(v6[0]!, v6[1]!)).toThrow('not an IPv4 address: "fd00::"');
  });
});
