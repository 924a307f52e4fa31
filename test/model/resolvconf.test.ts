import { readFileSync } from 'node:fs';
import { expectedResolvConf, type ResolvConfRequest } from '../../src/model/resolvconf.ts';
import type { ResolvConf } from '../../src/parse/types.ts';
import { makeSnapshot } from './builders.ts';

const host: ResolvConf = { nameservers: ['10.130.29.1', '10.130.29.2'], search: ['corp.example.', 'lab.example'], options: { ndots: '2', rotate: null } };
const conf = (request: Partial<ResolvConfRequest>, snapshot = makeSnapshot()) =>
  expectedResolvConf(snapshot, { namespace: 'default', dnsPolicy: 'ClusterFirst', hostResolvConf: host, ...request });

describe('dnsPolicy', () => {
  test('ClusterFirst: the cluster DNS only, the cluster search list then the node\'s, ndots:5 only', () => {
    expect(conf({})).toEqual({
      namespace: 'default',
      dnsPolicy: 'ClusterFirst',
      nameservers: ['10.96.0.10'],
      search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example'],
      options: { ndots: '5' },
      unknownFromNode: null,
    });
  });

  test('the node\'s file unread (the operator\'s case): the cluster part is expected, the node\'s part left open', () => {
    expect(conf({ hostResolvConf: 'unknown' })).toMatchObject({ search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], unknownFromNode: 'search-tail' });
    expect(conf({ hostResolvConf: 'unknown', dnsPolicy: 'Default' }).unknownFromNode).toBe('node-file');
    expect(conf({ hostResolvConf: 'unknown', dnsPolicy: 'None', dnsConfig: { nameservers: ['10.96.0.10'] } }).unknownFromNode).toBeNull();
  });

  test('the seed article\'s pod resolv.conf (namespace default, empty node search list)', () => {
    // test/fixtures/captures/seed-resolv.conf is the article's real pod /etc/resolv.conf.
    const lines = readFileSync(new URL('../fixtures/captures/seed-resolv.conf', import.meta.url), 'utf8').trim().split('\n');
    const expected = conf({ hostResolvConf: { nameservers: ['10.130.29.1'], search: [], options: {} } });
    expect(lines).toEqual([`nameserver ${expected.nameservers[0]}`, `search ${expected.search.join(' ')}`, 'options ndots:5']);
    expect(expected.options).toEqual({ ndots: '5' });
  });

  test('ClusterFirst drops a node search domain that repeats a cluster one', () => {
    expect(conf({ hostResolvConf: { nameservers: [], search: ['cluster.local', 'x.example'], options: {} } }).search).toEqual([
      'default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'x.example',
    ]);
  });

  test('ClusterFirst on hostNetwork is Default: the node\'s settings unchanged', () => {
    expect(conf({ hostNetwork: true })).toMatchObject({ nameservers: host.nameservers, search: ['corp.example', 'lab.example'], options: host.options });
  });

  test('ClusterFirstWithHostNet gets the cluster settings even on hostNetwork', () => {
    expect(conf({ dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true }).nameservers).toEqual(['10.96.0.10']);
  });

  test('Default: the node\'s settings; with kubelet resolvConf "" a loopback nameserver per node IP and search "."', () => {
    expect(conf({ dnsPolicy: 'Default' })).toMatchObject({ nameservers: host.nameservers, options: { ndots: '2', rotate: null } });
    expect(conf({ dnsPolicy: 'Default', hostResolvConf: null, nodeIPs: ['10.130.29.80', 'fd00::80'] })).toMatchObject({ nameservers: ['127.0.0.1', '::1'], search: ['.'], options: {} });
  });

  test('without a cluster DNS IP, ClusterFirst falls back to Default', () => {
    const snapshot = makeSnapshot();
    snapshot.dns.serviceIPs = [];
    expect(conf({}, snapshot).nameservers).toEqual(host.nameservers);
  });

  test('None: only dnsConfig; None without a nameserver is an error', () => {
    expect(conf({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['a.example'] } })).toMatchObject({ nameservers: ['1.1.1.1'], search: ['a.example'], options: {} });
    expect(() => conf({ dnsPolicy: 'None' })).toThrow(/dnsPolicy None in namespace default needs dnsConfig.nameservers/);
  });

  test('an unknown dnsPolicy is an error naming the valid ones', () => {
    expect(() => conf({ dnsPolicy: 'ClusterFrist' })).toThrow('dnsPolicy "ClusterFrist" is not one of ClusterFirst, ClusterFirstWithHostNet, Default, None');
  });
});

describe('dnsConfig and limits', () => {
  test('dnsConfig nameservers and searches are appended without duplicates; options merge by name, the pod\'s winning', () => {
    const result = conf({
      dnsConfig: { nameservers: ['10.96.0.10', '8.8.8.8'], searches: ['svc.cluster.local', 'extra.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }, { name: 'timeout', value: '' }] },
    });
    expect(result.nameservers).toEqual(['10.96.0.10', '8.8.8.8']);
    expect(result.search).toEqual(['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example', 'extra.example']);
    expect(result.options).toEqual({ ndots: '2', edns0: null, timeout: null });
  });

  test('at most 3 nameservers', () => {
    expect(conf({ dnsPolicy: 'Default', dnsConfig: { nameservers: ['1.1.1.1', '9.9.9.9'] } }).nameservers).toEqual(['10.130.29.1', '10.130.29.2', '1.1.1.1']);
  });

  test('search: domains over 253 characters dropped, at most 32 kept, cut from the end to fit 2048 characters', () => {
    const long = `${'a'.repeat(250)}.example`;
    expect(conf({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['ok.example', long] } }).search).toEqual(['ok.example']);
    const many = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
    expect(conf({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: many } }).search).toEqual(many.slice(0, 32));
    const wide = Array.from({ length: 10 }, (_, i) => `${String(i).repeat(240)}.example`);
    const fitted = conf({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: wide } }).search;
    expect(fitted).toEqual(wide.slice(0, 8));
    expect(fitted.join(' ').length).toBeLessThanOrEqual(2048);
  });
});
