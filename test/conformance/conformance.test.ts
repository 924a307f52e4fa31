// Conformance: netlab against a real cluster. `netlab lab up` (the same orchestration users run) builds a
// disposable kind cluster: 3 nodes, Calico in IPIP mode, kube-proxy in IPVS mode, the operator built from
// this checkout and the sample labs. Then the suite breaks the cluster behind the operator's back, once per
// layer, checks that exactly the right condition leaves True with the right finding, repairs it, checks
// that the lab comes back, and prints a summary table.
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
import { type ConditionType, type FindingView, Kube, type LabView, renderTable, waitUntil } from './cluster.ts';
import { detectContainerEngine, skipLine } from './engine.ts';

const CLUSTER = 'netlab-conformance';
const TARGET_NODE = `${CLUSTER}-worker`;
const SEED_LAB = ['default', 'seed-walkthrough'] as const;
const LAYER_CONDITIONS: ConditionType[] = ['RoutesVerified', 'IPVSVerified', 'DNSVerified', 'ResolvConfVerified'];
const DETECT_MS = 5 * 60_000;
const REPAIR_MS = 5 * 60_000;

const engine = await detectContainerEngine();
if (!engine.available) process.stderr.write(`${skipLine(engine.reason)}\n`);
const describeWithEngine = engine.available ? describe : describe.skip;

interface Break {
  /** the finding that must appear, or null when the layer becomes Unknown (nothing could be compared) */
  finding: Pick<FindingView, 'layer' | 'kind' | 'node' | 'key'> | null;
  reason?: string;
}

interface Scenario {
  name: string;
  condition: ConditionType;
  expected: 'False' | 'Unknown';
  breakIt(kube: Kube): Promise<Break>;
  /** undoes the break; `broken` is what breakIt returned */
  repair(kube: Kube, broken: Break): Promise<void>;
}

interface PodList {
  items: { metadata: { name: string }; spec: { nodeName?: string }; status: { podIP?: string } }[];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'a pod\'s /32 route deleted on its node',
    condition: 'RoutesVerified',
    expected: 'False',
    async breakIt(kube) {
      // Felix re-checks its routes every 90 s (routeRefreshInterval) and would put the route back at a random
      // moment; with the refresh off, the route stays deleted until the repair restarts calico-node.
      await kube.run(['patch', 'felixconfigurations.crd.projectcalico.org', 'default', '--type', 'merge', '-p', '{"spec":{"routeRefreshInterval":"0s"}}']);
      await new Promise((resolve) => setTimeout(resolve, 15_000)); // let Felix apply (and restart for) the new config first
      // A pod of the session-affinity sample: no DNS or API traffic depends on reaching it.
      const pods = await kube.json<PodList>(['-n', 'netlab-samples', 'get', 'pods', '-l', 'app=sticky']);
      const pod = pods.items.find((p) => p.status.podIP && p.spec.nodeName);
      if (!pod?.status.podIP || !pod.spec.nodeName) throw new Error('no running pod of netlab-samples/sticky to take the route of');
      await kube.onNode(pod.spec.nodeName, ['ip', 'route', 'del', `${pod.status.podIP}/32`]);
      return { finding: { layer: 'routes', kind: 'missing', node: pod.spec.nodeName, key: `${pod.status.podIP}/32` } };
    },
    async repair(kube, broken) {
      await kube.run(['patch', 'felixconfigurations.crd.projectcalico.org', 'default', '--type', 'merge', '-p', '{"spec":{"routeRefreshInterval":null}}']);
      // A new calico-node resyncs every route it owns on its node (BIRD's routes stay: `persist`, graceful restart).
      await kube.run(['-n', 'kube-system', 'delete', 'pod', '-l', 'k8s-app=calico-node', '--field-selector', `spec.nodeName=${broken.finding?.node}`]);
      await kube.run(['-n', 'kube-system', 'rollout', 'status', 'daemonset/calico-node', '--timeout=300s']);
    },
  },
  {
    name: 'an IPVS real server of kube-dns deleted on a node',
    condition: 'IPVSVerified',
    expected: 'False',
    async breakIt(kube) {
      // kube-proxy re-syncs IPVS every 30 s and would restore the real server: keep it off the target node.
      const away = { spec: { template: { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: [TARGET_NODE] }] }] } } } } } } };
      await kube.run(['-n', 'kube-system', 'patch', 'daemonset/kube-proxy', '-p', JSON.stringify(away)]);
      await kube.run(['-n', 'kube-system', 'rollout', 'status', 'daemonset/kube-proxy', '--timeout=300s']);
      await waitUntil(`no kube-proxy pod runs on ${TARGET_NODE}`, REPAIR_MS, async () => {
        const left = await kube.json<PodList>(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-proxy', '--field-selector', `spec.nodeName=${TARGET_NODE}`]);
        return left.items.length === 0 ? true : null;
      });
      const slices = await kube.json<{ items: { endpoints?: { addresses: string[] }[] }[] }>(['-n', 'kube-system', 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=kube-dns']);
      const address = slices.items.flatMap((s) => s.endpoints ?? []).flatMap((e) => e.addresses)[0];
      if (!address) throw new Error('kube-dns has no endpoint to take out of IPVS');
      await kube.onNode(TARGET_NODE, ['ipvsadm', '-d', '-t', '10.96.0.10:53', '-r', `${address}:53`]);
      return { finding: { layer: 'ipvs', kind: 'missing', node: TARGET_NODE, key: `TCP 10.96.0.10:53 -> ${address}:53` } };
    },
    async repair(kube) {
      await kube.run(['-n', 'kube-system', 'patch', 'daemonset/kube-proxy', '--type', 'json', '-p', '[{"op":"remove","path":"/spec/template/spec/affinity"}]']);
      await kube.run(['-n', 'kube-system', 'rollout', 'status', 'daemonset/kube-proxy', '--timeout=300s']);
    },
  },
  {
    // With no CoreDNS pod the kube-dns ClusterIP answers nothing: a DNS question that gets no answer
    // cannot be compared, so the project reports the layer Unknown (reason ProbeFailed, naming the server),
    // never False (src/check: a failed probe makes its layer unknown). IPVS stays True: kube-proxy
    // removes the real servers exactly as the model, fed by the same EndpointSlices, expects.
    name: 'CoreDNS scaled to zero replicas',
    condition: 'DNSVerified',
    expected: 'Unknown',
    async breakIt(kube) {
      await kube.run(['-n', 'kube-system', 'scale', 'deployment/coredns', '--replicas=0']);
      return { finding: null, reason: 'ProbeFailed' };
    },
    async repair(kube) {
      await kube.run(['-n', 'kube-system', 'scale', 'deployment/coredns', '--replicas=2']);
      await kube.run(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=300s']);
    },
  },
];

function hasFinding(lab: LabView, want: NonNullable<Break['finding']>): boolean {
  return lab.findings.some((f) => f.layer === want.layer && f.kind === want.kind && f.node === want.node && f.key === want.key);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(0)}s`;
}

describeWithEngine(`conformance on a real kind cluster (${engine.available ? engine.description : 'no engine'})`, () => {
  const options = labOptions({ name: CLUSTER, waitTimeout: 900 });
  const deps = createLabDeps(options, process.env.NETLAB_CONFORMANCE_VERBOSE === '1');
  const kube = new Kube(deps.runner, `kind-${CLUSTER}`);
  const summary: string[][] = [];

  beforeAll(async () => {
    await labUp(options, deps);
    // Check often and without a grace period, so a break shows within seconds rather than a minute.
    await kube.run(['-n', SEED_LAB[0], 'patch', 'networklab', SEED_LAB[1], '--type', 'merge', '-p', '{"spec":{"interval":"10s","gracePeriod":"0s"}}']);
  });

  afterAll(async () => {
    if (summary.length) process.stdout.write(`\nnetlab conformance summary\n${renderTable(['scenario', 'condition', 'expected', 'observed', 'finding / reason', 'detected in', 'back to Ready in'], summary)}\n`);
    if (process.env.NETLAB_CONFORMANCE_KEEP !== '1') await labDown(options, deps);
  });

  test('every sample lab reaches Ready=True', async () => {
    const labs = await kube.json<{ items: { metadata: { namespace: string; name: string } }[] }>(['get', 'networklabs', '-A']);
    expect(labs.items.length).toBeGreaterThanOrEqual(3);
    for (const { metadata } of labs.items) {
      const { ms } = await waitUntil(`${metadata.namespace}/${metadata.name} is Ready=True`, DETECT_MS, async () => {
        const lab = await kube.lab(metadata.namespace, metadata.name);
        return lab.conditions.Ready?.status === 'True' ? lab : null;
      });
      summary.push([`sample ${metadata.namespace}/${metadata.name}`, 'Ready', 'True', 'True', '', seconds(ms), '']);
    }
  });

  for (const scenario of SCENARIOS) {
    test(`${scenario.name}: ${scenario.condition} becomes ${scenario.expected}, the other layers stay True, and the repair brings Ready back`, async () => {
      const broken = await scenario.breakIt(kube);
      const detected = await waitUntil(`${scenario.condition} is ${scenario.expected}${broken.finding ? ` with finding ${broken.finding.key}` : ''}`, DETECT_MS, async () => {
        const lab = await kube.lab(...SEED_LAB);
        const condition = lab.conditions[scenario.condition];
        if (condition?.status !== scenario.expected) return null;
        if (broken.finding && !hasFinding(lab, broken.finding)) return null;
        return lab;
      });
      const lab = detected.value;
      if (broken.reason) expect(lab.conditions[scenario.condition]?.reason).toBe(broken.reason);
      for (const other of LAYER_CONDITIONS.filter((c) => c !== scenario.condition)) {
        expect({ condition: other, status: lab.conditions[other]?.status }).toEqual({ condition: other, status: 'True' });
      }
      expect(lab.conditions.Ready?.status).not.toBe('True');

      await scenario.repair(kube, broken);
      const repaired = await waitUntil('the seed lab is Ready=True again', REPAIR_MS, async () => {
        const now = await kube.lab(...SEED_LAB);
        return now.conditions.Ready?.status === 'True' ? now : null;
      });
      summary.push([
        scenario.name,
        scenario.condition,
        scenario.expected,
        lab.conditions[scenario.condition]?.status ?? '-',
        broken.finding ? `${broken.finding.kind} ${broken.finding.key} on ${broken.finding.node}` : (lab.conditions[scenario.condition]?.reason ?? ''),
        seconds(detected.ms),
        seconds(repaired.ms),
      ]);
    });
  }
});
