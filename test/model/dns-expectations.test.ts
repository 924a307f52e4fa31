import { expectedDns } from '../../src/model/dns/index.ts';
import type { DnsExpectation } from '../../src/model/types.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import { makeEndpoint, makePod, makeService, makeSlice, makeSnapshot } from './builders.ts';

const Z = 'cluster.local';
const asked = (expectations: DnsExpectation[]) => expectations.map((e) => `${e.query.type} ${e.query.name}`);
const answerOf = (expectations: DnsExpectation[], type: string, name: string) => expectations.find((e) => e.query.type === type && e.query.name === name)?.expect;

function cluster(): ClusterSnapshot {
  return makeSnapshot({
    namespaces: ['default', 'kube-system'],
    services: [
      makeService('default', 'web', ['10.96.0.20']),
      makeService('default', 'db', [], { headless: true, ports: [{ name: '', protocol: 'TCP', port: 5432, targetPort: 5432, nodePort: null }] }),
      makeService('default', 'ext', [], { type: 'ExternalName', externalName: 'example.com' }),
      makeService('kube-system', 'kube-dns', ['10.96.0.10'], { ports: [{ name: 'dns', protocol: 'UDP', port: 53, targetPort: 53, nodePort: null }] }),
    ],
    endpointSlices: [
      makeSlice('default', 'web', [makeEndpoint('10.244.0.5', 'node-1', 'web-a'), makeEndpoint('10.244.1.6', 'node-2', 'web-b', { ready: false })]),
      makeSlice('default', 'db', [makeEndpoint('10.244.0.7', 'node-1', 'db-0', { hostname: 'db-0' })], { ports: [{ name: '', protocol: 'TCP', port: 5432 }] }),
    ],
    pods: [
      makePod('default', 'web-a', 'node-1', ['10.244.0.5']),
      makePod('default', 'host', 'node-1', ['10.130.29.80'], { hostNetwork: true }),
      makePod('default', 'done', 'node-1', ['10.244.0.8'], { phase: 'Succeeded' }),
    ],
  });
}

describe('expectedDns', () => {
  test('asks, per namespace, the denied name, each Service\'s names and records, and each running pod\'s name', () => {
    expect(asked(expectedDns(cluster(), { namespaces: ['default'] }))).toEqual([
      `A does-not-exist.default.svc.${Z}`,
      `A db.default.svc.${Z}`,
      `AAAA db.default.svc.${Z}`,
      `A db-0.db.default.svc.${Z}`,
      'PTR 7.0.244.10.in-addr.arpa',
      `CNAME ext.default.svc.${Z}`,
      `A web.default.svc.${Z}`,
      `AAAA web.default.svc.${Z}`,
      `SRV _http._tcp.web.default.svc.${Z}`,
      `A 10-244-0-5.web.default.svc.${Z}`,
      'PTR 20.0.96.10.in-addr.arpa',
      `A 10-244-0-5.default.pod.${Z}`,
      `A db.no-such-namespace.svc.${Z}`,
    ]);
  });

  test('the answers are the model\'s: the denied names NXDOMAIN, the headless Service its ready endpoint', () => {
    const expectations = expectedDns(cluster(), { namespaces: ['default'] });
    expect(answerOf(expectations, 'A', `does-not-exist.default.svc.${Z}`)).toEqual({ rcode: 'NXDOMAIN', answers: [] });
    expect(answerOf(expectations, 'A', `db.no-such-namespace.svc.${Z}`)).toEqual({ rcode: 'NXDOMAIN', answers: [] });
    expect(answerOf(expectations, 'A', `db.default.svc.${Z}`)).toEqual({ rcode: 'NOERROR', answers: [{ name: `db.default.svc.${Z}`, type: 'A', data: '10.244.0.7' }] });
    expect(answerOf(expectations, 'AAAA', `web.default.svc.${Z}`)).toEqual({ rcode: 'NOERROR', answers: [] });
    expect(expectations.every((e) => e.why.length > 20)).toBe(true);
  });

  test('without the namespaces option every namespace of the snapshot is asked about', () => {
    const names = asked(expectedDns(cluster()));
    expect(names).toContain(`A kube-dns.kube-system.svc.${Z}`);
    expect(names).toContain(`SRV _dns._udp.kube-dns.kube-system.svc.${Z}`);
  });

  test('the denied names avoid names that exist', () => {
    const snapshot = cluster();
    snapshot.services.push(makeService('default', 'does-not-exist', ['10.96.0.99']));
    snapshot.namespaces.push('no-such-namespace');
    const names = asked(expectedDns(snapshot, { namespaces: ['default'] }));
    expect(names).toContain(`A does-not-exist-2.default.svc.${Z}`);
    expect(names).toContain(`A db.no-such-namespace-2.svc.${Z}`);
  });

  test('with pod records disabled no pod name is asked', () => {
    const snapshot = cluster();
    snapshot.dns.podsMode = 'disabled';
    expect(asked(expectedDns(snapshot, { namespaces: ['default'] })).filter((q) => q.includes('.pod.'))).toEqual([]);
  });
});
