import { parseRouteN } from '../../src/parse/route.ts';
import { readCapture } from '../fixtures/captures/read.ts';
import { parseErrorOf } from './parse-error.ts';

const HEADER = 'Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n';

const parseErrorOfText = (text: string) => parseErrorOf(() => parseRouteN(text, 'test-input'));

describe('parseRouteN on captures', () => {
  test('seed-route-n.txt: 8 rows, the blackhole row has Iface "*" and flags U', () => {
    const { routes, ipv6 } = parseRouteN(readCapture('seed-route-n.txt'), 'seed-route-n.txt');
    expect(routes).toHaveLength(8);
    expect(ipv6).toBeUndefined();
    expect(routes[0]).toEqual({
      destination: '0.0.0.0', gateway: '10.130.29.1', genmask: '0.0.0.0', flags: 'UG', metric: 100, ref: 0, use: 0, iface: 'ens32',
    });
    expect(routes.find((r) => r.iface === '*')).toEqual({
      destination: '10.244.0.0', gateway: '0.0.0.0', genmask: '255.255.255.0', flags: 'U', metric: 0, ref: 0, use: 0, iface: '*',
    });
    expect(routes.filter((r) => r.flags === 'UH').map((r) => r.iface)).toEqual(['calid3c6b0469a6', 'calidbc2311f514', 'califb4eac25ec6']);
    expect(routes.filter((r) => r.iface === 'tunl0').map((r) => `${r.destination} via ${r.gateway}`)).toEqual([
      '10.244.1.0 via 10.130.29.81',
      '10.244.2.0 via 10.130.29.82',
    ]);
  });

  test('vm-route-n.txt: 9 rows including the VXLAN /26 route', () => {
    const { routes } = parseRouteN(readCapture('vm-route-n.txt'));
    expect(routes).toHaveLength(9);
    expect(routes.at(-1)).toEqual({
      destination: '10.244.3.0', gateway: '10.244.3.0', genmask: '255.255.255.192', flags: 'UG', metric: 0, ref: 0, use: 0, iface: 'vxlan.calico',
    });
  });

  test('netns-route-n-reject-metric.txt: reject rows ("!", "-" fields) and metric -1', () => {
    const { routes } = parseRouteN(readCapture('netns-route-n-reject-metric.txt'));
    expect(routes).toHaveLength(9);
    const rejects = routes.filter((r) => r.flags === '!');
    expect(rejects).toEqual([
      { destination: '10.8.0.0', gateway: '-', genmask: '255.255.0.0', flags: '!', metric: 0, ref: null, use: 0, iface: '-' },
      { destination: '10.9.0.0', gateway: '-', genmask: '255.255.0.0', flags: '!', metric: 0, ref: null, use: 0, iface: '-' },
    ]);
    expect(routes.filter((r) => r.destination === '10.6.0.0').map((r) => [r.genmask, r.metric])).toEqual([
      ['255.255.255.0', 0],
      ['255.255.0.0', 5],
      ['255.255.0.0', -1],
    ]);
  });

  test('netns-route-n-inet6.txt: the IPv6 layout, prefix length in genmask, a destination wider than its column', () => {
    const table = parseRouteN(readCapture('netns-route-n-inet6.txt'));
    expect(table.ipv6).toBe(true);
    expect(table.routes).toHaveLength(15);
    expect(table.routes[1]).toEqual({
      destination: 'fd01::', gateway: 'fd00::1', genmask: '64', flags: 'UG', metric: 1024, ref: 1, use: 0, iface: 'd0',
    });
    expect(table.routes.find((r) => r.genmask === '128' && r.metric === -1)).toEqual({
      destination: 'fd04:1234:5678:9abc:def0:1234:5678:9abc', gateway: '::', genmask: '128', flags: 'U', metric: -1, ref: 1, use: 0, iface: 'd0',
    });
    expect(table.routes.filter((r) => r.flags === '!n').map((r) => `${r.destination}/${r.genmask}`)).toEqual(['fd02::/64', 'fd03::/48', '::/0']);
  });
});

describe('parseRouteN edge cases', () => {
  test('a header-only table is empty', () => {
    expect(parseRouteN(HEADER)).toEqual({ routes: [] });
  });

  test('CRLF line ends, trailing spaces, hand-trimmed widths and no header', () => {
    const text = '10.244.1.0 10.130.29.81 255.255.255.0 UG 0 0 0 tunl0   \r\n10.244.2.0  10.130.29.82  255.255.255.0  UG  1024  0  0  tunl0\r\n';
    const { routes } = parseRouteN(text);
    expect(routes.map((r) => [r.destination, r.metric, r.iface])).toEqual([
      ['10.244.1.0', 0, 'tunl0'],
      ['10.244.2.0', 1024, 'tunl0'],
    ]);
  });

  test('blank lines are ignored', () => {
    expect(parseRouteN(`\n${HEADER}\n10.0.0.0 0.0.0.0 255.0.0.0 U 0 0 0 eth0\n\n`).routes).toHaveLength(1);
  });
});

describe('parseRouteN errors name the line', () => {
  test('a garbage row', () => {
    const error = parseErrorOfText(`${HEADER}10.0.0.0 0.0.0.0 255.0.0.0 U 0 0 0 eth0\nhello world\n`);
    expect(error.line).toBe(4);
    expect(error.text).toBe('hello world');
    expect(error.source).toBe('test-input');
    expect(error.message).toBe('test-input:4: cannot parse route -n output: Destination "hello" is not an IPv4 address\n  "hello world"');
  });

  test.each([
    ['10.0.0.0 0.0.0.0 255.0.255.0 U 0 0 0 eth0', 'Genmask "255.0.255.0" is not a netmask'],
    ['10.0.0.0 0.0.0.0 255.0.0.0 U 0 0 0', 'missing Iface'],
    ['10.0.0.0 0.0.0.0 255.0.0.0 U 0 0 0 eth0 extra', 'unexpected "extra" after Iface'],
    ['10.0.0.0 0.0.0.0 255.0.0.0 U x 0 0 eth0', 'Metric "x" is not a number'],
    ['10.0.0.0 0.0.0.0 255.0.0.0 U 0 - x eth0', 'Use "x" is not a number'],
    ['10.0.0.0 0.0.0.0 255.0.0.0 U1 0 0 0 eth0', 'Flags "U1" are not route flags'],
    ['10.0.0.0 gw 255.0.0.0 U 0 0 0 eth0', 'Gateway "gw" is not an IPv4 address'],
    ['fd00::/64 :: U 256 1 0 eth0', 'an IPv6 route in an IPv4 listing'],
    ['Kernel IP routing cache', 'the routing cache (route -C) is not supported'],
    ['Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface', 'the extended layout (route -e / -ee) is not supported'],
  ])('%j: %s', (row, reason) => {
    const error = parseErrorOfText(`${HEADER}${row}\n`);
    expect(error.line).toBe(3);
    expect(error.message).toContain(reason);
  });

  test('a header after rows (two listings pasted together)', () => {
    const error = parseErrorOfText(`${HEADER}10.0.0.0 0.0.0.0 255.0.0.0 U 0 0 0 eth0\n${HEADER}`);
    expect(error.line).toBe(4);
    expect(error.message).toContain('a header line after route rows');
  });

  test('an IPv6 row with a bad prefix', () => {
    const error = parseErrorOfText('Kernel IPv6 routing table\nfd00::/129 :: U 256 1 0 eth0\n');
    expect(error.line).toBe(2);
    expect(error.message).toContain('Destination "fd00::/129" is not an IPv6 prefix');
  });

  test('empty output is an error, not an empty table', () => {
    const error = parseErrorOfText('');
    expect(error.line).toBe(1);
    expect(error.message).toContain('empty output');
  });
});
