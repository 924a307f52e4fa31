// Reading a NetworkLab: defaults, durations, errors that name the field, label selectors.
import { LabSpecError, parseDuration, readLab, selectorMatches } from '../../src/operator/lab.ts';

const lab = (spec: unknown) => ({ apiVersion: 'netlab.dev/v1alpha1', kind: 'NetworkLab', metadata: { namespace: 'team-a', name: 'web', uid: 'u1', generation: 3 }, spec });

test('Go durations', () => {
  expect(parseDuration('60s')).toBe(60_000);
  expect(parseDuration('1m30s')).toBe(90_000);
  expect(parseDuration('1.5h')).toBe(5_400_000);
  expect(parseDuration('250ms')).toBe(250);
  expect(parseDuration('0s')).toBe(0);
  for (const bad of ['', '60', 's', '1 m', '-5s', '1d']) expect(parseDuration(bad)).toBeNull();
});

test('an empty spec gets the CRD defaults: routes, kube-proxy in its mode, DNS, resolv.conf; every node, own namespace plus kube-system, 60s, 30s', () => {
  expect(readLab(lab({}))).toEqual({
    key: 'team-a/web',
    namespace: 'team-a',
    name: 'web',
    uid: 'u1',
    generation: 3,
    spec: {
      checks: ['routes', 'services', 'dns', 'resolvconf'],
      nodeSelector: null,
      services: { namespaces: ['team-a', 'kube-system'], selector: null },
      dnsQueries: [],
      intervalMs: 60_000,
      gracePeriodMs: 30_000,
    },
  });
});

test('a full spec is read as written', () => {
  const read = readLab(
    lab({
      checks: ['ipvs', 'dns'],
      nodeSelector: { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist' }] },
      services: { namespaces: ['default'], selector: { matchLabels: { app: 'web' } } },
      dnsQueries: [{ name: 'web.default.svc.cluster.local.', type: 'A', expect: ['10.96.0.20'] }, { name: '10.0.96.10.in-addr.arpa', type: 'PTR' }],
      interval: '5m',
      gracePeriod: '10s',
    }),
  );
  expect(read.spec.checks).toEqual(['ipvs', 'dns']);
  expect(read.spec.nodeSelector).toEqual({ matchLabels: {}, matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist', values: [] }] });
  expect(read.spec.services).toEqual({ namespaces: ['default'], selector: { matchLabels: { app: 'web' }, matchExpressions: [] } });
  expect(read.spec.dnsQueries).toEqual([{ name: 'web.default.svc.cluster.local.', type: 'A', expect: ['10.96.0.20'] }, { name: '10.0.96.10.in-addr.arpa', type: 'PTR' }]);
  expect([read.spec.intervalMs, read.spec.gracePeriodMs]).toEqual([300_000, 10_000]);
});

test('each of kube-proxy\'s modes can be named, or "services" for the mode it runs in', () => {
  for (const check of ['services', 'ipvs', 'nftables', 'iptables']) expect(readLab(lab({ checks: ['routes', check] })).spec.checks).toEqual(['routes', check]);
});

test.each([
  [{ checks: ['routes', 'ebpf'] }, 'NetworkLab team-a/web: spec.checks[1] must be one of routes, services, ipvs, nftables, iptables, dns, resolvconf, got "ebpf"'],
  [{ checks: ['services', 'ipvs'] }, 'spec.checks must name at most one of services, ipvs, nftables, iptables (kube-proxy runs in one mode), got services, ipvs'],
  [{ checks: ['nftables', 'dns', 'iptables'] }, 'got nftables, iptables'],
  [{ checks: [] }, 'spec.checks must name at least one layer'],
  [{ checks: ['dns', 'dns'] }, 'spec.checks must not repeat a layer'],
  [{ interval: '5s' }, 'spec.interval must be between 10s and 24h, got 5s'],
  [{ interval: 'often' }, 'spec.interval must be a duration such as 30s, 5m or 1h30m, got "often"'],
  [{ gracePeriod: '1h' }, 'spec.gracePeriod must be between 0s and 10m, got 1h'],
  [{ dnsQueries: [{ name: 'x', type: 'MX' }] }, 'spec.dnsQueries[0].type must be one of A, AAAA, SRV, CNAME, PTR, got "MX"'],
  [{ nodeSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }, 'spec.nodeSelector.matchExpressions[0].values must not be empty for In'],
])('a bad spec is rejected with a message naming the field: %j', (spec, message) => {
  expect(() => readLab(lab(spec))).toThrow(LabSpecError);
  expect(() => readLab(lab(spec))).toThrow(message);
});

test('label selectors follow Kubernetes semantics', () => {
  const labels = { app: 'web', tier: 'front' };
  expect(selectorMatches(null, labels)).toBe(true);
  expect(selectorMatches({ matchLabels: { app: 'web' }, matchExpressions: [] }, labels)).toBe(true);
  expect(selectorMatches({ matchLabels: { app: 'db' }, matchExpressions: [] }, labels)).toBe(false);
  const expr = (operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', key: string, values: string[] = []) => ({ matchLabels: {}, matchExpressions: [{ key, operator, values }] });
  expect(selectorMatches(expr('In', 'tier', ['front', 'back']), labels)).toBe(true);
  expect(selectorMatches(expr('In', 'zone', ['a']), labels)).toBe(false);
  expect(selectorMatches(expr('NotIn', 'tier', ['back']), labels)).toBe(true);
  expect(selectorMatches(expr('NotIn', 'zone', ['a']), labels)).toBe(true);
  expect(selectorMatches(expr('Exists', 'app'), labels)).toBe(true);
  expect(selectorMatches(expr('DoesNotExist', 'app'), labels)).toBe(false);
});
