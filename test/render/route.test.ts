import { parseRouteN } from '../../src/parse/route.ts';
import type { RouteEntry } from '../../src/parse/types.ts';
import { renderRouteLine, renderRouteN } from '../../src/render/route.ts';
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
