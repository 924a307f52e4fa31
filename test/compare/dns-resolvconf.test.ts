import { compareDns } from '../../src/compare/dns.ts';
import { compareResolvConf } from '../../src/compare/resolvconf.ts';
import type { DnsExpectation, ExpectedResolvConf } from '../../src/model/types.ts';

const a = (name: string, data: string) => ({ name, type: 'A' as const, data });

describe('compareDns', () => {
  const expectations: DnsExpectation[] = [
    { query: { name: 'web.default.svc.cluster.local', type: 'A' }, expect: { rcode: 'NOERROR', answers: [a('web.default.svc.cluster.local', '10.244.1.5'), a('web.default.svc.cluster.local', '10.244.2.6')] }, why: 'headless' },
    { query: { name: 'nope.default.svc.cluster.local', type: 'A' }, expect: { rcode: 'NXDOMAIN', answers: [] }, why: 'absent' },
  ];

  test('answers are compared as sets: another order is not a finding', () => {
    const cmp = compareDns(expectations, [
      { query: expectations[0]!.query, server: 's', answer: { rcode: 'NOERROR', answers: [a('web.default.svc.cluster.local', '10.244.2.6'), a('web.default.svc.cluster.local', '10.244.1.5')] } },
      { query: expectations[1]!.query, server: 's', answer: { rcode: 'NXDOMAIN', answers: [] } },
    ]);
    expect(cmp.findings).toEqual([]);
    expect(cmp.checked).toBe(2);
  });

  test('a missing address and a name that resolves but must not are mismatches with the fields that differ', () => {
    const cmp = compareDns(expectations, [
      { query: expectations[0]!.query, server: '10.96.0.10:53/udp', answer: { rcode: 'NOERROR', answers: [a('web.default.svc.cluster.local', '10.244.1.5')] } },
      { query: expectations[1]!.query, server: '10.96.0.10:53/udp', answer: { rcode: 'NOERROR', answers: [a('nope.default.svc.cluster.local', '10.0.0.1')] } },
    ]);
    expect(cmp.findings.map((f) => [f.key, f.fields])).toEqual([
      ['web.default.svc.cluster.local A @10.96.0.10:53/udp', ['answer']],
      ['nope.default.svc.cluster.local A @10.96.0.10:53/udp', ['rcode', 'answer']],
    ]);
  });

  test('a failed query is a failure (unknown), never a finding', () => {
    const cmp = compareDns(expectations, [{ query: expectations[1]!.query, server: 's', answer: new Error('timeout after 2000 ms') }]);
    expect(cmp.findings).toEqual([]);
    expect(cmp.failures).toEqual([{ query: 'nope.default.svc.cluster.local A', server: 's', error: 'timeout after 2000 ms' }]);
  });

  test('a partial answer (ExternalName outside the cluster) is compared on its CNAME alone; a full one on every record', () => {
    const cname = { name: 'ext.default.svc.cluster.local', type: 'CNAME' as const, data: 'example.org' };
    const query = { name: 'ext.default.svc.cluster.local', type: 'A' as const };
    const observed = [{ query, server: 's', answer: { rcode: 'NOERROR' as const, answers: [cname, a('example.org', '192.0.2.1')] } }];
    const partial: DnsExpectation = { query, expect: { rcode: 'NOERROR', answers: [cname], partial: true }, why: 'ExternalName' };
    expect(compareDns([partial], observed).findings).toEqual([]);
    const full: DnsExpectation = { query, expect: { rcode: 'NOERROR', answers: [cname] }, why: 'ExternalName' };
    expect(compareDns([full], observed).findings.map((f) => f.fields)).toEqual([['answer']]);
  });
});

describe('compareResolvConf', () => {
  const expected: ExpectedResolvConf = {
    namespace: 'default', dnsPolicy: 'ClusterFirst', nameservers: ['10.96.0.10'],
    search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: { ndots: '5' }, unknownFromNode: null,
  };

  test('the seed pod\'s file matches', () => {
    expect(compareResolvConf(expected, { nameservers: ['10.96.0.10'], search: [...expected.search], options: { ndots: '5' } }, 'pod')).toEqual([]);
  });

  test('a wrong ndots is one mismatch that explains what ndots does', () => {
    const [f, ...rest] = compareResolvConf(expected, { nameservers: ['10.96.0.10'], search: [...expected.search], options: { ndots: '2' } }, 'pod');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ key: 'options ndots', expected: 'ndots:5', observed: 'ndots:2' });
    expect(f!.cause).toContain('search list');
  });

  test('search order matters; options compare as a set', () => {
    const findings = compareResolvConf({ ...expected, options: { ndots: '5', edns0: null } }, {
      nameservers: ['10.96.0.10'], search: ['svc.cluster.local', 'default.svc.cluster.local', 'cluster.local'], options: { edns0: null, ndots: '5' },
    }, 'pod');
    expect(findings.map((f) => f.key)).toEqual(['search']);
  });

  test('with the node\'s file unread, any search domains after the cluster\'s are the node\'s, not a difference', () => {
    const open: ExpectedResolvConf = { ...expected, unknownFromNode: 'search-tail' };
    const written = { nameservers: ['10.96.0.10'], search: [...expected.search, 'netlab.test'], options: { ndots: '5' } };
    expect(compareResolvConf(open, written, 'pod')).toEqual([]);
    // the node-known model still sees the extra domain, and the open one still sees a wrong cluster part
    expect(compareResolvConf(expected, written, 'pod').map((f) => f.key)).toEqual(['search']);
    expect(compareResolvConf(open, { ...written, search: ['other.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'netlab.test'] }, 'pod').map((f) => f.key)).toEqual(['search']);
  });

  test('a Default pod with the node\'s file unread: its nameservers and search list are the node\'s, only options compare', () => {
    const node: ExpectedResolvConf = { namespace: 'default', dnsPolicy: 'Default', nameservers: [], search: [], options: {}, unknownFromNode: 'node-file' };
    expect(compareResolvConf(node, { nameservers: ['10.0.2.3'], search: ['netlab.test'], options: {} }, 'pod')).toEqual([]);
    expect(compareResolvConf(node, { nameservers: ['10.0.2.3'], search: [], options: { ndots: '5' } }, 'pod').map((f) => f.key)).toEqual(['options ndots']);
  });
});
