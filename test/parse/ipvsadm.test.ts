import { parseIpvsadm, parseIpvsList, parseIpvsSave, parseIpvsTimeout } from '../../src/parse/ipvsadm.ts';
import type { IpvsService, IpvsTable } from '../../src/parse/types.ts';
import { readCapture } from '../fixtures/captures/read.ts';
import { parseErrorOf } from './parse-error.ts';

const TITLE = 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';


function service(table: IpvsTable, name: string): IpvsService {
  const found = table.services.find((s) => (s.protocol === 'FWM' ? `FWM ${s.fwmark}` : `${s.protocol} ${s.address}:${s.port}`) === name);
  if (!found) throw new Error(`no service ${name}`);
  return found;
}

function realServerCount(table: IpvsTable): number {
  return table.services.reduce((n, s) => n + s.realServers.length, 0);
}

describe('ipvsadm -Ln captures', () => {
  const table = parseIpvsadm(readCapture('vm-ipvsadm-Ln.txt'), 'vm-ipvsadm-Ln.txt');

  test('17 services and 26 real servers, in the printed order', () => {
    expect(table.services).toHaveLength(17);
    expect(realServerCount(table)).toBe(26);
    expect(table.services.map((s) => s.protocol)).toEqual([...Array(12).fill('TCP'), 'UDP', 'UDP', 'SCTP', 'TCP', 'FWM']);
  });

  test('a plain service with its Masq real servers', () => {
    expect(table.services[0]).toEqual({
      protocol: 'TCP', address: '10.96.0.1', port: 443, fwmark: null, scheduler: 'rr', persistent: null, netmask: null, flags: [],
      realServers: ['10.130.29.80', '10.130.29.81', '10.130.29.82'].map((address) => ({
        address, port: 6443, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0,
      })),
    });
  });

  test('persistence with a mask', () => {
    const udp = service(table, 'UDP 10.96.100.10:5353');
    expect({ ...udp, realServers: udp.realServers.length }).toEqual({
      protocol: 'UDP', address: '10.96.100.10', port: 5353, fwmark: null, scheduler: 'rr', persistent: 600, netmask: '255.255.255.0', flags: [], realServers: 1,
    });
  });

  test('lc with persistent 10800 and a real server of weight 0', () => {
    const svc = service(table, 'TCP 10.96.100.10:80');
    expect([svc.scheduler, svc.persistent, svc.netmask]).toEqual(['lc', 10800, null]);
    expect(svc.realServers.find((rs) => rs.address === '10.244.0.140')).toEqual({
      address: '10.244.0.140', port: 8080, forward: 'Masq', weight: 0, activeConn: 0, inactConn: 0,
    });
  });

  test('each scheduler as printed', () => {
    expect(['11', '12', '13', '14', '15'].map((last) => service(table, `TCP 10.96.100.${last}:${last === '15' ? 8443 : 80}`).scheduler)).toEqual([
      'sh', 'sed', 'nq', 'dh', 'wrr',
    ]);
    expect(service(table, 'TCP 10.96.100.15:8443').realServers.map((rs) => rs.weight)).toEqual([3, 1]);
  });

  test('a service without real servers', () => {
    expect(service(table, 'TCP 10.96.100.20:80').realServers).toEqual([]);
  });

  test('SCTP, IPv6 without brackets, and the firewall-mark service', () => {
    expect(service(table, 'SCTP 10.96.100.30:9999').realServers).toMatchObject([{ address: '10.244.1.9', port: 9999 }]);
    const v6 = service(table, 'TCP fd00:10:96::a:53');
    expect(v6.realServers).toEqual([{ address: 'fd00:10:244::5', port: 53, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 }]);
    expect(service(table, 'FWM 100')).toEqual({
      protocol: 'FWM', address: null, port: null, fwmark: 100, scheduler: 'rr', persistent: null, netmask: null, flags: [],
      realServers: [{ address: '10.244.1.5', port: 0, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 }],
    });
  });

  test('the one-service listing has no version line', () => {
    const one = parseIpvsadm(readCapture('vm-ipvsadm-Ln-one-service.txt'));
    expect(one.services).toHaveLength(1);
    expect(one.services[0]).toMatchObject({ protocol: 'TCP', address: '10.96.0.10', port: 53, scheduler: 'rr' });
    expect(one.services[0]!.realServers.map((rs) => rs.address)).toEqual(['10.244.0.137', '10.244.0.138']);
  });

  test("the seed article's listing, whose last line has odd trailing spaces", () => {
    const seed = parseIpvsadm(readCapture('seed-ipvsadm-Ln.txt'));
    expect(seed.services.map((s) => `${s.address}:${s.port}`)).toEqual(['10.96.0.1:443', '10.96.0.10:53']);
    expect(realServerCount(seed)).toBe(5);
    expect(seed.services[0]!.realServers.map((rs) => rs.activeConn)).toEqual([6, 1, 0]);
    expect(seed.services[1]!.realServers[1]).toEqual({ address: '10.244.0.138', port: 53, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 });
  });
});

describe('--stats and --rate captures', () => {
  test.each([
    ['vm-ipvsadm-Ln-stats.txt', ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes']],
    ['vm-ipvsadm-Ln-rate.txt', ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS']],
  ])('%s: same 17 services, counters keyed by the printed columns, no scheduler/forward/weight', (file, columns) => {
    const table = parseIpvsadm(readCapture(file));
    expect(table.services).toHaveLength(17);
    expect(realServerCount(table)).toBe(26);
    const zero = Object.fromEntries(columns.map((c) => [c, 0]));
    expect(table.services[0]).toMatchObject({ protocol: 'TCP', address: '10.96.0.1', port: 443, scheduler: null, counters: zero });
    expect(table.services[0]!.realServers[0]).toEqual({
      address: '10.130.29.80', port: 6443, forward: null, weight: null, activeConn: null, inactConn: null, counters: zero,
    });
    expect(service(table, 'FWM 100').counters).toEqual(zero);
    const rules = parseIpvsadm(readCapture('vm-ipvsadm-Ln.txt'));
    const names = (t: IpvsTable) => t.services.map((s) => [s.protocol, s.address, s.port, s.fwmark, s.realServers.map((rs) => `${rs.address}:${rs.port}`)]);
    expect(names(table)).toEqual(names(rules));
  });

  test('scaled counters (K, M, G, T) read back as their lower bound', () => {
    // Layout imitating `ipvsadm -Ln --stats` (print_largenum): values of 10^8 or more get a suffix.
    const text = [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes',
      '  -> RemoteAddress:Port',
      'TCP  10.96.0.1:443                99999999  123456K    1234M     123G      18T',
      '  -> 10.244.0.5:6443                    3      120      100     9000    12000',
    ].join('\n');
    const [svc] = parseIpvsadm(text).services;
    expect(svc!.counters).toEqual({ Conns: 99999999, InPkts: 123456000, OutPkts: 1234000000, InBytes: 123e9, OutBytes: 18e12 });
    expect(svc!.realServers[0]!.counters).toEqual({ Conns: 3, InPkts: 120, OutPkts: 100, InBytes: 9000, OutBytes: 12000 });
  });
});

describe('ipvsadm -S -n', () => {
  const saved = parseIpvsadm(readCapture('vm-ipvsadm-S-n.txt'));

  test('17 services, 26 real servers; persistence, mask, SCTP, IPv6 and FWM read from the switches', () => {
    expect(saved.services).toHaveLength(17);
    expect(realServerCount(saved)).toBe(26);
    expect(service(saved, 'UDP 10.96.100.10:5353')).toMatchObject({ scheduler: 'rr', persistent: 600, netmask: '255.255.255.0' });
    expect(service(saved, 'SCTP 10.96.100.30:9999').realServers).toHaveLength(1);
    expect(service(saved, 'TCP fd00:10:96::a:53').realServers[0]).toEqual({
      address: 'fd00:10:244::5', port: 53, forward: 'Masq', weight: 1, activeConn: null, inactConn: null,
    });
    expect(service(saved, 'FWM 100').realServers[0]).toMatchObject({ address: '10.244.1.5', port: 0 });
  });

  test('the save format and the listing of the same VM state give the same services (connection counts aside)', () => {
    const listed = parseIpvsadm(readCapture('vm-ipvsadm-Ln.txt'));
    const withoutCounts = (table: IpvsTable) =>
      table.services.map((s) => ({ ...s, realServers: s.realServers.map(({ activeConn: _a, inactConn: _i, ...rs }) => rs) }));
    expect(withoutCounts(saved)).toEqual(withoutCounts(listed));
  });
});

describe('service and real-server details (lines imitating ipvsadm 1.31 print_service_entry)', () => {
  test('scheduler flags, persistence engine, one-packet scheduling, IPv6 masks and FWM IPv6', () => {
    const text = [
      'TCP  10.96.0.20:80 mh (mh-fallback,mh-port)',
      'UDP  10.96.0.21:53 sh (sh-port) persistent 300 pe sip ops',
      'UDP  10.96.0.22:53 rr ops',
      'TCP  [fd00::20]:80 rr persistent 60 mask 64',
      'FWM  7 IPv6 wlc',
      '  -> [fd00::5]:0                    Route   2      4          5         ',
      '  -> [fd00::6]:0                    Tunnel  1      0          0',
      '  -> [fd00::7]:0                    Local   1      0          0',
    ].join('\n');
    const table = parseIpvsadm(text);
    expect(table.services.map((s) => [s.scheduler, s.flags, s.persistent, s.netmask])).toEqual([
      ['mh', ['mh-fallback', 'mh-port'], null, null],
      ['sh', ['sh-port', 'pe:sip', 'ops'], 300, null],
      ['rr', ['ops'], null, null],
      ['rr', [], 60, '64'],
      ['wlc', [], null, null],
    ]);
    expect(table.services[4]).toMatchObject({ protocol: 'FWM', fwmark: 7, fwmarkIPv6: true, address: null, port: null });
    expect(table.services[4]!.realServers.map((rs) => [rs.address, rs.forward, rs.weight, rs.activeConn, rs.inactConn])).toEqual([
      ['fd00::5', 'Route', 2, 4, 5],
      ['fd00::6', 'Tunnel', 1, 0, 0],
      ['fd00::7', 'Local', 1, 0, 0],
    ]);
  });

  test('the save format: -b flags, --pe, -o, -6, -g/-i and tunnel options', () => {
    const text = [
      '-A -t 10.96.0.20:80 -s mh -b mh-fallback,mh-port',
      '-A -u 10.96.0.21:53 -s sh -p 300 --pe sip -o -b sh-port',
      '-A -f 7 -6 -s wlc',
      '-a -f 7 -6 -r [fd00::5]:0 -g -w 2',
      '-a -f 7 -6 -r [fd00::6]:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
    ].join('\n');
    const table = parseIpvsSave(text);
    expect(table.services.map((s) => [s.scheduler, s.flags, s.persistent])).toEqual([
      ['mh', ['mh-fallback', 'mh-port'], null],
      ['sh', ['sh-port', 'pe:sip', 'ops'], 300],
      ['wlc', [], null],
    ]);
    expect(table.services[2]).toMatchObject({ fwmark: 7, fwmarkIPv6: true });
    expect(table.services[2]!.realServers.map((rs) => [rs.address, rs.forward, rs.weight])).toEqual([
      ['fd00::5', 'Route', 2],
      ['fd00::6', 'Tunnel', 1],
    ]);
  });

  test('a firewall mark of 2^31 or more, printed negative by ipvsadm 1.31 ("%d"), reads back unsigned', () => {
    expect(parseIpvsadm('FWM  -1412536447 wlc').services[0]!.fwmark).toBe(2882430849);
    expect(parseIpvsadm('FWM  2882430849 wlc').services[0]!.fwmark).toBe(2882430849);
    expect(parseIpvsadm('-A -f -1412536447 -s wlc').services[0]!.fwmark).toBe(2882430849);
  });

  test('header lines are optional; CRLF and blank lines are accepted', () => {
    const table = parseIpvsList('TCP  10.96.0.1:443 rr\r\n\r\n  -> 10.0.0.1:6443 Masq 1 0 0\r\n');
    expect(table.services[0]!.realServers).toHaveLength(1);
  });

  test('empty text is an empty table (ipvsadm -S -n without services)', () => {
    expect(parseIpvsadm('')).toEqual({ services: [] });
  });
});

describe('ipvsadm --timeout', () => {
  test('parseIpvsTimeout reads the capture', () => {
    expect(parseIpvsTimeout(readCapture('vm-ipvsadm-Ln-timeout.txt'))).toEqual({ tcp: 900, tcpfin: 120, udp: 300 });
  });

  test('parseIpvsadm refuses it with a pointer to parseIpvsTimeout', () => {
    const error = parseErrorOf(() => parseIpvsadm(readCapture('vm-ipvsadm-Ln-timeout.txt'), 'timeout.txt'));
    expect(error.line).toBe(1);
    expect(error.message).toContain('read it with parseIpvsTimeout');
  });

  test('a malformed timeout line', () => {
    expect(parseErrorOf(() => parseIpvsTimeout('Timeout (tcp tcpfin udp): 900 x 300')).message).toContain('tcpfin timeout "x" is not a number');
    expect(parseErrorOf(() => parseIpvsTimeout('')).message).toContain('empty output');
  });
});

describe('errors name the line', () => {
  const listing = readCapture('vm-ipvsadm-Ln.txt');

  test('a garbage line in the middle of a real listing', () => {
    const lines = listing.split('\n');
    lines.splice(9, 0, 'garbage here');
    const error = parseErrorOf(() => parseIpvsadm(lines.join('\n'), 'vm.txt'));
    expect(error.line).toBe(10);
    expect(error.text).toBe('garbage here');
    expect(error.format).toBe('ipvsadm -Ln');
    expect(error.message).toBe('vm.txt:10: cannot parse ipvsadm -Ln output: unknown line ("garbage" is not TCP, UDP, SCTP or FWM)\n  "garbage here"');
  });

  test.each([
    ['TCP  10.96.0.1:443 rr\n  -> 10.0.0.1:6443 Bridge 1 0 0', 2, 'Forward "Bridge" is not Masq, Local, Tunnel or Route'],
    ['TCP  10.96.0.1:443 rr\n  -> 10.0.0.1:6443 Masq 1 0', 2, 'missing InActConn'],
    ['TCP  10.96.0.1:443 rr\n  -> 10.0.0.1:6443 Masq 1 0 0 9', 2, 'unexpected "9" after InActConn'],
    ['TCP  10.96.0.1:443 rr\n  -> 10.0.0.1:6443 Masq one 0 0', 2, 'Weight "one" is not a number'],
    ['  -> 10.0.0.1:6443 Masq 1 0 0', 1, 'a real server line before any virtual service line'],
    ['TCP  kubernetes.default:https rr', 1, 'LocalAddress "kubernetes.default:https" is not "IPv4 address:port" or "[IPv6 address]:port" (ipvsadm -n prints numbers)'],
    ['TCP  10.96.0.1:https rr', 1, 'LocalAddress:Port port "https" is not a port number'],
    ['TCP  10.96.0.1:65536 rr', 1, 'port "65536" is not a port number'],
    ['TCP  [fd00::1:443 rr', 1, 'is not "IPv4 address:port" or "[IPv6 address]:port"'],
    ['TCP  10.96.0.1:443 rr\n  -> 10.0.0.256:80 Masq 1 0 0', 2, 'RemoteAddress "10.0.0.256:80" is not'],
    ['TCP  10.96.0.1:443 rr fast', 1, 'unexpected "fast" in the service\'s flags'],
    ['TCP  10.96.0.1:443 rr (mh-port', 1, 'malformed scheduler flags'],
    ['TCP  10.96.0.1:443 0 0 0 0 0', 1, 'a --stats or --rate listing without its title line?'],
    ['FWM  x rr', 1, 'firewall mark "x" is not a 32-bit number'],
    ['FWM  4294967296 rr', 1, 'firewall mark "4294967296" is not a 32-bit number'],
    [`${TITLE}IP Virtual Server version 1.2.1 (size=4096)`, 3, 'the version line must be the first line'],
    [`${TITLE}${TITLE}`, 3, 'a second title line'],
    ['Prot LocalAddress:Port Scheduler Flags\nTCP  10.96.0.1:443 rr', 2, 'expected the title line'],
    ['Prot LocalAddress:Port Scheduler Flags', 1, 'the second title line ("  -> RemoteAddress:Port ...") is missing'],
    ['Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn', 2, 'the --tun-info listing is not supported'],
    ['Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn\n  -> RemoteAddress:Port', 1, 'the --thresholds listing is not supported'],
    ['IP Virtual Server version one (size=4096)', 1, 'malformed version line'],
  ])('%j -> line %d: %s', (text, line, reason) => {
    const error = parseErrorOf(() => parseIpvsadm(text));
    expect(error.line).toBe(line);
    expect(error.message).toContain(reason);
  });

  test.each([
    ['-A -t 10.96.0.1:443 -s rr\n-A -t 10.96.0.1:443 -s rr', 2, 'the virtual service was already added'],
    ['-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.2:443 -r 10.0.0.1:6443 -m -w 1', 2, 'no earlier -A line added'],
    ['-A -t 10.96.0.1:443', 1, 'the virtual service has no scheduler (-s)'],
    ['-A -t 10.96.0.1:443 -s rr -x 5', 1, 'unknown virtual service option "-x"'],
    ['-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.1:443 -r 10.0.0.1:6443 -w 1', 2, 'no forwarding method'],
    ['-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.1:443 -r 10.0.0.1:6443 -m', 2, 'no weight (-w)'],
    ['-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.1:443 -m -w 1', 2, 'no address (-r)'],
    ['-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.1:443 -r 10.0.0.1:6443 -i -w 1 --tun-type vxlan', 2, 'tunnel type "vxlan"'],
    ['-A -x 10.96.0.1:443 -s rr', 1, '"-x" is not -t, -u, --sctp-service or -f'],
    ['-A constructor 10.96.0.1:443 -s rr', 1, '"constructor" is not -t, -u, --sctp-service or -f'],
    ['-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.1:443 -r 10.0.0.1:6443 toString -w 1', 2, 'unknown real server option "toString"'],
    ['-A -t 10.96.0.1:443 -s rr\n-E -t 10.96.0.1:443 -s wrr', 2, 'unknown line ("-E" is not -A or -a)'],
  ])('save format %j -> line %d: %s', (text, line, reason) => {
    const error = parseErrorOf(() => parseIpvsadm(text));
    expect(error.format).toBe('ipvsadm -S -n');
    expect(error.line).toBe(line);
    expect(error.message).toContain(reason);
  });
});
