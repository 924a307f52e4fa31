// The two-node cluster in VMs (harness/nodes): real kubelets, containerd and runc, kube-proxy in IPVS mode,
// Flannel's VXLAN pod network and CoreDNS running as Pods. This suite checks the cluster is what it claims to
// be (Nodes registered by the kubelets, Pods they started, traffic between nodes, the kube-dns Service
// answering through IPVS), and netlab against it: the IPVS model against both nodes' real tables, a trace's
// routing hops against both kernels and a real connection, and the resolv.conf model against the files the
// kubelet wrote. Then the operator, on the host with the harness kubeconfig, checks both nodes through its
// production path (exec in the probe DaemonSet's Pods through the apiserver and the kubelets, DNS questions
// to the kube-dns Service), and every fault the suite makes turns exactly the right condition.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { CoreV1Api, Exec } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { compareIpvs } from '../../src/compare/ipvs.ts';
import { compareResolvConf } from '../../src/compare/resolvconf.ts';
import { expectedResolvConf } from '../../src/model/resolvconf.ts';
import type { PodDnsConfig } from '../../src/model/resolvconf.ts';
import { parseResolvConf } from '../../src/parse/resolvconf.ts';
import { createDnsProber } from '../../src/observe/dns.ts';
import { kubeClient } from '../../src/kube/client.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { silentLogger } from '../../src/operator/log.ts';
import { runOperator } from '../../src/operator/operator.ts';
import type { RunningOperator } from '../../src/operator/operator.ts';
import type { NodeExec } from '../../src/observe/exec.ts';
import { traceFlow } from '../../src/trace/trace.ts';
import type { ServiceHop } from '../../src/trace/types.ts';
import { connectionsThrough, parseIpvsadmLnc } from '../../harness/netns/ipvs-connections.ts';
import { checkTraceAgainstKernel } from '../../harness/netns/kernel-routes.ts';
import { expectedIpvs } from '../../src/model/ipvs.ts';
import { outputOf } from '../../src/observe/exec.ts';
import { parseIpvsadm } from '../../src/parse/ipvsadm.ts';
import { fetchSnapshot } from '../../src/snapshot/from-api.ts';
import { binDir } from '../../harness/control-plane/binaries.ts';
import { waitFor } from '../../harness/control-plane/cluster.ts';
import { signalKubeProxy, startKubeProxy, stopKubeProxy } from '../../harness/vm/kube-proxy.ts';
import { CLUSTER_NODES, startNodeCluster, waitForPods } from '../../harness/nodes/cluster.ts';
import type { NodeCluster } from '../../harness/nodes/cluster.ts';
import { NODE_RESOLV_CONF } from '../../harness/nodes/kubelet.ts';
import { describeNodeCluster } from '../harness/require-nodes.ts';
import { apply, conditionOf, installCrd, lab, loadYaml, waitForLab } from '../operator/support.ts';
import type { LabObject } from '../operator/support.ts';

const CLIENT_IMAGE = 'netlab-probe:dev';
const PROBE_SELECTOR = 'app.kubernetes.io/name=netlab-probe';
const LAB_NS = 'lab';
const LAB = 'two-nodes';
const LAYER_CONDITIONS = ['RoutesVerified', 'IPVSVerified', 'DNSVerified', 'ResolvConfVerified'];
const labReady = (l: LabObject) => conditionOf(l, 'Ready')?.status === 'True' && l.status?.observedGeneration === l.metadata.generation;
const conditionIs = (type: string, status: string) => (l: LabObject) => conditionOf(l, type)?.status === status;
/** how long the operator may take to see a fault or a repair: a check every 15 s, each exec seconds under TCG */
const NOTICE_MS = 240_000;

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

  test('netlab trace from that Pod to kube-dns on node-2: both kernels agree with every routing hop, and a real connection lands on a backend the trace listed', async () => {
    const dnsOnNode2 = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items.find((p) => p.spec?.nodeName === 'node-2')!;
    const snapshot = await fetchSnapshot(cluster.kubeConfig());
    const trace = traceFlow(snapshot, null, { from: 'default/dns-client', to: 'kube-dns.kube-system:53', protocol: 'TCP', endpoint: dnsOnNode2.status!.podIP! });
    const nodes: NodeExec = { exec: (node, argv, opts) => cluster.vms.find((vm) => vm.nodeName === node)!.exec(node, argv, opts) };
    const kernel = await checkTraceAgainstKernel(trace, nodes, new Set(CLUSTER_NODES.map((n) => n.name)));
    expect(kernel.problems).toEqual([]);
    expect(kernel.compared).toBeGreaterThanOrEqual(3); // node-1's route to the pod, the VXLAN outer header, node-2's route to the veth, the reply
    const service = trace.hops.find((h): h is ServiceHop => h.kind === 'service')!;
    expect(service.frontend).toMatchObject({ address: '10.96.0.10', port: 53, protocol: 'TCP' });
    // DNS over TCP from the Pod, then node-1's IPVS connection table: the connection used a backend netlab listed
    await execInPod(cluster, 'default', 'dns-client', 'client', ['dig', '+tcp', '+short', '+time=5', '@10.96.0.10', 'kubernetes.default.svc.cluster.local', 'A']);
    const connections = parseIpvsadmLnc(await outputOf(cluster.vms[0]!, 'node-1', ['ipvsadm', '-Lnc']));
    const { listed, unlisted } = connectionsThrough(service, connections);
    expect(listed.length).toBeGreaterThanOrEqual(1);
    expect(unlisted).toEqual([]);
  }, 300_000);

  test('resolv.conf: netlab\'s model agrees with the files the kubelet wrote, for every dnsPolicy', async () => {
    // dns-client (ClusterFirst) runs already; three more Pods, one at a time: a TCG node given several sandboxes
    // at once was seen timing them out
    const cases: { name: string; node: string; dnsPolicy: string; hostNetwork?: boolean; dnsConfig?: PodDnsConfig }[] = [
      { name: 'dns-client', node: 'node-1', dnsPolicy: 'ClusterFirst' },
      { name: 'dns-hostnet', node: 'node-2', dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true },
      { name: 'dns-default', node: 'node-1', dnsPolicy: 'Default' },
      { name: 'dns-none', node: 'node-2', dnsPolicy: 'None', dnsConfig: { nameservers: ['10.96.0.10'], searches: ['lab.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } },
    ];
    for (const c of cases.slice(1)) await runClientPod(cluster, 'default', c.name, c.node, { dnsPolicy: c.dnsPolicy, hostNetwork: c.hostNetwork, dnsConfig: c.dnsConfig });
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
    let began: number;
    /** seconds from the lab's creation (or a fault) to each state the suite waited for, printed at the end */
    const timeline: string[] = [];
    const waitAndNote = async (what: string, ok: (l: LabObject) => boolean, since = began, timeoutMs = NOTICE_MS) => {
      const seen = await waitForLab(admin, LAB_NS, LAB, what, ok, timeoutMs, 1_000);
      timeline.push(`${what}: ${((performance.now() - since) / 1000).toFixed(1)} s`);
      return seen;
    };

    beforeAll(async () => {
      const kc = cluster.kubeConfig();
      admin = kubeClient(kc);
      await installCrd(admin);
      for (const file of ['manifests/operator/namespace.yaml', 'manifests/operator/probe-daemonset.yaml']) for (const obj of loadYaml(file)) await apply(admin, obj);
      await waitForPods(core, 'netlab-system', PROBE_SELECTOR, cluster.vms.length, cluster.vms, 480_000);
      // resolv.conf is read where the operator would run in the cluster: a ClusterFirst Pod on the pod network
      if (!(await podExists(core, 'default', 'dns-client'))) await runClientPod(cluster, 'default', 'dns-client', 'node-1');
      operator = await runOperator({
        kubeConfig: kc,
        namespace: 'netlab-system',
        leaderElection: null,
        metricsPort: null,
        observers: {
          // the host reaches 10.96.0.10 through node-1 (NodeCluster.dns): the question crosses node-1's IPVS
          dns: { prober: createDnsProber({ timeoutMs: 5_000 }), servers: () => [{ ...cluster.dns, transport: 'udp' }] },
          resolvConf: { namespace: 'default', dnsPolicy: 'ClusterFirst', read: () => execInPod(cluster, 'default', 'dns-client', 'client', ['cat', '/etc/resolv.conf']) },
        },
        // an exec under TCG on a busy host has been seen taking tens of seconds
        observeOptions: { execTimeoutMs: 60_000 },
        log: silentLogger,
      });
      await operator.ready(120_000);
      await apply(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: LAB_NS } });
      began = performance.now();
      // gracePeriod 60 s: kube-proxy and flanneld in TCG VMs take seconds to program a change
      await apply(admin, lab(LAB_NS, LAB, { checks: ['routes', 'ipvs', 'dns', 'resolvconf'], services: { namespaces: ['default', 'kube-system'] }, interval: '15s', gracePeriod: '60s' }));
    }, 900_000);
    afterAll(async () => {
      await operator?.stop();
      if (timeline.length) process.stderr.write(`netlab operator on the node cluster, seconds to each state:\n  ${timeline.join('\n  ')}\n`);
    }, 60_000);

    test('the lab reaches ROUTES, IPVS, DNS and resolv.conf True on both nodes, and kubectl get nlab shows it', async () => {
      const done = await waitAndNote('Ready=True', labReady);
      for (const type of LAYER_CONDITIONS) expect(conditionOf(done, type)).toMatchObject({ status: 'True' });
      const routes = done.status!.layers!.routes!;
      // each node: the other node's /24 through flannel.1 and its own /24 on cni0, at least
      expect(routes.expected).toBeGreaterThanOrEqual(4);
      expect(routes.observed).toBe(routes.expected);
      expect(done.status!.layers!.ipvs!.expected).toBeGreaterThanOrEqual(2 * 4); // kubernetes + kube-dns's three ports, per node
      const printed = execFileSync(path.join(binDir(), 'kubectl'), ['--kubeconfig', cluster.controlPlane.kubeconfig, 'get', 'nlab', '-A'], { encoding: 'utf8' });
      process.stderr.write(`kubectl get nlab -A on the node cluster:\n${printed}`);
      const [header, row] = printed.trim().split('\n').map((line) => line.trim().split(/\s+/));
      expect(header!.slice(0, 6)).toEqual(['NAMESPACE', 'NAME', 'ROUTES', 'IPVS', 'DNS', 'READY']);
      expect(row!.slice(0, 6)).toEqual([LAB_NS, LAB, 'True', 'True', 'True', 'True']);
    }, NOTICE_MS + 60_000);

    test('a Flannel route deleted on node-2 turns RoutesVerified False with that missing route; restored, True again', async () => {
      await waitForLab(admin, LAB_NS, LAB, 'Ready=True', labReady, NOTICE_MS, 1_000);
      const node1 = (await core.readNode({ name: 'node-1' })).spec!.podCIDR!;
      const node2 = cluster.vms[1]!;
      const route = (await outputOf(node2, 'node-2', ['ip', 'route', 'show', node1])).trim();
      expect(route).toContain('flannel.1');
      const broke = performance.now();
      await outputOf(node2, 'node-2', ['ip', 'route', 'del', node1]);
      try {
        const broken = await waitAndNote('route deleted: RoutesVerified=False', conditionIs('RoutesVerified', 'False'), broke);
        const found = broken.status!.findings!.filter((f) => f.layer === 'routes');
        expect(found).toEqual([expect.objectContaining({ kind: 'missing', node: 'node-2' })]);
        expect(found[0]!.key).toContain(node1.split('/')[0]);
        expect(conditionOf(broken, 'IPVSVerified')!.status).toBe('True');
      } finally {
        // flanneld does not put a deleted route back by itself (it only reacts to lease changes)
        await outputOf(node2, 'node-2', ['sh', '-c', `ip route show ${node1} | grep -q . || ip route add ${route}`]);
      }
      await waitAndNote('route restored: RoutesVerified=True', conditionIs('RoutesVerified', 'True'), broke);
    }, 2 * NOTICE_MS + 60_000);

    test('a real server deleted with ipvsadm behind a frozen kube-proxy turns IPVSVerified False; added back, True', async () => {
      await waitForLab(admin, LAB_NS, LAB, 'Ready=True', labReady, NOTICE_MS, 1_000);
      const vm = cluster.vms[0]!;
      const dnsPod = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items[0]!.status!.podIP!;
      // frozen, kube-proxy cannot repair the table before the operator looks
      await signalKubeProxy(vm, 'STOP');
      const broke = performance.now();
      try {
        await outputOf(vm, 'node-1', ['ipvsadm', '-d', '-u', '10.96.0.10:53', '-r', `${dnsPod}:53`]);
        const broken = await waitAndNote('real server deleted: IPVSVerified=False', conditionIs('IPVSVerified', 'False'), broke);
        expect(broken.status!.findings!.filter((f) => f.layer === 'ipvs')).toEqual([expect.objectContaining({ kind: 'missing', node: 'node-1', key: `UDP 10.96.0.10:53 -> ${dnsPod}:53` })]);
        await outputOf(vm, 'node-1', ['ipvsadm', '-a', '-u', '10.96.0.10:53', '-r', `${dnsPod}:53`, '-m', '-w', '1']);
        await waitAndNote('real server added back: IPVSVerified=True', conditionIs('IPVSVerified', 'True'), broke);
      } finally {
        await signalKubeProxy(vm, 'CONT');
      }
    }, 2 * NOTICE_MS + 60_000);

    test('the probe Pod on node-2 deleted: its layers Unknown naming node-2, then True once the DaemonSet replaced it', async () => {
      await waitForLab(admin, LAB_NS, LAB, 'Ready=True', labReady, NOTICE_MS, 1_000);
      const probe = (await core.listNamespacedPod({ namespace: 'netlab-system', labelSelector: PROBE_SELECTOR, fieldSelector: 'spec.nodeName=node-2' })).items[0]!;
      const broke = performance.now();
      await core.deleteNamespacedPod({ namespace: 'netlab-system', name: probe.metadata!.name!, gracePeriodSeconds: 0 });
      const unknown = await waitAndNote('probe Pod deleted: RoutesVerified=Unknown', conditionIs('RoutesVerified', 'Unknown'), broke);
      expect(conditionOf(unknown, 'RoutesVerified')!.message).toContain('node-2');
      expect(conditionOf(unknown, 'IPVSVerified')!.status).toBe('Unknown');
      await waitForPods(core, 'netlab-system', PROBE_SELECTOR, cluster.vms.length, cluster.vms, 480_000);
      await waitAndNote('probe Pod replaced: Ready=True', labReady, broke);
    }, 480_000 + 2 * NOTICE_MS);

    test('kube-proxy stopped on node-1 while a Service appears: Converging, False after the grace period, True after its restart', async () => {
      await waitForLab(admin, LAB_NS, LAB, 'Ready=True', labReady, NOTICE_MS, 1_000);
      const vm = cluster.vms[0]!;
      await stopKubeProxy(vm);
      const broke = performance.now();
      try {
        await apply(admin, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'late', namespace: 'kube-system' }, spec: { selector: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', port: 5353, targetPort: 53, protocol: 'UDP' }] } });
        const converging = await waitAndNote('kube-proxy stopped, Service added: IPVSVerified Converging', (l) => conditionOf(l, 'IPVSVerified')?.reason === 'Converging', broke);
        expect(conditionOf(converging, 'IPVSVerified')!.status).not.toBe('False');
        const late = await waitAndNote('IPVSVerified=False after the grace period', conditionIs('IPVSVerified', 'False'), broke);
        const missing = late.status!.findings!.filter((f) => f.layer === 'ipvs');
        expect(missing.length).toBeGreaterThanOrEqual(1);
        for (const f of missing) expect(f).toMatchObject({ kind: 'missing', node: 'node-1' });
        expect(missing.some((f) => f.key.startsWith('UDP ') && f.key.includes(':5353'))).toBe(true);
      } finally {
        await startKubeProxy(vm, cluster.controlPlane, { scheduler: '' }, 600_000);
      }
      await waitAndNote('kube-proxy restarted: IPVSVerified=True', conditionIs('IPVSVerified', 'True'), broke);
      await admin.request('DELETE', '/api/v1/namespaces/kube-system/services/late');
    }, 600_000 + 3 * NOTICE_MS);
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

async function podExists(core: CoreV1Api, namespace: string, name: string): Promise<boolean> {
  return (await core.listNamespacedPod({ namespace, fieldSelector: `metadata.name=${name}` })).items.length > 0;
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

