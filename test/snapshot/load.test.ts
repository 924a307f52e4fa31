import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSnapshotDir, parseSnapshotFile } from '../../src/snapshot/load.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'netlab-snapshot-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
}

// Shaped like `kubectl get nodes,pods -A -o yaml` output (trimmed to what the loader reads).
const kubectlList = `apiVersion: v1
items:
- apiVersion: v1
  kind: Node
  metadata:
    name: node-1
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-1
    namespace: default
  status:
    podIPs:
    - ip: 10.244.0.5
kind: List
metadata:
  resourceVersion: ""
`;

describe('parseSnapshotFile', () => {
  test('a kind: List yields its items, each with the file as source', () => {
    const inputs = parseSnapshotFile('all.yaml', kubectlList);
    expect(inputs.map(({ source }) => source)).toEqual(['all.yaml', 'all.yaml']);
    expect(inputs.map(({ object }) => (object as { kind: string }).kind)).toEqual(['Node', 'Pod']);
  });

  test('multi-document YAML names each document; empty documents are skipped', () => {
    const text = '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n# nothing here\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n---\n';
    expect(parseSnapshotFile('ns.yaml', text).map(({ source }) => source)).toEqual(['ns.yaml (document 1)', 'ns.yaml (document 3)']);
  });

  test('items of a typed list as the API serves them get the list apiVersion and kind', () => {
    const json = JSON.stringify({
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpointList',
      items: [{ metadata: { name: 'wep', namespace: 'default' }, spec: {} }],
    });
    const [input] = parseSnapshotFile('weps.json', json);
    expect(input?.object).toMatchObject({ apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: 'wep' } });
  });

  test('bad YAML fails with file, line and column', () => {
    expect(() => parseSnapshotFile('pods.yaml', 'apiVersion: v1\nitems: [\nkind: List\n')).toThrow(
      /^pods\.yaml: invalid YAML at line 3, column 1: /,
    );
  });

  test('a document that is not a mapping is refused', () => {
    expect(() => parseSnapshotFile('x.yaml', '- a\n- b\n')).toThrow(
      'x.yaml: expected a Kubernetes object (a mapping with apiVersion and kind), found a list',
    );
  });

  test('an empty file holds nothing', () => {
    expect(parseSnapshotFile('empty.yaml', '')).toEqual([]);
  });
});

describe('loadSnapshotDir', () => {
  test('reads .yaml, .yml and .json files in name order, not subfolders or other files', async () => {
    await write({
      'b-nodes.yml': 'apiVersion: v1\nkind: Node\nmetadata:\n  name: node-2\n',
      'a-list.yaml': kubectlList,
      'c-svc.json': JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.5' } }),
      'notes.txt': 'not a snapshot file',
    });
    await mkdir(join(dir, 'nested'));
    await writeFile(join(dir, 'nested', 'more.yaml'), 'apiVersion: v1\nkind: Node\nmetadata:\n  name: node-9\n');

    const snapshot = await loadSnapshotDir(dir);
    expect(snapshot.nodes.map((node) => node.name)).toEqual(['node-1', 'node-2']);
    expect(snapshot.pods.map((pod) => pod.podIPs)).toEqual([['10.244.0.5']]);
    expect(snapshot.services.map((service) => service.clusterIPs)).toEqual([['10.96.0.5']]);
  });

  test('flannel\'s node annotations reach the snapshot from a kubectl file', async () => {
    await write({
      'nodes.yaml': [
        'apiVersion: v1', 'kind: Node', 'metadata:', '  name: node-2', '  annotations:',
        '    flannel.alpha.coreos.com/backend-data: \'null\'', '    flannel.alpha.coreos.com/backend-type: host-gw',
        '    flannel.alpha.coreos.com/kube-subnet-manager: "true"', '    flannel.alpha.coreos.com/public-ip: 10.130.29.81',
        'spec:', '  podCIDR: 10.244.1.0/24', '',
      ].join('\n'),
    });
    const [node] = (await loadSnapshotDir(dir)).nodes;
    expect(node!.flannel).toEqual({ kubeSubnetManager: true, backendType: 'host-gw', publicIP: '10.130.29.81', vni: null, vtepMAC: null });
  });

  test('a duplicate names the file read first (files are read in name order)', async () => {
    await write({ 'z.yaml': 'apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\n', 'a.yaml': kubectlList });
    await expect(loadSnapshotDir(dir)).rejects.toThrow('z.yaml: Node node-1: appears twice (also in a.yaml)');
  });

  test('a bad field names the file, the object and the field', async () => {
    await write({ 'pods.yaml': kubectlList.replace('10.244.0.5', '10.244.0') });
    await expect(loadSnapshotDir(dir)).rejects.toThrow('pods.yaml: Pod default/web-1: status.podIPs[0].ip must be an IP address');
  });

  test('missing, empty and object-less folders give clear errors', async () => {
    await expect(loadSnapshotDir(join(dir, 'absent'))).rejects.toThrow(`snapshot folder ${join(dir, 'absent')} does not exist`);
    await expect(loadSnapshotDir(dir)).rejects.toThrow(`snapshot folder ${dir} has no .yaml, .yml or .json files`);
    await write({ 'empty.yaml': '# nothing yet\n' });
    await expect(loadSnapshotDir(dir)).rejects.toThrow(`snapshot folder ${dir} holds no objects (its files are empty)`);
    await expect(loadSnapshotDir(join(dir, 'empty.yaml'))).rejects.toThrow('is not a folder');
  });
});

describe('the seed example (examples/seed/snapshot)', () => {
  const seedDir = new URL('../../examples/seed/snapshot', import.meta.url).pathname;

  test('loads the article cluster with the expected objects', async () => {
    const snapshot = await loadSnapshotDir(seedDir);
    expect(snapshot.nodes.map((node) => [node.name, node.calico.ipv4Address])).toEqual([
      ['node-1', '10.130.29.80/24'],
      ['node-2', '10.130.29.81/24'],
      ['node-3', '10.130.29.82/24'],
    ]);
    expect(snapshot.pods).toHaveLength(7);
    const podNetworkPods = snapshot.pods.filter((pod) => !pod.hostNetwork);
    expect(podNetworkPods.map((pod) => [pod.nodeName, pod.podIPs[0]]).sort()).toEqual([
      ['node-1', '10.244.0.137'],
      ['node-1', '10.244.0.138'],
      ['node-1', '10.244.0.140'],
      ['node-2', '10.244.1.141'],
    ]);
    expect(snapshot.pods.find((pod) => pod.name === 'rpc-75d9b7d7c9-2zzrx')?.podIPs).toEqual(['10.244.0.140']);
    expect(snapshot.services.map((service) => [`${service.namespace}/${service.name}`, service.clusterIPs])).toEqual([
      ['default/kubernetes', ['10.96.0.1']],
      ['kube-system/kube-dns', ['10.96.0.10']],
    ]);
    expect(snapshot.services[1]?.ports.map((port) => `${port.name} ${port.port}/${port.protocol}`)).toEqual([
      'dns 53/UDP',
      'dns-tcp 53/TCP',
      'metrics 9153/TCP',
    ]);
    const [apiServers, coreDNS] = snapshot.endpointSlices;
    expect(apiServers?.endpoints.map((endpoint) => [endpoint.addresses[0], endpoint.targetRef])).toEqual([
      ['10.130.29.80', null],
      ['10.130.29.81', null],
      ['10.130.29.82', null],
    ]);
    expect(coreDNS?.endpoints.map((endpoint) => [endpoint.addresses[0], endpoint.nodeName, endpoint.targetRef?.name])).toEqual([
      ['10.244.0.137', 'node-1', 'coredns-78fcd69978-9v6wz'],
      ['10.244.0.138', 'node-1', 'coredns-78fcd69978-qjz5b'],
    ]);
    expect(snapshot.namespaces).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(snapshot.ipPools).toEqual([
      { name: 'default-ipv4-ippool', cidr: '10.244.0.0/16', blockSize: 24, ipipMode: 'Always', vxlanMode: 'Never', disabled: false },
    ]);
    expect(snapshot.ipamBlocks).toEqual([
      { cidr: '10.244.0.0/24', node: 'node-1' },
      { cidr: '10.244.1.0/24', node: 'node-2' },
      { cidr: '10.244.2.0/24', node: 'node-3' },
    ]);
    expect(Object.fromEntries(snapshot.workloadEndpoints.map((wep) => [wep.ipNetworks[0], wep.interfaceName]))).toEqual({
      '10.244.0.137/32': 'calid3c6b0469a6',
      '10.244.0.138/32': 'calidbc2311f514',
      '10.244.0.140/32': 'califb4eac25ec6',
      '10.244.1.141/32': 'cali4eac25ec62b',
    });
    expect(snapshot.kubeProxy).toEqual({ mode: 'ipvs', scheduler: 'rr', nodePortAddresses: [], clusterCIDRs: ['10.244.0.0/16'], masqueradeBit: 14, masqueradeAll: false, localhostNodePorts: true });
    expect(snapshot.dns).toEqual({ clusterDomain: 'cluster.local', serviceIPs: ['10.96.0.10'], podsMode: 'insecure', ttl: 30 });
    // Only the empty scheduler was filled in; everything else was read from an object.
    expect(snapshot.notes).toEqual(['kube-proxy config.conf leaves ipvs.scheduler empty, so IPVS uses round robin (rr)']);
  });
});
