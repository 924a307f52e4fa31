import { describe, expect, test } from '@jest/globals';
import { buildSnapshot, defaultCoreDNS, defaultKubeProxy, type SnapshotInput } from '../../src/snapshot/build.ts';
import { SnapshotError } from '../../src/snapshot/fields.ts';

const object = (apiVersion: string, kind: string, name: string, namespace?: string, rest: object = {}) => ({
  apiVersion,
  kind,
  metadata: namespace === undefined ? { name } : { name, namespace },
  ...rest,
});
const from = (source: string, ...objects: unknown[]): SnapshotInput[] => objects.map((o) => ({ source, object: o }));

const kubeDNS = object('v1', 'Service', 'kube-dns', 'kube-system', { spec: { clusterIPs: ['10.96.0.10'], ports: [{ port: 53, protocol: 'UDP' }] } });
const corefile = '.:53 {\n  kubernetes example.local {\n    pods verified\n    ttl 10\n  }\n}\n';

describe('buildSnapshot', () => {
  test('without the ConfigMaps: the documented defaults, each one noted', () => {
    const snapshot = buildSnapshot(from('services.yaml', kubeDNS));
    expect(snapshot.kubeProxy).toEqual({ mode: 'ipvs', scheduler: 'rr', nodePortAddresses: [], clusterCIDRs: [], masqueradeBit: 14, masqueradeAll: false, localhostNodePorts: true });
    expect(snapshot.dns).toEqual({ clusterDomain: 'cluster.local', serviceIPs: ['10.96.0.10'], podsMode: 'insecure', ttl: 30 });
    expect(snapshot.notes).toEqual(
      expect.arrayContaining([
        expect.stringContaining('no ConfigMap kube-system/kube-proxy given'),
        expect.stringContaining('no ConfigMap kube-system/coredns given'),
        'no Namespace objects given: namespaces are the ones the other objects are in',
      ]),
    );
    // the exported defaults are what was applied, and each snapshot gets its own copy
    expect(snapshot.kubeProxy).toEqual(defaultKubeProxy);
    expect(snapshot.kubeProxy).not.toBe(defaultKubeProxy);
    expect(snapshot.dns).toMatchObject(defaultCoreDNS);
  });

  test('with the ConfigMaps: their settings, and no default notes', () => {
    const snapshot = buildSnapshot(
      from(
        'configmaps.yaml',
        object('v1', 'ConfigMap', 'kube-proxy', 'kube-system', { data: { 'config.conf': 'mode: iptables\n' } }),
        object('v1', 'ConfigMap', 'coredns', 'kube-system', { data: { Corefile: corefile } }),
      ),
    );
    expect(snapshot.kubeProxy).toEqual({ mode: 'iptables', scheduler: 'rr', nodePortAddresses: [], clusterCIDRs: [], masqueradeBit: 14, masqueradeAll: false, localhostNodePorts: true });
    expect(snapshot.dns).toEqual({ clusterDomain: 'example.local', serviceIPs: [], podsMode: 'verified', ttl: 10 });
    expect(snapshot.notes.filter((note) => note.includes('ConfigMap'))).toEqual([]);
    expect(snapshot.notes).toContain('no Service kube-system/kube-dns given: pods get no cluster nameserver');
  });

  test('counts the objects it ignores, once per kind, naming the apiVersion of kinds it reads in another version', () => {
    const snapshot = buildSnapshot([
      ...from('all.yaml', object('apps/v1', 'Deployment', 'a', 'default'), object('apps/v1', 'Deployment', 'b', 'default')),
      ...from('all.yaml', object('v1', 'ConfigMap', 'kube-root-ca.crt', 'default')),
      ...from('all.yaml', object('discovery.k8s.io/v1beta1', 'EndpointSlice', 'web-x', 'default')),
    ]);
    expect(snapshot.notes).toEqual(
      expect.arrayContaining([
        'ignored 1 ConfigMap object (netlab does not use them)',
        'ignored 2 Deployment objects (netlab does not use them)',
        'ignored 1 EndpointSlice (discovery.k8s.io/v1beta1) object (netlab does not use them)',
      ]),
    );
  });

  test('namespaces: from Namespace objects when given, else from where the objects are (ignored ones too)', () => {
    const objects = from('a.yaml', object('apps/v1', 'Deployment', 'a', 'team-a'), object('v1', 'Pod', 'p', 'team-b'));
    expect(buildSnapshot(objects).namespaces).toEqual(['team-a', 'team-b']);
    const withNamespaces = buildSnapshot([...objects, ...from('ns.yaml', object('v1', 'Namespace', 'team-c'), object('v1', 'Namespace', 'default'))]);
    expect(withNamespaces.namespaces).toEqual(['default', 'team-c']);
    expect(withNamespaces.notes.some((note) => note.startsWith('no Namespace objects'))).toBe(false);
  });

  test('views come out sorted whatever the input order', () => {
    const snapshot = buildSnapshot(
      from(
        'x.yaml',
        object('v1', 'Node', 'node-b'),
        object('v1', 'Node', 'node-a'),
        object('v1', 'Pod', 'z', 'default'),
        object('v1', 'Pod', 'a', 'kube-system'),
        object('v1', 'Pod', 'a', 'default'),
      ),
    );
    expect(snapshot.nodes.map((node) => node.name)).toEqual(['node-a', 'node-b']);
    expect(snapshot.pods.map((pod) => `${pod.namespace}/${pod.name}`)).toEqual(['default/a', 'default/z', 'kube-system/a']);
  });

  test('IPAM blocks: from IPAMBlocks, completed by confirmed BlockAffinities', () => {
    const snapshot = buildSnapshot(
      from(
        'calico.yaml',
        object('crd.projectcalico.org/v1', 'IPAMBlock', '10-244-1-0-24', undefined, { spec: { cidr: '10.244.1.0/24', affinity: 'host:node-2' } }),
        object('crd.projectcalico.org/v1', 'IPAMBlock', '10-244-0-0-24', undefined, { spec: { cidr: '10.244.0.0/24', affinity: null } }),
        object('crd.projectcalico.org/v1', 'BlockAffinity', 'node-1-10-244-0-0-24', undefined, {
          spec: { cidr: '10.244.0.0/24', node: 'node-1', state: 'confirmed' },
        }),
        object('crd.projectcalico.org/v1', 'BlockAffinity', 'node-3-10-244-2-0-24', undefined, {
          spec: { cidr: '10.244.2.0/24', node: 'node-3', state: 'confirmed' },
        }),
        object('crd.projectcalico.org/v1', 'BlockAffinity', 'node-4-10-244-3-0-24', undefined, {
          spec: { cidr: '10.244.3.0/24', node: 'node-4', state: 'pending' },
        }),
      ),
    );
    expect(snapshot.ipamBlocks).toEqual([
      { cidr: '10.244.0.0/24', node: 'node-1' },
      { cidr: '10.244.1.0/24', node: 'node-2' },
      { cidr: '10.244.2.0/24', node: 'node-3' },
    ]);
    expect(snapshot.notes).toContain('no Calico IPPool objects given');
  });

  test('Calico\'s version from ClusterInformation default (v1 or v3); another ClusterInformation is noted and left', () => {
    const info = (apiVersion: string, name: string, calicoVersion: string) => object(apiVersion, 'ClusterInformation', name, undefined, { spec: { calicoVersion } });
    expect(buildSnapshot(from('calico.yaml', info('crd.projectcalico.org/v1', 'default', 'v3.32.1'))).calicoVersion).toEqual({
      where: 'calico.yaml: ClusterInformation default', text: 'v3.32.1', release: { major: 3, minor: 32 },
    });
    const other = buildSnapshot(from('calicoctl.yaml', info('projectcalico.org/v3', 'old', 'v3.20.0')));
    expect(other.calicoVersion).toBeNull();
    expect(other.notes).toContain('calicoctl.yaml: ClusterInformation old ignored: Calico reads its version from ClusterInformation default only');
    expect(buildSnapshot(from('calico.yaml', object('v1', 'Node', 'node-1'))).calicoVersion).toBeNull();
  });

  test('an EndpointSlice without a service-name label is left out with a note', () => {
    const snapshot = buildSnapshot(from('slices.yaml', object('discovery.k8s.io/v1', 'EndpointSlice', 'custom', 'default', { addressType: 'IPv4' })));
    expect(snapshot.endpointSlices).toEqual([]);
    expect(snapshot.notes).toContain(
      'slices.yaml: EndpointSlice default/custom has no kubernetes.io/service-name label; kube-proxy and CoreDNS ignore it, and so does netlab',
    );
  });

  test.each([
    [from('b.yaml', object('v1', 'Pod', 'web', 'default'), object('v1', 'Pod', 'web', 'default')), 'b.yaml: Pod default/web: appears twice (also in b.yaml)'],
    [
      [...from('a.yaml', object('crd.projectcalico.org/v1', 'IPPool', 'p', undefined, { spec: { cidr: '10.0.0.0/8' } })),
       ...from('b.yaml', object('projectcalico.org/v3', 'IPPool', 'p', undefined, { spec: { cidr: '10.0.0.0/8' } }))],
      'b.yaml: IPPool p: appears twice (also in a.yaml)',
    ],
    [from('c.yaml', { apiVersion: 'v1', metadata: { name: 'x' } }), 'c.yaml: object x: kind is required'],
    [from('c.yaml', { kind: 'Pod', metadata: { name: 'x' } }), 'c.yaml: Pod x: apiVersion is required'],
    [from('c.yaml', 'text'), 'c.yaml: object (no metadata.name): must be a mapping'],
  ])('rejects bad input with the source and object (%#)', (inputs, message) => {
    expect(() => buildSnapshot(inputs)).toThrow(new SnapshotError(message));
  });
});
