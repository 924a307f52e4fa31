// The two-node cluster in VMs (test/harness/nodes): real kubelets, containerd and runc, kube-proxy in IPVS
// mode, Flannel's VXLAN pod network and CoreDNS running as Pods. This suite checks the cluster is what it
// claims to be (Pods scheduled and started by the kubelets, traffic between nodes, the kube-dns Service
// answering through IPVS) and that netlab's IPVS model agrees with both nodes' real tables.
import { Writable } from 'node:stream';
import { CoreV1Api, Exec } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { compareIpvs } from '../../src/compare/ipvs.ts';
import { compareResolvConf } from '../../src/compare/resolvconf.ts';
import { expectedResolvConf } from '../../src/model/resolvconf.ts';
import type { PodDnsConfig } from '../../src/model/resolvconf.ts';
import { createDnsProber } from '../../src/observe/dns.ts';
import { kubeClient } from '../../src/kube/client.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { silentLogger } from '../../src/operator/log.ts';
import { runOperator } from '../../src/operator/operator.ts';
import type { RunningOperator } from '../../src/operator/operator.ts';
import { parseResolvConf } from '../../src/parse/resolvconf.ts';
import { expectedIpvs } from '../../src/model/ipvs.ts';
import { outputOf } from '../../src/observe/exec.ts';
import { parseIpvsadm } from '../../src/parse/ipvsadm.ts';
import { fetchSnapshot } from '../../src/snapshot/from-api.ts';
import { waitFor } from '../../harness/control-plane/cluster.ts';
import { CLUSTER_NODES, KUBE_PROXY_SYNC_TIMEOUT_MS, startNodeCluster, waitForPods } from '../../harness/nodes/cluster.ts';
import type { NodeCluster } from '../../harness/nodes/cluster.ts';
import { NODE_RESOLV_CONF } from '../../harness/nodes/kubelet.ts';
import { describeNodeCluster } from '../harness/require-nodes.ts';
import { startKubeProxy, stopKubeProxy, signalKubeProxy } from '../../harness/vm/kube-proxy.ts';
import { apply, conditionOf, installCrd, lab, loadYaml, waitForLab } from '../operator/support.ts';
import type { LabObject } from '../operator/support.ts';

const CLIENT_IMAGE = 'netlab-probe:dev';
const PROBE_SELECTOR = 'app.kubernetes.io/name=netlab-probe';
const LAB_NS = 'demo';
const LAB = 'walkthrough';
const ready = (l: LabObject) => conditionOf(l, 'Ready')?.status === 'True' && l.status?.observedGeneration === l.metadata.generation;

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
    // kube-proxy syncs on its own schedule: poll until the API objects and the table tell the same story
    for (const vm of cluster.vms) {
      let last: string[] = [];
      await waitFor(
        `netlab's model and ${vm.nodeName}'s IPVS table to agree`,
        async () => {
          const snapshot = await fetchSnapshot(cluster.kubeConfig());
          const observed = parseIpvsadm(await outputOf(vm, vm.nodeName, ['ipvsadm', '-Ln']), `${vm.nodeName}: ipvsadm -Ln`);
          const { findings } = compareIpvs(expectedIpvs(snapshot, vm.nodeName), observed);
          last = findings.map((f) => `${f.kind} ${f.key}`);
          return last.length === 0;
        },
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last findings:\n${last.join('\n')}`);
      });
    }
  }, 300_000);

  test('a Pod on node-1 reaches a CoreDNS Pod on node-2 directly and through the kube-dns Service', async () => {
    const dnsOnNode2 = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items.find((p) => p.spec?.nodeName === 'node-2');
    const client = await runClientPod(cluster, 'default', 'dns-client', 'node-1');
    const ask = async (server: string) =>
      (await execInPod(cluster, 'default', client, 'client', ['dig', '+short', '+time=5', '+tries=2', `@${server}`, 'kubernetes.default.svc.cluster.local', 'A'])).trim();
    expect(await ask(dnsOnNode2!.status!.podIP!)).toBe('10.96.0.1');
    expect(await ask('10.96.0.10')).toBe('10.96.0.1');
  }, 300_000);

  test('resolv.conf: netlab\'s model agrees with the files the kubelet wrote, for every dnsPolicy', async () => {
    const cases: { name: string; dnsPolicy: string; hostNetwork?: boolean; dnsConfig?: PodDnsConfig }[] = [
      { name: 'dns-clusterfirst', dnsPolicy: 'ClusterFirst' },
      { name: 'dns-hostnet', dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true },
      { name: 'dns-hostnet-clusterfirst', dnsPolicy: 'ClusterFirst', hostNetwork: true },
      { name: 'dns-default', dnsPolicy: 'Default' },
      { name: 'dns-none', dnsPolicy: 'None', dnsConfig: { nameservers: ['10.96.0.10'], searches: ['lab.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } },
      { name: 'dns-clusterfirst-ndots', dnsPolicy: 'ClusterFirst', dnsConfig: { options: [{ name: 'ndots', value: '1' }], searches: ['extra.example'] } },
    ];
    await Promise.all(cases.map((c) => runClientPod(cluster, 'default', c.name, 'node-2', { dnsPolicy: c.dnsPolicy, hostNetwork: c.hostNetwork, dnsConfig: c.dnsConfig })));
    const snapshot = await fetchSnapshot(cluster.kubeConfig());
    for (const c of cases) {
      const written = await execInPod(cluster, 'default', c.name, 'client', ['cat', '/etc/resolv.conf']);
      const expected = expectedResolvConf(snapshot, { namespace: 'default', dnsPolicy: c.dnsPolicy, hostNetwork: c.hostNetwork, dnsConfig: c.dnsConfig, hostResolvConf: parseResolvConf(NODE_RESOLV_CONF) });
      const findings = compareResolvConf(expected, parseResolvConf(written, `${c.name}:/etc/resolv.conf`), `pod default/${c.name}`);
      expect({ pod: c.name, written, findings: findings.map((f) => `${f.kind} ${f.key}`) }).toEqual({ pod: c.name, written, findings: [] });
    }
  }, 600_000);

  describe('the operator on the host, observing both nodes through the probe DaemonSet', () => {
    let admin: KubeClient;
    let operator: RunningOperator;

    beforeAll(async () => {
      const kc = cluster.kubeConfig();
      admin = kubeClient(kc);
      await installCrd(admin);
      for (const file of ['manifests/operator/namespace.yaml', 'manifests/operator/probe-daemonset.yaml']) for (const obj of loadYaml(file)) await apply(admin, obj);
      await waitForPods(core, 'netlab-system', PROBE_SELECTOR, cluster.vms.length, cluster.vms);
      // resolv.conf is read where the operator would run: a ClusterFirst Pod in its namespace
      await runClientPod(cluster, 'netlab-system', 'resolv-reader', 'node-1');
      operator = await runOperator({
        kubeConfig: kc,
        namespace: 'netlab-system',
        leaderElection: null,
        metricsPort: 0,
        metricsHost: '127.0.0.1',
        observers: {
          dns: { prober: createDnsProber({ timeoutMs: 5_000 }), servers: () => [{ ...cluster.dns, transport: 'udp' }] },
          resolvConf: { namespace: 'netlab-system', dnsPolicy: 'ClusterFirst', read: () => execInPod(cluster, 'netlab-system', 'resolv-reader', 'client', ['cat', '/etc/resolv.conf']) },
        },
        observeOptions: { execTimeoutMs: 60_000 },
        log: silentLogger,
      });
      await operator.ready();
      await apply(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: LAB_NS } });
      // gracePeriod 60s: kube-proxy and flanneld in TCG VMs take seconds to program a change
      await apply(admin, lab(LAB_NS, LAB, { checks: ['routes', 'ipvs', 'dns', 'resolvconf'], services: { namespaces: ['default', 'kube-system'] }, interval: '15s', gracePeriod: '60s' }));
    }, 600_000);
    afterAll(async () => {
      await operator?.stop();
    }, 60_000);

    test('the lab reaches ROUTES, IPVS, DNS and resolv.conf True on both nodes, nothing imitated', async () => {
      const done = await waitForLab(admin, LAB_NS, LAB, 'Ready=True', ready, 300_000);
      for (const type of ['RoutesVerified', 'IPVSVerified', 'DNSVerified', 'ResolvConfVerified']) expect(conditionOf(done, type)).toMatchObject({ status: 'True' });
      expect(done.status!.layers!.routes!.observed).toBe(done.status!.layers!.routes!.expected);
      expect(done.status!.layers!.routes!.expected).toBeGreaterThanOrEqual(2);
    }, 360_000);

    test('a Flannel route deleted on node-2 turns RoutesVerified False with that missing route; restored, True again', async () => {
      await waitForLab(admin, LAB_NS, LAB, 'Ready=True', ready, 300_000);
      const node1 = (await core.readNode({ name: 'node-1' })).spec!.podCIDR!;
      const node2 = cluster.vms[1]!;
      const route = (await outputOf(node2, 'node-2', ['ip', 'route', 'show', node1])).trim();
      expect(route).toContain('flannel.1');
      await outputOf(node2, 'node-2', ['ip', 'route', 'del', node1]);
      try {
        const broken = await waitForLab(admin, LAB_NS, LAB, 'RoutesVerified=False', (l) => conditionOf(l, 'RoutesVerified')?.status === 'False', 180_000);
        const missing = broken.status!.findings!.filter((f) => f.layer === 'routes');
        expect(missing).toEqual([expect.objectContaining({ kind: 'missing', node: 'node-2' })]);
        expect(missing[0]!.key).toContain(node1.split('/')[0]);
      } finally {
        await outputOf(node2, 'node-2', ['sh', '-c', `ip route show ${node1} | grep -q . || ip route add ${route}`]);
      }
      await waitForLab(admin, LAB_NS, LAB, 'RoutesVerified=True again', (l) => conditionOf(l, 'RoutesVerified')?.status === 'True', 180_000);
    }, 600_000);

    test('a real server deleted with ipvsadm behind a frozen kube-proxy turns IPVSVerified False; its repair, True', async () => {
      await waitForLab(admin, LAB_NS, LAB, 'Ready=True', ready, 300_000);
      const vm = cluster.vms[0]!;
      const dnsPod = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items[0]!.status!.podIP!;
      await signalKubeProxy(vm, 'STOP');
      try {
        await outputOf(vm, 'node-1', ['ipvsadm', '-d', '-u', '10.96.0.10:53', '-r', `${dnsPod}:53`]);
        const broken = await waitForLab(admin, LAB_NS, LAB, 'IPVSVerified=False', (l) => conditionOf(l, 'IPVSVerified')?.status === 'False', 180_000);
        const removed = broken.status!.findings!.filter((f) => f.layer === 'ipvs');
        expect(removed).toEqual([expect.objectContaining({ kind: 'missing', node: 'node-1', key: `UDP 10.96.0.10:53 -> ${dnsPod}:53` })]);
      } finally {
        await signalKubeProxy(vm, 'CONT');
      }
      await waitForLab(admin, LAB_NS, LAB, 'IPVSVerified=True again', (l) => conditionOf(l, 'IPVSVerified')?.status === 'True', 180_000);
    }, 600_000);

    test('the probe Pod on node-2 deleted: its layers Unknown naming node-2, then True once the DaemonSet replaced it', async () => {
      await waitForLab(admin, LAB_NS, LAB, 'Ready=True', ready, 300_000);
      const probe = (await core.listNamespacedPod({ namespace: 'netlab-system', labelSelector: PROBE_SELECTOR, fieldSelector: 'spec.nodeName=node-2' })).items[0]!;
      await core.deleteNamespacedPod({ namespace: 'netlab-system', name: probe.metadata!.name!, gracePeriodSeconds: 0 });
      const unknown = await waitForLab(admin, LAB_NS, LAB, 'RoutesVerified=Unknown', (l) => conditionOf(l, 'RoutesVerified')?.status === 'Unknown', 180_000);
      expect(conditionOf(unknown, 'RoutesVerified')!.message).toContain('node-2');
      await waitForPods(core, 'netlab-system', PROBE_SELECTOR, cluster.vms.length, cluster.vms);
      await waitForLab(admin, LAB_NS, LAB, 'Ready=True again', ready, 300_000);
    }, 600_000);

    test('kube-proxy stopped on node-1 while a Service appears: Converging, False after the grace period, True after its restart', async () => {
      await waitForLab(admin, LAB_NS, LAB, 'Ready=True', ready, 300_000);
      const vm = cluster.vms[0]!;
      await stopKubeProxy(vm);
      try {
        await apply(admin, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'late', namespace: 'kube-system' }, spec: { selector: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', port: 5353, targetPort: 53, protocol: 'UDP' }] } });
        const converging = await waitForLab(admin, LAB_NS, LAB, 'IPVSVerified Converging', (l) => conditionOf(l, 'IPVSVerified')?.reason === 'Converging', 120_000);
        expect(conditionOf(converging, 'IPVSVerified')!.status).not.toBe('False');
        const late = await waitForLab(admin, LAB_NS, LAB, 'IPVSVerified=False after the grace period', (l) => conditionOf(l, 'IPVSVerified')?.status === 'False', 240_000);
        expect(late.status!.findings!.some((f) => f.layer === 'ipvs' && f.node === 'node-1' && f.kind === 'missing')).toBe(true);
      } finally {
        await startKubeProxy(vm, cluster.controlPlane, { scheduler: '' }, KUBE_PROXY_SYNC_TIMEOUT_MS);
      }
      await waitForLab(admin, LAB_NS, LAB, 'IPVSVerified=True after the restart', (l) => conditionOf(l, 'IPVSVerified')?.status === 'True', 240_000);
      await admin.request('DELETE', '/api/v1/namespaces/kube-system/services/late');
    }, 900_000);
  });
});

/** A Pod on `node` running the probe image (on the pod network unless `hostNetwork`), ready to be exec'd into. */
async function runClientPod(
  cluster: NodeCluster,
  namespace: string,
  name: string,
  node: string,
  dns: { dnsPolicy?: string; hostNetwork?: boolean; dnsConfig?: PodDnsConfig } = {},
): Promise<string> {
  const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  const pod: V1Pod = {
    metadata: { name, labels: { app: name } },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      dnsPolicy: dns.dnsPolicy,
      hostNetwork: dns.hostNetwork,
      dnsConfig: dns.dnsConfig ? { ...dns.dnsConfig, options: dns.dnsConfig.options?.map((o) => ({ name: o.name, value: o.value ?? undefined })) } : undefined,
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

