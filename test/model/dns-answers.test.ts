import { dnsExpectationFor, expectedAnswerFor, UnpredictableDnsQuery } from '../../src/model/dns/index.ts';
import type { DnsAnswer, DnsQuery } from '../../src/model/types.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import { makeEndpoint, makePod, makeService, makeSlice, makeSnapshot } from './builders.ts';

const Z = 'cluster.local';

/**
 * default/web: ClusterIP 10.96.0.20, port http/TCP 80, endpoints 10.244.0.5 and 10.244.1.5 (not ready: 10.244.2.5).
 * default/db: headless, ready endpoints db-0 (hostname) 10.244.0.7 and 10.244.1.7 (no hostname), port pg/TCP 5432.
 * default/empty: headless without ready endpoint.  default/dual: dual-stack ClusterIP.
 * default/ext: ExternalName to Example.COM.  default/alias: ExternalName to web.default.svc.cluster.local.
 */
function cluster(overrides: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  const pg = [{ name: 'pg', protocol: 'TCP' as const, port: 5432, targetPort: 5432, nodePort: null }];
  return makeSnapshot({
    services: [
      makeService('default', 'web', ['10.96.0.20']),
      makeService('default', 'db', [], { headless: true, ports: pg }),
      makeService('default', 'empty', [], { headless: true }),
      makeService('default', 'dual', ['10.96.0.30', 'fd00:10:96::30']),
      makeService('default', 'ext', [], { type: 'ExternalName', externalName: 'Example.COM.' }),
      makeService('default', 'alias', [], { type: 'ExternalName', externalName: `web.default.svc.${Z}` }),
    ],
    endpointSlices: [
      makeSlice('default', 'web', [makeEndpoint('10.244.0.5', 'node-1', 'web-a'), makeEndpoint('10.244.1.5', 'node-2', 'web-b'), makeEndpoint('10.244.2.5', 'node-3', 'web-c', { ready: false })]),
      makeSlice('default', 'db', [makeEndpoint('10.244.0.7', 'node-1', 'db-0', { hostname: 'db-0' }), makeEndpoint('10.244.1.7', 'node-2', 'db-1')], { ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] }),
      makeSlice('default', 'empty', [makeEndpoint('10.244.0.9', 'node-1', 'e', { ready: false })]),
    ],
    ...overrides,
  });
}

const ask = (snapshot: ClusterSnapshot, name: string, type: DnsQuery['type']): DnsAnswer => expectedAnswerFor(snapshot, { name, type });
const data = (answer: DnsAnswer) => answer.answers.map((r) => `${r.type} ${r.data}`).sort();
const NODATA: DnsAnswer = { rcode: 'NOERROR', answers: [] };
const NXDOMAIN: DnsAnswer = { rcode: 'NXDOMAIN', answers: [] };

describe('Service A/AAAA', () => {
  test('a ClusterIP Service answers its ClusterIP, endpoints or not', () => {
    expect(ask(cluster(), `web.default.svc.${Z}`, 'A')).toEqual({ rcode: 'NOERROR', answers: [{ name: `web.default.svc.${Z}`, type: 'A', data: '10.96.0.20' }] });
    expect(ask(cluster({ endpointSlices: [] }), `web.default.svc.${Z}`, 'A').answers).toHaveLength(1);
  });

  test('AAAA of an IPv4-only Service is NOERROR with no records; a dual-stack one answers its IPv6 ClusterIP', () => {
    expect(ask(cluster(), `web.default.svc.${Z}`, 'AAAA')).toEqual(NODATA);
    expect(data(ask(cluster(), `dual.default.svc.${Z}`, 'AAAA'))).toEqual(['AAAA fd00:10:96::30']);
  });

  test('a headless Service answers its ready endpoint addresses', () => {
    expect(data(ask(cluster(), `db.default.svc.${Z}`, 'A'))).toEqual(['A 10.244.0.7', 'A 10.244.1.7']);
  });

  test('a headless Service without ready endpoint does not exist (NXDOMAIN), whatever the type', () => {
    expect(ask(cluster(), `empty.default.svc.${Z}`, 'A')).toEqual(NXDOMAIN);
    expect(ask(cluster(), `empty.default.svc.${Z}`, 'AAAA')).toEqual(NXDOMAIN);
    expect(dnsExpectationFor(cluster(), { name: `empty.default.svc.${Z}`, type: 'A' }).why).toMatch(/no ready endpoint/);
  });
});

describe('endpoint names', () => {
  test('an endpoint with an EndpointSlice hostname is "<hostname>.<svc>"', () => {
    expect(data(ask(cluster(), `db-0.db.default.svc.${Z}`, 'A'))).toEqual(['A 10.244.0.7']);
  });

  test('an endpoint without hostname is its address with dashes, also under a ClusterIP Service', () => {
    expect(data(ask(cluster(), `10-244-1-7.db.default.svc.${Z}`, 'A'))).toEqual(['A 10.244.1.7']);
    expect(data(ask(cluster(), `10-244-1-5.web.default.svc.${Z}`, 'A'))).toEqual(['A 10.244.1.5']);
  });

  test('an endpoint with a hostname has no dashed name, a pod name is no endpoint name, not-ready endpoints have none', () => {
    expect(ask(cluster(), `10-244-0-7.db.default.svc.${Z}`, 'A')).toEqual(NXDOMAIN);
    expect(ask(cluster(), `db-1.db.default.svc.${Z}`, 'A')).toEqual(NXDOMAIN);
    expect(ask(cluster(), `10-244-2-5.web.default.svc.${Z}`, 'A')).toEqual(NXDOMAIN);
  });

  test('an IPv6 endpoint label ends in "0" when the address ends in "::"', () => {
    const snapshot = cluster();
    snapshot.endpointSlices.push(makeSlice('default', 'db', [makeEndpoint('fd00:10:244::', 'node-1', 'db-2')], { name: 'db-v6', addressType: 'IPv6', ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] }));
    expect(data(ask(snapshot, `fd00-10-244--0.db.default.svc.${Z}`, 'AAAA'))).toEqual(['AAAA fd00:10:244::']);
  });
});

describe('SRV', () => {
  test('a named port of a ClusterIP Service: one record "0 100 <port> <svc>"', () => {
    expect(ask(cluster(), `_http._tcp.web.default.svc.${Z}`, 'SRV')).toEqual({
      rcode: 'NOERROR',
      answers: [{ name: `_http._tcp.web.default.svc.${Z}`, type: 'SRV', data: `0 100 80 web.default.svc.${Z}` }],
    });
  });

  test('a dual-stack ClusterIP Service: one record of weight 50 (two entries, one target)', () => {
    expect(data(ask(cluster(), `_http._tcp.dual.default.svc.${Z}`, 'SRV'))).toEqual([`SRV 0 50 80 dual.default.svc.${Z}`]);
  });

  test('a headless Service: one record per ready endpoint, weight floor(100/N), target the endpoint name', () => {
    const snapshot = cluster();
    snapshot.endpointSlices[1]!.endpoints.push(makeEndpoint('10.244.2.7', 'node-3', 'db-2', { hostname: 'db-2' }));
    expect(data(ask(snapshot, `_pg._tcp.db.default.svc.${Z}`, 'SRV'))).toEqual([
      `SRV 0 33 5432 10-244-1-7.db.default.svc.${Z}`,
      `SRV 0 33 5432 db-0.db.default.svc.${Z}`,
      `SRV 0 33 5432 db-2.db.default.svc.${Z}`,
    ]);
  });

  test('SRV of a headless Service without ready endpoint is NXDOMAIN, like its A record', () => {
    const expectation = dnsExpectationFor(cluster(), { name: `_http._tcp.empty.default.svc.${Z}`, type: 'SRV' });
    expect(expectation.expect).toEqual(NXDOMAIN);
    expect(expectation.why).toMatch(/has no ready endpoint/);
  });

  test('a port name or protocol the Service does not have is NXDOMAIN', () => {
    expect(ask(cluster(), `_https._tcp.web.default.svc.${Z}`, 'SRV')).toEqual(NXDOMAIN);
    expect(ask(cluster(), `_http._udp.web.default.svc.${Z}`, 'SRV')).toEqual(NXDOMAIN);
  });

  test('SRV of the bare Service name lists every port, unnamed ones included', () => {
    const snapshot = cluster();
    snapshot.services[0]!.ports.push({ name: '', protocol: 'UDP', port: 5353, targetPort: 5353, nodePort: null });
    expect(data(ask(snapshot, `web.default.svc.${Z}`, 'SRV'))).toEqual([`SRV 0 50 5353 web.default.svc.${Z}`, `SRV 0 50 80 web.default.svc.${Z}`]);
  });

  test('a headless Service whose slice declares no port has no SRV record (NODATA), but its A records', () => {
    const snapshot = cluster();
    snapshot.endpointSlices[1]!.ports = [];
    expect(ask(snapshot, `db.default.svc.${Z}`, 'SRV')).toEqual(NODATA);
    expect(data(ask(snapshot, `db.default.svc.${Z}`, 'A'))).toEqual(['A 10.244.0.7', 'A 10.244.1.7']);
  });
});

describe('ExternalName', () => {
  test('CNAME answers the externalName, lower case and without the trailing dot', () => {
    expect(ask(cluster(), `ext.default.svc.${Z}`, 'CNAME')).toEqual({ rcode: 'NOERROR', answers: [{ name: `ext.default.svc.${Z}`, type: 'CNAME', data: 'example.com' }] });
  });

  test('an externalName that is an IP address makes no record: NXDOMAIN', () => {
    const snapshot = cluster();
    snapshot.services.push(makeService('default', 'ip', [], { type: 'ExternalName', externalName: '192.0.2.1' }));
    expect(ask(snapshot, `ip.default.svc.${Z}`, 'CNAME')).toEqual(NXDOMAIN);
    expect(ask(snapshot, `ip.default.svc.${Z}`, 'A')).toEqual(NXDOMAIN);
  });

  test('A of an ExternalName outside the cluster: the CNAME, and a partial answer (the rest comes from upstream)', () => {
    expect(ask(cluster(), `ext.default.svc.${Z}`, 'A')).toEqual({ rcode: 'NOERROR', answers: [{ name: `ext.default.svc.${Z}`, type: 'CNAME', data: 'example.com' }], partial: true });
  });

  test('A of an ExternalName inside the cluster zone: the CNAME followed by the target\'s records', () => {
    expect(ask(cluster(), `alias.default.svc.${Z}`, 'A')).toEqual({
      rcode: 'NOERROR',
      answers: [
        { name: `alias.default.svc.${Z}`, type: 'CNAME', data: `web.default.svc.${Z}` },
        { name: `web.default.svc.${Z}`, type: 'A', data: '10.96.0.20' },
      ],
    });
    expect(ask(cluster(), `alias.default.svc.${Z}`, 'AAAA')).toEqual(NODATA);
  });

  test('SRV of an ExternalName: NODATA for the name, NXDOMAIN with a port label; CNAME of a ClusterIP Service: NODATA', () => {
    expect(ask(cluster(), `ext.default.svc.${Z}`, 'SRV')).toEqual(NODATA);
    expect(ask(cluster(), `_http._tcp.ext.default.svc.${Z}`, 'SRV')).toEqual(NXDOMAIN);
    expect(ask(cluster(), `web.default.svc.${Z}`, 'CNAME')).toEqual(NODATA);
  });
});

describe('names that do not exist, and names that exist without records', () => {
  test('an unknown Service, a namespace that does not exist, a label other than svc/pod, too many labels: NXDOMAIN', () => {
    expect(ask(cluster(), `does-not-exist.default.svc.${Z}`, 'A')).toEqual(NXDOMAIN);
    expect(ask(cluster(), `web.nope.svc.${Z}`, 'A')).toEqual(NXDOMAIN);
    expect(ask(cluster(), `web.default.foo.${Z}`, 'A')).toEqual(NXDOMAIN);
    expect(ask(cluster(), `a.b._http._tcp.web.default.svc.${Z}`, 'A')).toEqual(NXDOMAIN);
  });

  test('the zone apex, svc.<zone> and an existing namespace exist with no records: NODATA', () => {
    expect(ask(cluster(), Z, 'A')).toEqual(NODATA);
    expect(ask(cluster(), `svc.${Z}`, 'A')).toEqual(NODATA);
    expect(ask(cluster(), `default.svc.${Z}`, 'A')).toEqual(NODATA);
  });

  test('names are compared lower case, without the trailing dot', () => {
    const expectation = dnsExpectationFor(cluster(), { name: `WEB.Default.svc.${Z.toUpperCase()}.`, type: 'A' });
    expect(expectation.query.name).toBe(`web.default.svc.${Z}`);
    expect(data(expectation.expect)).toEqual(['A 10.96.0.20']);
  });

  test('"ns.dns.<zone>" answers the kube-dns Service IPs', () => {
    expect(data(ask(cluster(), `ns.dns.${Z}`, 'A'))).toEqual(['A 10.96.0.10']);
  });
});

describe('pod names', () => {
  test('insecure mode: any dashed address in an existing namespace answers that address', () => {
    expect(data(ask(cluster(), `10-244-9-9.default.pod.${Z}`, 'A'))).toEqual(['A 10.244.9.9']);
    expect(data(ask(cluster(), `fd00-10-244--9.default.pod.${Z}`, 'AAAA'))).toEqual(['AAAA fd00:10:244::9']);
    expect(ask(cluster(), `not-an-ip.default.pod.${Z}`, 'A')).toEqual(NXDOMAIN);
    expect(ask(cluster(), `10-244-9-9.nope.pod.${Z}`, 'A')).toEqual(NXDOMAIN);
  });

  test('disabled mode (the plugin default): NXDOMAIN', () => {
    const snapshot = cluster();
    snapshot.dns.podsMode = 'disabled';
    expect(ask(snapshot, `10-244-9-9.default.pod.${Z}`, 'A')).toEqual(NXDOMAIN);
  });

  test('verified mode: only a pod of that namespace, not being deleted, with that primary IP', () => {
    const snapshot = cluster({
      pods: [makePod('default', 'a', 'node-1', ['10.244.0.5', 'fd00::5']), makePod('default', 'gone', 'node-1', ['10.244.0.6'], { terminating: true })],
    });
    snapshot.dns.podsMode = 'verified';
    expect(data(ask(snapshot, `10-244-0-5.default.pod.${Z}`, 'A'))).toEqual(['A 10.244.0.5']);
    expect(ask(snapshot, `10-244-0-6.default.pod.${Z}`, 'A')).toEqual(NXDOMAIN);
    expect(ask(snapshot, `fd00--5.default.pod.${Z}`, 'AAAA')).toEqual(NXDOMAIN);
    expect(ask(snapshot, `10-244-0-5.kube-system.pod.${Z}`, 'A')).toEqual(NXDOMAIN);
  });

  test('verified mode compares the label as written with the pod IP\'s text: another spelling of the same address is NXDOMAIN', () => {
    const snapshot = cluster({ pods: [makePod('default', 'v6', 'node-1', ['fd00::7']), makePod('default', 'v4', 'node-1', ['10.244.0.7'])] });
    snapshot.dns.podsMode = 'verified';
    expect(data(ask(snapshot, `fd00--7.default.pod.${Z}`, 'AAAA'))).toEqual(['AAAA fd00::7']);
    const longhand = dnsExpectationFor(snapshot, { name: `fd00-0-0-0-0-0-0-7.default.pod.${Z}`, type: 'AAAA' });
    expect(longhand.expect).toEqual(NXDOMAIN);
    expect(longhand.why).toContain('only fd00--7 names it');
    expect(ask(snapshot, `fd00-0-0-0-0-0--7.default.pod.${Z}`, 'AAAA')).toEqual(NXDOMAIN);
    // insecure mode answers any spelling with the address itself
    snapshot.dns.podsMode = 'insecure';
    expect(data(ask(snapshot, `fd00-0-0-0-0-0-0-7.default.pod.${Z}`, 'AAAA'))).toEqual(['AAAA fd00::7']);
  });

  test('a label with leading zeros is no address (Go refuses it), in either mode', () => {
    const snapshot = cluster({ pods: [makePod('default', 'v4', 'node-1', ['10.244.0.7'])] });
    expect(ask(snapshot, `010-244-000-007.default.pod.${Z}`, 'A')).toEqual(NXDOMAIN);
    snapshot.dns.podsMode = 'verified';
    expect(ask(snapshot, `010-244-000-007.default.pod.${Z}`, 'A')).toEqual(NXDOMAIN);
  });
});

describe('PTR', () => {
  test('the reverse name of a ClusterIP answers the Service name, IPv4 and IPv6', () => {
    expect(ask(cluster(), '20.0.96.10.in-addr.arpa', 'PTR')).toEqual({ rcode: 'NOERROR', answers: [{ name: '20.0.96.10.in-addr.arpa', type: 'PTR', data: `web.default.svc.${Z}` }] });
    const v6 = `0.3.0.0.${'0.'.repeat(16)}6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa`; // fd00:10:96::30, nibble by nibble
    expect(data(ask(cluster(), v6, 'PTR'))).toEqual([`PTR dual.default.svc.${Z}`]);
  });

  test('the reverse name of a ready endpoint answers its endpoint name', () => {
    expect(data(ask(cluster(), '7.0.244.10.in-addr.arpa', 'PTR'))).toEqual([`PTR db-0.db.default.svc.${Z}`]);
    expect(data(ask(cluster(), '5.1.244.10.in-addr.arpa', 'PTR'))).toEqual([`PTR 10-244-1-5.web.default.svc.${Z}`]);
  });

  test('an address the cluster does not know, another zone, or non-PTR in a reverse zone goes upstream: UnpredictableDnsQuery', () => {
    expect(() => ask(cluster(), '5.2.244.10.in-addr.arpa', 'PTR')).toThrow(UnpredictableDnsQuery);
    expect(() => ask(cluster(), 'example.com', 'A')).toThrow(/outside the cluster domain cluster\.local/);
    expect(() => ask(cluster(), '20.0.96.10.in-addr.arpa', 'A')).toThrow(UnpredictableDnsQuery);
  });

  test('PTR of a name in the cluster zone: NODATA when it exists, NXDOMAIN when not', () => {
    expect(ask(cluster(), `web.default.svc.${Z}`, 'PTR')).toEqual(NODATA);
    expect(ask(cluster(), `nope.default.svc.${Z}`, 'PTR')).toEqual(NXDOMAIN);
  });
});

describe('TXT', () => {
  test('dns-version answers the schema version; a Service NODATA; the apex NXDOMAIN', () => {
    expect(data(ask(cluster(), `dns-version.${Z}`, 'TXT'))).toEqual(['TXT 1.1.0']);
    expect(ask(cluster(), `web.default.svc.${Z}`, 'TXT')).toEqual(NODATA);
    expect(ask(cluster(), Z, 'TXT')).toEqual(NXDOMAIN);
  });
});
