import { parseIpvsadm } from '../../src/parse/ipvsadm.ts';
import type { IpvsRealServer, IpvsService } from '../../src/parse/types.ts';
import { renderIpvsadm, renderIpvsServiceLine, renderRealServerLine } from '../../src/render/ipvsadm.ts';
import { readCapture } from '../fixtures/captures/read.ts';

const svc = (fields: Partial<IpvsService>): IpvsService => ({
  protocol: 'TCP', address: '10.96.0.1', port: 443, fwmark: null, scheduler: 'rr', persistent: null, netmask: null, flags: [], realServers: [], ...fields,
});
const rs = (fields: Partial<IpvsRealServer>): IpvsRealServer => ({
  address: '10.244.0.137', port: 53, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0, ...fields,
});

describe('renderIpvsadm reproduces real ipvsadm 1.31 output byte for byte', () => {
  test.each([
    ['vm-ipvsadm-Ln.txt', {}],
    ['vm-ipvsadm-Ln-stats.txt', { listing: 'stats' }],
    ['vm-ipvsadm-Ln-rate.txt', { listing: 'rate' }],
    ['vm-ipvsadm-Ln-one-service.txt', { versionLine: false }],
  ] as const)('%s', (file, options) => {
    const capture = readCapture(file);
    expect(renderIpvsadm(parseIpvsadm(capture), options)).toBe(capture);
  });

  test("seed-ipvsadm-Ln.txt matches except its last line, which the article's copy trimmed", () => {
    const capture = readCapture('seed-ipvsadm-Ln.txt');
    const rendered = renderIpvsadm(parseIpvsadm(capture)).split('\n');
    const original = capture.split('\n');
    // Every line but the last real server is identical, trailing spaces included.
    expect(rendered.slice(0, -2)).toEqual(original.slice(0, -2));
    // ipvsadm pads InActConn to 10 columns ("%-10u"): the article kept 3 of those 9 trailing spaces.
    expect(original.at(-2)).toBe('  -> 10.244.0.138:53              Masq    1      0          0   ');
    expect(rendered.at(-2)).toBe('  -> 10.244.0.138:53              Masq    1      0          0         ');
    expect(rendered.at(-1)).toBe('');
  });

  test('version line values are options', () => {
    expect(renderIpvsadm({ services: [] }, { version: '1.2.2', size: 1048576 }).split('\n')[0]).toBe('IP Virtual Server version 1.2.2 (size=1048576)');
  });
});

describe('renderIpvsServiceLine', () => {
  test('protocol padded to 4 columns', () => {
    expect(renderIpvsServiceLine(svc({}))).toBe('TCP  10.96.0.1:443 rr');
    expect(renderIpvsServiceLine(svc({ protocol: 'SCTP', port: 9999 }))).toBe('SCTP 10.96.0.1:9999 rr');
  });

  test('flags in the order ipvsadm prints them: (scheduler flags) persistent, mask, pe, ops', () => {
    expect(renderIpvsServiceLine(svc({ scheduler: 'mh', flags: ['mh-fallback', 'mh-port'] }))).toBe('TCP  10.96.0.1:443 mh (mh-fallback,mh-port)');
    expect(renderIpvsServiceLine(svc({ scheduler: 'sh', persistent: 300, netmask: '255.255.255.0', flags: ['sh-port', 'pe:sip', 'ops'] }))).toBe(
      'TCP  10.96.0.1:443 sh (sh-port) persistent 300 mask 255.255.255.0 pe sip ops',
    );
    expect(renderIpvsServiceLine(svc({ flags: ['ops'] }))).toBe('TCP  10.96.0.1:443 rr ops');
  });

  test('a host mask is not printed, as ipvsadm leaves out the default', () => {
    expect(renderIpvsServiceLine(svc({ persistent: 10800, netmask: '255.255.255.255' }))).toBe('TCP  10.96.0.1:443 rr persistent 10800');
    expect(renderIpvsServiceLine(svc({ address: 'fd00::1', persistent: 60, netmask: '128' }))).toBe('TCP  [fd00::1]:443 rr persistent 60');
    expect(renderIpvsServiceLine(svc({ address: 'fd00::1', persistent: 60, netmask: '64' }))).toBe('TCP  [fd00::1]:443 rr persistent 60 mask 64');
  });

  test('FWM services, IPv4 and IPv6', () => {
    expect(renderIpvsServiceLine(svc({ protocol: 'FWM', address: null, port: null, fwmark: 100 }))).toBe('FWM  100 rr');
    expect(renderIpvsServiceLine(svc({ protocol: 'FWM', address: null, port: null, fwmark: 7, fwmarkIPv6: true }))).toBe('FWM  7 IPv6 rr');
    // ipvsadm 1.31 formats the mark with "%d"
    expect(renderIpvsServiceLine(svc({ protocol: 'FWM', address: null, port: null, fwmark: 2882430849 }))).toBe('FWM  -1412536447 rr');
  });

  test('the name is cut at 33 characters for IPv4 but not for IPv6 (only names, as without -n, are that long)', () => {
    // A host name stands in for a resolved address: with -n an IPv4 name is at most 26 characters.
    expect(renderIpvsServiceLine(svc({ address: 'kubernetes.default.svc.cluster.local', port: 443 }))).toBe('TCP  kubernetes.default.svc.clust rr');
    expect(renderIpvsServiceLine(svc({ address: 'fd00:1234:5678:9abc:def0:1234:5678:9abc', port: 65535 }))).toBe(
      'TCP  [fd00:1234:5678:9abc:def0:1234:5678:9abc]:65535 rr',
    );
  });

  test('values the tool did not print render as "-"', () => {
    expect(renderIpvsServiceLine(svc({ scheduler: null }))).toBe('TCP  10.96.0.1:443 -');
  });

  test('--stats and --rate service lines pad the name to 33 and scale large counters', () => {
    const counters = { Conns: 99999999, InPkts: 100000000, OutPkts: 123456789012, InBytes: 5e13, OutBytes: 1.8e19 };
    expect(renderIpvsServiceLine(svc({ counters }), 'stats')).toBe('TCP  10.96.0.1:443                99999999  100000K     123G   50000G18000000T');
    expect(renderIpvsServiceLine(svc({}), 'stats')).toBe(`TCP  10.96.0.1:443${' '.repeat(15)}${'        -'.repeat(5)}`);
  });
});

describe('renderRealServerLine', () => {
  test('fixed columns with trailing spaces', () => {
    expect(renderRealServerLine(rs({}))).toBe('  -> 10.244.0.137:53              Masq    1      0          0         ');
    expect(renderRealServerLine(rs({ address: 'fd00:10:244::5' }))).toBe('  -> [fd00:10:244::5]:53          Masq    1      0          0         ');
    expect(renderRealServerLine(rs({ forward: 'Tunnel', weight: 100, activeConn: 1234567890, inactConn: 12 }))).toBe(
      '  -> 10.244.0.137:53              Tunnel  100    1234567890 12        ',
    );
  });

  test('an expected real server (connection counts unknown) shows "-"', () => {
    expect(renderRealServerLine(rs({ activeConn: null, inactConn: null }))).toBe('  -> 10.244.0.137:53              Masq    1      -          -         ');
  });

  test('the address is cut at 28 characters for IPv4 but not for IPv6', () => {
    expect(renderRealServerLine(rs({ address: 'coredns-5d78c9869d-abcde.kube-system' }))).toBe(
      '  -> coredns-5d78c9869d-abcde.kub Masq    1      0          0         ',
    );
    expect(renderRealServerLine(rs({ address: 'fd00:1234:5678:9abc:def0:1234:5678:9abc', port: 8080 }))).toBe(
      '  -> [fd00:1234:5678:9abc:def0:1234:5678:9abc]:8080 Masq    1      0          0         ',
    );
  });

  test('--rate prints a real server CPS, InPPS and OutPPS exact, the byte rates scaled', () => {
    const counters = { CPS: 123456789, InPPS: 1, OutPPS: 2, InBPS: 123456789, OutBPS: 3 };
    expect(renderRealServerLine(rs({ counters }), 'rate')).toBe('  -> 10.244.0.137:53              123456789        1        2  123456K        3');
    expect(renderRealServerLine(rs({ counters: { Conns: 123456789, InPkts: 0, OutPkts: 0, InBytes: 0, OutBytes: 0 } }), 'stats')).toBe(
      `  -> 10.244.0.137:53${' '.repeat(13)}  123456K${'        0'.repeat(4)}`,
    );
  });
});

