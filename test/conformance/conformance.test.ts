// Conformance on kind: `netlab lab up` (the same orchestration users run) builds a disposable kind cluster:
// 3 nodes, Calico in IPIP mode, kube-proxy in IPVS mode, the operator built from this checkout and the
// sample labs. The scenarios (./scenarios.ts) are the ones every provider runs; the two-node VM cluster runs
// them on every CI run (test/integration/nodes.test.ts). This file says how kind does the provider's part.
//
// Why kind and not @testcontainers/k3s: kind gives the lab users get (three kubeadm nodes, so remote
// blocks go through tunl0; kube-proxy as a DaemonSet with its kube-proxy ConfigMap, which the operator
// reads for the IPVS scheduler; kubeadm's CoreDNS), where k3s is one node with kube-proxy built into the
// k3s binary and no kube-proxy ConfigMap. testcontainers is used to find the container engine, exactly as
// it would for its own containers, and the suite skips with one line when there is none.
//
// Run: npm run test:conformance   (Docker, kind >= 0.33 and kubectl >= 1.36; about 10 to 20 minutes)
// NETLAB_CONFORMANCE_KEEP=1 leaves the cluster up afterwards (kubectl context kind-netlab-conformance).
import { labOptions, createLabDeps } from '../../src/lab/environment.ts';
import { labDown, labUp } from '../../src/lab/lab.ts';
import { Kube, waitUntil } from './cluster.ts';
import { detectContainerEngine, skipLine } from './engine.ts';
import { type ConformanceCluster, conformanceTests, printSummary } from './scenarios.ts';

const CLUSTER = 'netlab-conformance';
const TARGET_NODE = `${CLUSTER}-worker`;
const MINUTES_5 = 5 * 60_000;

const engine = await detectContainerEngine();
if (!engine.available) process.stderr.write(`${skipLine(engine.reason)}\n`);
const describeWithEngine = engine.available ? describe : describe.skip;

interface PodList {
  items: { metadata: { name: string }; spec: { nodeName?: string }; status: { podIP?: string } }[];
}

/** kind's kube-proxy is a DaemonSet: it is kept off a node (and its rules left as they are) with a node affinity. */
function kindCluster(kube: Kube): ConformanceCluster {
  const rollout = () => kube.run(['-n', 'kube-system', 'rollout', 'status', 'daemonset/kube-proxy', '--timeout=300s']);
  const keepKubeProxyOff = async (node: string) => {
    const away = { spec: { template: { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: [node] }] }] } } } } } } };
    await kube.run(['-n', 'kube-system', 'patch', 'daemonset/kube-proxy', '-p', JSON.stringify(away)]);
    await rollout();
    await waitUntil(`no kube-proxy pod runs on ${node}`, MINUTES_5, async () => {
      const left = await kube.json<PodList>(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-proxy', '--field-selector', `spec.nodeName=${node}`]);
      return left.items.length === 0 ? true : null;
    });
  };
  const letKubeProxyBack = async () => {
    await kube.run(['-n', 'kube-system', 'patch', 'daemonset/kube-proxy', '--type', 'json', '-p', '[{"op":"remove","path":"/spec/template/spec/affinity"}]']);
    await rollout();
  };
  return {
    description: `kind, ${engine.available ? engine.description : 'no engine'}`,
    kube,
    lab: ['default', 'seed-walkthrough'],
    targetNode: TARGET_NODE,
    detectMs: MINUTES_5,
    repairMs: MINUTES_5,
    graceMs: 60_000,
    coredns: { namespace: 'kube-system', name: 'coredns', replicas: 2 },
    resolvConfReader: { namespace: 'netlab-system', name: 'netlab-operator' },
    onNode: (node, argv) => kube.onNode(node, argv),
    async stopLeader() {
      const lease = await kube.json<{ spec: { holderIdentity?: string } }>(['-n', 'netlab-system', 'get', 'lease', 'netlab-operator']);
      const leader = lease.spec.holderIdentity;
      if (!leader) throw new Error('no operator Pod holds the Lease netlab-system/netlab-operator');
      await kube.run(['-n', 'netlab-system', 'delete', 'pod', leader, '--grace-period=0', '--force']);
      return leader;
    },
    async breakRoute() {
      // Felix re-checks its routes every 90 s (routeRefreshInterval) and would put the route back at a random
      // moment; with the refresh off, the route stays deleted until the repair restarts calico-node.
      await kube.run(['patch', 'felixconfigurations.crd.projectcalico.org', 'default', '--type', 'merge', '-p', '{"spec":{"routeRefreshInterval":"0s"}}']);
      await new Promise((resolve) => setTimeout(resolve, 15_000)); // let Felix apply (and restart for) the new config first
      // The route to the CoreDNS Pod the cross-node request goes to (the scenario labelled it): Calico's /32 to
      // its veth on its own node.
      const pods = await kube.json<PodList>(['-n', 'kube-system', 'get', 'pods', '-l', 'netlab.dev/conformance=traffic']);
      const pod = pods.items.find((p) => p.status.podIP && p.spec.nodeName);
      if (!pod?.status.podIP || !pod.spec.nodeName) throw new Error('no running Pod labelled netlab.dev/conformance=traffic in kube-system to take the route of');
      const node = pod.spec.nodeName;
      await kube.onNode(node, ['ip', 'route', 'del', `${pod.status.podIP}/32`]);
      return {
        finding: { layer: 'routes', kind: 'missing', node, key: `${pod.status.podIP}/32` },
        // that CoreDNS Pod answers part of the operator's DNS questions: unreachable, they go unanswered
        alsoBreaks: ['DNSVerified'],
        async restore() {
          await kube.run(['patch', 'felixconfigurations.crd.projectcalico.org', 'default', '--type', 'merge', '-p', '{"spec":{"routeRefreshInterval":null}}']);
          // A new calico-node resyncs every route it owns on its node (BIRD's routes stay: `persist`, graceful restart).
          await kube.run(['-n', 'kube-system', 'delete', 'pod', '-l', 'k8s-app=calico-node', '--field-selector', `spec.nodeName=${node}`]);
          await kube.run(['-n', 'kube-system', 'rollout', 'status', 'daemonset/calico-node', '--timeout=300s']);
        },
      };
    },
    holdKubeProxy: keepKubeProxyOff,
    releaseKubeProxy: letKubeProxyBack,
    stopKubeProxy: keepKubeProxyOff,
    startKubeProxy: letKubeProxyBack,
  };
}

describeWithEngine(`conformance on a real kind cluster (${engine.available ? engine.description : 'no engine'})`, () => {
  const options = labOptions({ name: CLUSTER, waitTimeout: 900 });
  const deps = createLabDeps(options, process.env.NETLAB_CONFORMANCE_VERBOSE === '1');
  const cluster = kindCluster(new Kube(deps.runner, ['--context', `kind-${CLUSTER}`]));
  const summary: string[][] = [];

  beforeAll(async () => {
    await labUp(options, deps);
    // Check often and without a grace period, so a break shows within seconds rather than a minute.
    await cluster.kube.run(['-n', cluster.lab[0], 'patch', 'networklab', cluster.lab[1], '--type', 'merge', '-p', '{"spec":{"interval":"10s","gracePeriod":"0s"}}']);
  });

  afterAll(async () => {
    printSummary(cluster.description, summary);
    if (process.env.NETLAB_CONFORMANCE_KEEP !== '1') await labDown(options, deps);
  });

  conformanceTests(() => cluster, summary);
});
