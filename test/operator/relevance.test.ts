// Which cluster changes make a lab look again: by layer, by namespace.
import { readLab } from '../../src/operator/lab.ts';
import { changeMatters, type ClusterChange } from '../../src/operator/relevance.ts';

const spec = (s: Record<string, unknown>) => readLab({ metadata: { namespace: 'shop', name: 'lab' }, spec: s }).spec;
const change = (kind: ClusterChange['kind'], namespace: string | null, name: string): ClusterChange => ({ at: 0, what: `${kind} ${name}`, kind, namespace, name });

test('a DNS-only lab looks again for its own namespaces and kube-dns, not for Services elsewhere or Nodes', () => {
  const dns = spec({ checks: ['dns'] }); // namespaces default to shop and kube-system
  expect(changeMatters(change('Service', 'shop', 'web'), dns)).toBe(true);
  expect(changeMatters(change('EndpointSlice', 'shop', 'web-x7k2p'), dns)).toBe(true);
  expect(changeMatters(change('Pod', 'shop', 'web-0'), dns)).toBe(true);
  expect(changeMatters(change('Service', 'kube-system', 'kube-dns'), dns)).toBe(true);
  expect(changeMatters(change('Service', 'billing', 'api'), dns)).toBe(false);
  expect(changeMatters(change('Pod', 'billing', 'api-0'), dns)).toBe(false);
  expect(changeMatters(change('Node', null, 'node-1'), dns)).toBe(false);
  expect(changeMatters(change('ConfigMap', 'kube-system', 'coredns'), dns)).toBe(true);
  expect(changeMatters(change('ConfigMap', 'kube-system', 'kube-proxy'), dns)).toBe(false);
});

test('an IPVS lab looks again for any Service or EndpointSlice of the cluster (kube-proxy programs them all), and Nodes', () => {
  const ipvs = spec({ checks: ['ipvs'] });
  expect(changeMatters(change('Service', 'billing', 'api'), ipvs)).toBe(true);
  expect(changeMatters(change('EndpointSlice', 'billing', 'api-abcde'), ipvs)).toBe(true);
  expect(changeMatters(change('Node', null, 'node-1'), ipvs)).toBe(true);
  expect(changeMatters(change('ConfigMap', 'kube-system', 'kube-proxy'), ipvs)).toBe(true);
  expect(changeMatters(change('Pod', 'billing', 'api-0'), ipvs)).toBe(false); // its EndpointSlice change follows
  expect(changeMatters(change('IPAMBlock', null, '10-244-1-0-24'), ipvs)).toBe(false);
});

test.each(['services', 'nftables', 'iptables'])('a %s lab looks again for the same changes as an IPVS lab', (check) => {
  const lab = spec({ checks: [check] });
  expect(changeMatters(change('Service', 'billing', 'api'), lab)).toBe(true);
  expect(changeMatters(change('EndpointSlice', 'billing', 'api-abcde'), lab)).toBe(true);
  expect(changeMatters(change('Node', null, 'node-1'), lab)).toBe(true);
  expect(changeMatters(change('ConfigMap', 'kube-system', 'kube-proxy'), lab)).toBe(true); // a new mode changes what "services" checks
  expect(changeMatters(change('Pod', 'billing', 'api-0'), lab)).toBe(false);
  expect(changeMatters(change('ConfigMap', 'kube-system', 'coredns'), lab)).toBe(false);
});

test('a routes lab looks again for Pods, Nodes, Calico IPAM and Calico\'s version; resolv.conf for kube-dns and the Corefile', () => {
  const routes = spec({ checks: ['routes'] });
  expect(changeMatters(change('Pod', 'billing', 'api-0'), routes)).toBe(true);
  expect(changeMatters(change('IPAMBlock', null, '10-244-1-0-24'), routes)).toBe(true);
  expect(changeMatters(change('ClusterInformation', null, 'default'), routes)).toBe(true); // an upgrade past v3.32 moves pod routes to 1024
  expect(changeMatters(change('ClusterInformation', null, 'default'), spec({ checks: ['ipvs', 'dns'] }))).toBe(false);
  expect(changeMatters(change('Service', 'shop', 'web'), routes)).toBe(false);
  const resolv = spec({ checks: ['resolvconf'] });
  expect(changeMatters(change('Service', 'kube-system', 'kube-dns'), resolv)).toBe(true);
  expect(changeMatters(change('Service', 'shop', 'web'), resolv)).toBe(false);
});
