import { compareIpvsRealServers, compareIpvsServices, compareRoutes } from '../../src/model/tool-order.ts';
import { parseIpvsadm } from '../../src/parse/ipvsadm.ts';
import { parseRouteN } from '../../src/parse/route.ts';
import type { IpvsRealServer, IpvsService, RouteEntry } from '../../src/parse/types.ts';
import { readCapture } from '../fixtures/captures/read.ts';

const svc = (fields: Partial<IpvsService>): IpvsService => ({
  protocol: 'TCP', address: '10.96.0.1', port: 443, fwmark: null, scheduler: 'rr', persistent: null, netmask: null, flags: [], realServers: [], ...fields,
});
const rs = (fields: Partial<IpvsRealServer>): IpvsRealServer => ({
  address: '10.244.0.137', port: 53, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0, ...fields,
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

describe('ipvsadm sort order', () => {
  const rotate = <T>(items: T[]): T[] => [...items.slice(5).reverse(), ...items.slice(0, 5)];

  test('sorting the services of a real listing, shuffled, gives its order back', () => {
    const { services } = parseIpvsadm(readCapture('vm-ipvsadm-Ln.txt'));
    const shuffled = rotate(services);
    expect(shuffled).not.toEqual(services);
    expect(shuffled.sort(compareIpvsServices)).toEqual(services);
  });

  test('real servers: address, then port', () => {
    const { services } = parseIpvsadm(readCapture('vm-ipvsadm-Ln.txt'));
    const ipv4 = services.flatMap((s) => s.realServers).filter((r) => !r.address.includes(':'));
    const sorted = [...ipv4].reverse().sort(compareIpvsRealServers).map((r) => `${r.address}:${r.port}`);
    expect(sorted.slice(0, 6)).toEqual([
      '10.130.29.80:6443', '10.130.29.81:6443', '10.130.29.82:6443', '10.244.0.137:53', '10.244.0.137:53', '10.244.0.137:9153',
    ]);
    expect(sorted.at(-1)).toBe('10.244.2.9:8443');
    expect([rs({ port: 9153 }), rs({ port: 53 })].sort(compareIpvsRealServers).map((r) => r.port)).toEqual([53, 9153]);
  });

  test('fwmark first, then family, then protocol number', () => {
    const fwm4 = svc({ protocol: 'FWM', address: null, port: null, fwmark: 100 });
    const fwm6 = svc({ protocol: 'FWM', address: null, port: null, fwmark: 100, fwmarkIPv6: true });
    const udp = svc({ protocol: 'UDP', address: '10.0.0.1' });
    const sctp = svc({ protocol: 'SCTP', address: '10.0.0.1' });
    const tcp6 = svc({ address: '::1' });
    const tcp = svc({ address: '10.200.0.1' });
    expect([fwm6, fwm4, tcp6, sctp, udp, tcp].sort(compareIpvsServices)).toEqual([tcp, udp, sctp, tcp6, fwm4, fwm6]);
  });

  test('the int-subtraction quirk: addresses 2^31 or more apart compare the wrong way round', () => {
    const ten = svc({ address: '10.96.0.1' });
    const private192 = svc({ address: '192.168.0.1' });
    const cgnat = svc({ address: '100.64.0.1' });
    expect(compareIpvsServices(ten, cgnat)).toBeLessThan(0); // 0x0a600001 - 0x64400001 fits in an int: ascending
    expect(compareIpvsServices(ten, private192)).toBeGreaterThan(0); // 0x0a600001 - 0xc0a80001 wraps to a positive int
    expect(compareIpvsServices(private192, ten)).toBeLessThan(0);
    expect(compareIpvsServices(ten, svc({ address: '172.18.0.2' }))).toBeGreaterThan(0); // 10/8 and 172.16/12 are 2^31+ apart too
    expect(compareIpvsRealServers(rs({ address: '10.0.0.1' }), rs({ address: '192.168.0.1' }))).toBeGreaterThan(0);
  });
});
