// The two-node cluster in VMs (test/harness/nodes): real kubelets, containerd and runc, kube-proxy in IPVS
// mode, Flannel's VXLAN pod network and CoreDNS running as Pods. This suite checks the cluster is what it
// claims to be (Pods scheduled and started by the kubelets, traffic between nodes, the kube-dns Service
// answering through IPVS) and that netlab's IPVS model agrees with both nodes' real tables.
import { Writable } from 'node:stream';
import { CoreV1Api, Exec } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { compareIpvs } from '../../src/compare/ipvs.ts';
import { expectedIpvs } from '../../src/model/ipvs.ts';
import { outputOf } from '../../src/observe/exec.ts';
import { parseIpvsadm } from '../../src/parse/ipvsadm.ts';
import { fetchSnapshot } from '../../src/snapshot/from-api.ts';
import { waitFor } from '../harness/cluster.ts';
import { CLUSTER_NODES, startNodeCluster, waitForPods } from '../harness/nodes/cluster.ts';
import type { NodeCluster } from '../harness/nodes/cluster.ts';
import { describeNodeCluster } from '../harness/nodes/require-nodes.ts';

const CLIENT_IMAGE = 'netlab-probe:dev';

describeNodeCluster('a real two-node cluster: kubelet, containerd, Flannel, kube-proxy, CoreDNS Pods', () => {
  let cluster: NodeCluster;
  let core: CoreV1Api;

  beforeAll(async () => {
    cluster = await startNodeCluster();
    core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  }, 900_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  test('both kubelets registered their Nodes, Ready, with the link addresses and a /24 of the pod network', async () => {
    const nodes = (await core.listNode()).items;
    const summary = nodes.map((n) => ({
      name: n.metadata?.name,
      internalIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
      podCIDR: n.spec?.podCIDR,
      ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status,
      kubelet: n.status?.nodeInfo?.kubeletVersion,
      runtime: n.status?.nodeInfo?.containerRuntimeVersion,
      flannelBackend: n.metadata?.annotations?.['flannel.alpha.coreos.com/backend-type'],
    }));
    expect(summary.map((n) => [n.name, n.internalIP, n.ready, n.flannelBackend])).toEqual(CLUSTER_NODES.map((n) => [n.name, n.address, 'True', 'vxlan']));
    for (const node of summary) {
      expect(node.podCIDR).toMatch(/^10\.244\.\d+\.0\/24$/);
      expect(node.kubelet).toBe('v1.37.2');
      expect(node.runtime).toMatch(/^containerd:\/\/2\./);
    }
  });

  test('CoreDNS runs as one Pod per node, and each node\'s IPVS table sends 10.96.0.10:53 to both', async () => {
    const dnsPods = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items;
    expect(dnsPods.map((p) => p.spec?.nodeName).sort()).toEqual(CLUSTER_NODES.map((n) => n.name));
    const podIPs = dnsPods.map((p) => `${p.status?.podIP}:53`).sort();
    for (const vm of cluster.vms) {
      const table = await waitFor(
        `kube-proxy on ${vm.nodeName} to program both CoreDNS Pods`,
        async () => {
          const t = parseIpvsadm(await outputOf(vm, vm.nodeName, ['ipvsadm', '-Ln']), `${vm.nodeName}: ipvsadm -Ln`);
          const dns = t.services.find((s) => s.protocol === 'UDP' && s.address === '10.96.0.10' && s.port === 53);
          return dns && dns.realServers.length === podIPs.length ? dns : null;
        },
        120_000,
      );
      expect(table.realServers.map((r) => `${r.address}:${r.port}`).sort()).toEqual(podIPs);
    }
  }, 300_000);

  test('netlab\'s IPVS model agrees with the real tables of both nodes', async () => {
    const snapshot = await fetchSnapshot(cluster.kubeConfig());
    for (const vm of cluster.vms) {
      const observed = parseIpvsadm(await outputOf(vm, vm.nodeName, ['ipvsadm', '-Ln']), `${vm.nodeName}: ipvsadm -Ln`);
      const { findings } = compareIpvs(expectedIpvs(snapshot, vm.nodeName), observed);
      expect(findings.map((f) => `${f.kind} ${f.key}`)).toEqual([]);
    }
  }, 120_000);

  test('a Pod on node-1 reaches a CoreDNS Pod on node-2 directly and through the kube-dns Service', async () => {
    const dnsOnNode2 = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items.find((p) => p.spec?.nodeName === 'node-2');
    const client = await runClientPod(cluster, 'default', 'dns-client', 'node-1');
    const ask = async (server: string) =>
      (await execInPod(cluster, 'default', client, 'client', ['dig', '+short', '+time=5', '+tries=2', `@${server}`, 'kubernetes.default.svc.cluster.local', 'A'])).trim();
    expect(await ask(dnsOnNode2!.status!.podIP!)).toBe('10.96.0.1');
    expect(await ask('10.96.0.10')).toBe('10.96.0.1');
  }, 300_000);
});

/** A Pod on the pod network (not host network) on `node`, running the probe image, ready to be exec'd into. */
async function runClientPod(cluster: NodeCluster, namespace: string, name: string, node: string): Promise<string> {
  const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  const pod: V1Pod = {
    metadata: { name, labels: { app: name } },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'client', image: CLIENT_IMAGE, imagePullPolicy: 'Never', command: ['sleep', 'infinity'] }],
    },
  };
  await core.createNamespacedPod({ namespace, body: pod });
  await waitForPods(core, namespace, `app=${name}`, 1, cluster.vms, 240_000);
  return name;
}

/** `kubectl exec` through the apiserver and the kubelet; the command's stdout, or an error with its stderr. */
async function execInPod(cluster: NodeCluster, namespace: string, pod: string, container: string, argv: string[]): Promise<string> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk: Buffer, _e, done) { append(chunk.toString('utf8')); done(); } });
  const status = await new Promise<{ status?: string; message?: string }>((resolve, reject) => {
    new Exec(cluster.kubeConfig())
      .exec(namespace, pod, container, argv, sink((s) => (stdout += s)), sink((s) => (stderr += s)), null, false, (s) => resolve(s))
      .catch(reject);
  });
  if (status.status !== 'Success') throw new Error(`${argv.join(' ')} in ${namespace}/${pod}: ${status.message ?? JSON.stringify(status)}\n${stderr}`);
  return stdout;
}

