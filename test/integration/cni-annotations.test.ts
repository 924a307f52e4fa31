// The CNIs' annotations travel from a real kube-apiserver into the snapshot the routes model reads, both ways
// netlab reads the API: fetchSnapshot (the CLI) and the operator's informers (ClusterCache). The annotation
// values are the shapes flanneld and Calico write (imitated: neither runs here). The pod is created without an
// IP, as the kubelet has not reported one yet: Calico's CNI annotation is then its only address.
import { KubeConfig } from '@kubernetes/client-node';
import { kubeClient } from '../../src/kube/client.ts';
import { ClusterCache } from '../../src/operator/cluster-cache.ts';
import { silentLogger } from '../../src/operator/log.ts';
import type { ClusterChange } from '../../src/operator/relevance.ts';
import { fetchSnapshot } from '../../src/snapshot/from-api.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import { clientsFor, createNamespace, waitFor } from '../../harness/control-plane/cluster.ts';
import { describeReal } from '../harness/require-real.ts';
import { installCrd } from '../operator/support.ts';

const run = Date.now().toString(36);
const NODE = `cni-annotations-${run}`;
const NAMESPACE = `cni-annotations-${run}`;
const annotations = {
  'flannel.alpha.coreos.com/backend-data': '{"VNI":1,"VtepMAC":"5a:1c:9e:3f:20:01"}',
  'flannel.alpha.coreos.com/backend-type': 'vxlan',
  'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
  'flannel.alpha.coreos.com/public-ip': '192.168.251.10',
  'projectcalico.org/Interfaces': '[{"name":"ens192","addresses":["192.168.251.10"]}]',
};
const flannelView = { kubeSubnetManager: true, backendType: 'vxlan', publicIP: '192.168.251.10', vni: 1, vtepMAC: '5a:1c:9e:3f:20:01' };

function viewsOf(snapshot: ClusterSnapshot) {
  const node = snapshot.nodes.find((n) => n.name === NODE);
  const pod = snapshot.pods.find((p) => p.namespace === NAMESPACE && p.name === 'early');
  return { flannel: node?.flannel, interfaces: node?.calico.interfaces, podIPs: pod?.podIPs, calicoPodIPs: pod?.calicoPodIPs };
}

describeReal('CNI annotations from a real kube-apiserver reach the snapshot (CLI and operator)', (info) => {
  const c = clientsFor(info.kubeconfig);
  const kc = new KubeConfig();
  kc.loadFromFile(info.kubeconfig);
  const client = kubeClient(kc);

  beforeAll(async () => {
    await c.core.createNode({ body: { metadata: { name: NODE, annotations }, spec: { podCIDR: '10.251.0.0/24', podCIDRs: ['10.251.0.0/24'] } } });
    await createNamespace(c, NAMESPACE);
    await c.core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'early', annotations: { 'cni.projectcalico.org/podIP': '10.251.0.7/32', 'cni.projectcalico.org/podIPs': '10.251.0.7/32' } },
        spec: { nodeName: NODE, containers: [{ name: 'main', image: 'netlab.local/none:1' }] },
      },
    });
  });

  afterAll(async () => {
    await c.core.deleteNamespace({ name: NAMESPACE }).catch(() => undefined);
    await c.core.deleteNode({ name: NODE }).catch(() => undefined);
  });

  test('fetchSnapshot reads flannel\'s and Calico\'s node annotations and the pod\'s Calico address', async () => {
    expect(viewsOf(await fetchSnapshot(kc))).toEqual({
      flannel: flannelView,
      interfaces: [{ name: 'ens192', addresses: ['192.168.251.10'] }],
      podIPs: [],
      calicoPodIPs: ['10.251.0.7'],
    });
  });

  test('the operator\'s informers hold the same views, and a changed flannel annotation is a Node change', async () => {
    await installCrd(client);
    const changes: ClusterChange[] = [];
    const cache = new ClusterCache(kc, client, { log: silentLogger, onClusterChange: (change) => changes.push(change), onLabChange: () => {} });
    try {
      await cache.start();
      await waitFor('the operator\'s caches to sync', async () => cache.notReady() === null);
      expect(viewsOf(cache.snapshot())).toEqual({ flannel: flannelView, interfaces: [{ name: 'ens192', addresses: ['192.168.251.10'] }], podIPs: [], calicoPodIPs: ['10.251.0.7'] });

      await client.request('PATCH', `/api/v1/nodes/${NODE}`, { metadata: { annotations: { 'flannel.alpha.coreos.com/backend-type': 'host-gw' } } }, { contentType: 'application/merge-patch+json' });
      await waitFor('the backend-type change in the cache', async () => viewsOf(cache.snapshot()).flannel?.backendType === 'host-gw');
      expect(changes.some((change) => change.kind === 'Node' && change.name === NODE)).toBe(true);
    } finally {
      await cache.stop();
    }
  });
});
