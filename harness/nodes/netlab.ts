// netlab installed on the node cluster the way a user installs it: `kubectl apply -k` of the project's
// manifests, unchanged. The manifests name the probe image `netlab-probe:dev` with `imagePullPolicy:
// IfNotPresent`, the name the harness imports into every node's containerd, so no overlay is needed: what
// runs is exactly what `kubectl apply -k manifests/` gives a user.
//
// Except where the operator runs. Under TCG (no KVM here) Node.js in a node VM's Pod is slow to start: from
// the sources it never served /healthz within its 5-minute startup probe (2026-11-30, 204 MB image imported
// into busy nodes in 11 min); the bundled image (scripts/bundle-operator.ts) logged "starting" about 2 min
// after its container started, and its /healthz answers then took over the manifests' 5 s. So the Deployment
// is scaled to zero after the apply, and startOperatorPods (`--operator pods`) scales it up on request, with
// slower probes (TCG_PROBES) and the image imported at boot (NodeClusterOptions.bootImages).
// By default `harness up --nodes --netlab` runs the operator on the host instead (startHostOperators), two instances
// under the same Lease, with the same path to the nodes (exec in the probe Pods through the apiserver and
// the kubelets). On these TCG nodes an exec takes seconds to minutes (each `runc exec` starts two Go
// processes on a busy emulated CPU): the host operators run one exec at a time per node (each holds all of a
// check's commands for the node, src/observe/batched-exec.ts) and let each take two minutes, or the execs pile
// up, time out and fail in runc's setns (seen before the operator queued its execs per node,
// src/observe/node-exec-queue.ts).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createDnsProber } from '../../src/observe/dns.ts';
import { PROBE_CONTAINER, probeExec } from '../../src/observe/probe-exec.ts';
import { silentLogger, type Logger } from '../../src/operator/log.ts';
import { runOperator } from '../../src/operator/operator.ts';
import type { RunningOperator } from '../../src/operator/operator.ts';
import { binDir, PROJECT_ROOT } from '../control-plane/binaries.ts';
import { serviceAccountKubeconfig, type ControlPlaneInfo } from '../control-plane/controlplane.ts';
import type { NodeCluster } from './cluster.ts';
import type { NodeVm } from '../vm/vm.ts';

const run = promisify(execFile);

export interface NetlabInstall {
  /** milliseconds per step */
  timings: Record<string, number>;
}

/**
 * Applies the CRD, waits until it is Established, then applies manifests/ (operator, RBAC, probe
 * DaemonSet, samples), scales the operator's Pods to zero (see above) and waits until every probe Pod and
 * the resolv.conf reader are ready.
 */
/** Runs kubectl against `kubeconfig` from the project root, logging its output and timing it into `timings[name]`. */
function kubectlSteps(kubeconfig: string, log: (line: string) => void, timings: Record<string, number>) {
  const kubectl = path.join(binDir(), 'kubectl');
  return async (name: string, args: string[], input?: string): Promise<string> => {
    const began = performance.now();
    try {
      const child = run(kubectl, ['--kubeconfig', kubeconfig, ...args], { cwd: PROJECT_ROOT, maxBuffer: 16 << 20 });
      if (input !== undefined) child.child.stdin?.end(input);
      const { stdout } = await child;
      for (const line of stdout.trim().split('\n')) if (line) log(`netlab harness: ${line}`);
      timings[name] = Math.round(performance.now() - began);
      return stdout;
    } catch (error) {
      const { stderr, message } = error as { stderr?: string; message: string };
      throw new Error(`${name}: kubectl ${args.join(' ')} failed: ${stderr?.trim() || message}`);
    }
  };
}

export async function installNetlab(kubeconfig: string, log: (line: string) => void, timeoutS = 900): Promise<NetlabInstall> {
  const timings: Record<string, number> = {};
  const step = kubectlSteps(kubeconfig, log, timings);
  // The CRD first: in one apply, kubectl would reject the sample labs before the CRD is served.
  await step('crd', ['apply', '-k', 'crds']);
  await step('crd established', ['wait', '--for=condition=Established', 'crd/networklabs.netlab.dev', '--timeout=60s']);
  await step('apply', ['apply', '-k', 'manifests']);
  await step('operator Pods scaled to zero (TCG)', ['-n', 'netlab-system', 'scale', 'deployment/netlab-operator', '--replicas=0']);
  // the host operators read a ClusterFirst Pod's resolv.conf, as the operator reads its own in its Pod
  await step('resolv.conf reader', ['apply', '-f', '-'], JSON.stringify(RESOLV_READER));
  await step('probes ready', ['-n', 'netlab-system', 'rollout', 'status', 'daemonset/netlab-probe', `--timeout=${timeoutS}s`]);
  await step('resolv.conf reader ready', ['-n', 'netlab-system', 'rollout', 'status', `deployment/${RESOLV_READER.metadata.name}`, `--timeout=${timeoutS}s`]);
  log(`netlab harness: netlab installed with kubectl apply -k manifests/ (${Object.entries(timings).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ')})`);
  return { timings };
}

export interface OperatorPods {
  /** the Pod holding the Lease */
  leader: string;
  /** milliseconds per step since the call: image imported (absent when it was imported at boot), Lease taken */
  timings: Record<string, number>;
}

/**
 * The operator's probes on these nodes: 30 s for each answer, and no liveness probe. With the manifests' 5 s
 * (2026-11-30), a Pod logged "starting" 2 min after its container started, and then its /healthz answers, from
 * a busy event loop on a busy emulated CPU, took over 5 s three times in a row: the kubelet killed it 35 s
 * after it started. With 30 s and six chances every 30 s, liveness still killed both Pods 7 and 9 min in, so
 * on these nodes a slow answer says nothing about a stuck operator.
 */
const TCG_PROBES = [
  ...(['startupProbe', 'readinessProbe'] as const).map((probe) => ({ op: 'replace', path: `/spec/template/spec/containers/0/${probe}/timeoutSeconds`, value: 30 })),
  { op: 'replace', path: '/spec/template/spec/containers/0/readinessProbe/periodSeconds', value: 15 },
  { op: 'remove', path: '/spec/template/spec/containers/0/livenessProbe' },
  // The manifests' 50m request is a CPU weight of 2 among the Pods (its Pod cgroup's cpu.weight), and these nodes'
  // one emulated CPU is always busy: at 23:08 on 2026-11-30 a Pod's main thread was runnable all the time but ran
  // about a tenth of it, its sockets unread for minutes (kubelet probes, answers from 10.96.0.1 in CLOSE-WAIT).
  // What kubepods as a whole gets against the node's daemons: daemonsIntoSystemSlice.
  { op: 'replace', path: '/spec/template/spec/containers/0/resources/requests/cpu', value: '500m' },
];

/**
 * Leader election that outlasts a stalled event loop: a Pod's Lease request took over 10 s through 10.96.0.1 on
 * these nodes, so the default 10 s renew deadline made the leader step down again and again.
 */
const TCG_LEADER_ELECTION = ['NETLAB_LEADER_ELECT_LEASE_DURATION=60s', 'NETLAB_LEADER_ELECT_RENEW_DEADLINE=45s', 'NETLAB_LEADER_ELECT_RETRY_PERIOD=5s'];

/**
 * Moves each node's own daemons (the agent, containerd and its shims, the kubelet, flanneld, kube-proxy, the DNS
 * relay) from the root cgroup into `system.slice`, where systemd runs them on a real node. In the root cgroup each
 * of their threads weighs as much as the whole kubepods tree (cpu.weight 39 for one CPU), and these nodes' CPU is
 * always busy: on 2026-12-02 an operator Pod's container waited for the CPU 76% of the time (its cpu.pressure) and
 * got 9% of its node, so its requests through 10.96.0.1 and its DNS questions timed out; with the daemons in one
 * slice, 46-50%. Only for the operator's Pods: the CI suite's timings were all measured with the root cgroup.
 */
async function daemonsIntoSystemSlice(vm: NodeVm): Promise<void> {
  const script =
    'cd /sys/fs/cgroup && mkdir -p system.slice && for p in $(cat cgroup.procs); do ' +
    'case $(cat /proc/$p/comm 2>/dev/null) in netlab-agent|containerd|containerd-shim|kubelet|flanneld|kube-proxy|socat) ' +
    // a process may exit between the listing and the move
    'echo $p > system.slice/cgroup.procs 2>/dev/null || true;; esac; done';
  const result = await vm.run(['sh', '-c', script], { timeoutMs: 60_000 });
  if (result.exitCode !== 0) throw new Error(`moving the daemons of ${vm.nodeName} into system.slice failed (exit ${result.exitCode}): ${result.stderr}`);
}

/**
 * The operator in its own Pods, as the manifests deploy it: its image imported into every node, the Deployment
 * scaled back to its two replicas with the tuning these TCG nodes need (one exec per node at a time, each
 * given two minutes: `NETLAB_EXECS_PER_NODE`, `NETLAB_EXEC_TIMEOUT`; 30 s per DNS answer, `NETLAB_DNS_TIMEOUT`,
 * as the host operators have; slower probes and a CPU request that gets them a fair share, TCG_PROBES; longer
 * leader election timings, TCG_LEADER_ELECTION; the node daemons in their own cgroup, daemonsIntoSystemSlice);
 * resolves once a Pod holds the Lease.
 * Stop any host operators first, or the Pods wait as standbys.
 */
export async function startOperatorPods(cluster: NodeCluster, log: (line: string) => void, timeoutS = 900): Promise<OperatorPods> {
  const timings: Record<string, number> = {};
  const step = kubectlSteps(cluster.controlPlane.kubeconfig, log, timings);
  const began = performance.now();
  // nothing to do when the nodes imported it at boot (NodeClusterOptions.bootImages)
  if ((await cluster.importImages(['operator'])).length > 0) timings['image imported'] = Math.round(performance.now() - began);
  await Promise.all(cluster.vms.map(daemonsIntoSystemSlice));
  timings['daemons in system.slice'] = Math.round(performance.now() - began);
  await step('tuned for TCG', ['-n', 'netlab-system', 'set', 'env', 'deployment/netlab-operator', 'NETLAB_EXECS_PER_NODE=1', 'NETLAB_EXEC_TIMEOUT=2m', 'NETLAB_DNS_TIMEOUT=30s', ...TCG_LEADER_ELECTION]);
  await step('probes given time (TCG)', ['-n', 'netlab-system', 'patch', 'deployment/netlab-operator', '--type', 'json', '-p', JSON.stringify(TCG_PROBES)]);
  await step('scaled to 2', ['-n', 'netlab-system', 'scale', 'deployment/netlab-operator', '--replicas=2']);
  const quiet = kubectlSteps(cluster.controlPlane.kubeconfig, () => {}, {});
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    // no Lease yet until the first Pod creates it (a fresh cluster: no host operator ran before)
    const holder = (await quiet('lease', ['-n', 'netlab-system', 'get', 'lease', 'netlab-operator', '--ignore-not-found', '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
    if (holder.startsWith('netlab-operator-')) {
      timings['Lease taken'] = Math.round(performance.now() - began);
      log(`netlab harness: operator Pod ${holder} holds the Lease (${Object.entries(timings).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ')})`);
      return { leader: holder, timings };
    }
    if (Date.now() > deadline) {
      const pods = await quiet('pods', ['-n', 'netlab-system', 'get', 'pods', '-o', 'wide']);
      throw new Error(`no operator Pod took the Lease netlab-system/netlab-operator within ${timeoutS} s (holder: ${holder || 'none'}):\n${pods}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

/** A ClusterFirst Pod in the operator's namespace whose resolv.conf the host operators read as their own. */
export const RESOLV_READER = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'netlab-resolv-reader', namespace: 'netlab-system' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'netlab-resolv-reader' } },
    template: {
      metadata: { labels: { app: 'netlab-resolv-reader' } },
      spec: {
        dnsPolicy: 'ClusterFirst',
        terminationGracePeriodSeconds: 1,
        containers: [{ name: PROBE_CONTAINER, image: 'netlab-probe:dev', imagePullPolicy: 'IfNotPresent', command: ['sleep', 'infinity'] }],
      },
    },
  },
} as const;

export interface HostOperators {
  instances: RunningOperator[];
  /** stops the instance holding the Lease (as a killed Pod would stop checking); returns its identity */
  stopLeader(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * `count` operator instances in this process, under the manifests' Lease (netlab-system/netlab-operator),
 * each with the `netlab-operator` ServiceAccount's token (manifests/operator/rbac.yaml), not an admin's
 * certificate: nodes through the probe Pods, DNS over TCP through `dns` (the host's way to 10.96.0.10), resolv.conf from the
 * reader Pod. Lease timings are shortened so a takeover shows within seconds.
 */
export async function startHostOperators(cp: ControlPlaneInfo, dns: { host: string; port: number }, options: { count?: number; log?: Logger } = {}): Promise<HostOperators> {
  const count = options.count ?? 2;
  const kc = new KubeConfig();
  kc.loadFromFile(await serviceAccountKubeconfig(cp, 'netlab-system', 'netlab-operator'));
  const core = kc.makeApiClient(CoreV1Api);
  const reader = async () => {
    const pods = (await core.listNamespacedPod({ namespace: 'netlab-system', labelSelector: `app=${RESOLV_READER.metadata.name}` })).items;
    const ready = pods.find((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (!ready) throw new Error(`no ready ${RESOLV_READER.metadata.name} Pod in netlab-system to read resolv.conf in`);
    return { namespace: 'netlab-system', name: ready.metadata!.name! };
  };
  const resolvConfs = new Map<string, string>(); // reader Pod name -> its resolv.conf
  const instances: RunningOperator[] = [];
  for (let i = 0; i < count; i++) {
    instances.push(
      await runOperator({
        kubeConfig: kc,
        namespace: 'netlab-system',
        identity: `host-operator-${i + 1}`,
        leaderElection: { leaseName: 'netlab-operator', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
        metricsPort: null,
        observers: {
          // each question is a TCP connection that socat on node-1 forks for: a few per second, each given 30 s
          dns: { prober: createDnsProber({ timeoutMs: 30_000, maxQueriesPerSecond: 4 }), servers: () => [{ ...dns, transport: 'tcp' }] },
          resolvConf: {
            namespace: 'netlab-system',
            dnsPolicy: 'ClusterFirst',
            async read() {
              const pod = await reader();
              // The kubelet writes a Pod's resolv.conf once, when it creates the sandbox: read each Pod's once
              // (an exec into a busy TCG node can take over a minute), again only when the Pod is replaced.
              const known = resolvConfs.get(pod.name);
              if (known !== undefined) return known;
              const result = await probeExec(kc, () => pod, { defaultTimeoutMs: 120_000 }).exec(pod.name, ['cat', '/etc/resolv.conf']);
              if (result.exitCode !== 0) throw new Error(`cat /etc/resolv.conf in ${pod.namespace}/${pod.name} exited ${result.exitCode}: ${result.stderr}`);
              resolvConfs.set(pod.name, result.stdout);
              return result.stdout;
            },
          },
        },
        // An exec into a TCG node takes seconds, over a minute when the node is busy: one at a time per node,
        // each allowed two minutes, and a node not yet showing a change looked at every 5 s, not every 1 s.
        observeOptions: { execTimeoutMs: 120_000 },
        execsPerNode: 1,
        convergencePollMs: 5_000,
        log: options.log ?? silentLogger,
      }),
    );
  }
  await Promise.all(instances.map((o) => o.ready(180_000)));
  const running = new Set(instances);
  return {
    instances,
    async stopLeader() {
      const leader = [...running].find((o) => o.isLeader());
      if (!leader) throw new Error('no host operator holds the Lease');
      running.delete(leader);
      await leader.stop();
      return leader.identity;
    },
    async stop() {
      await Promise.all([...running].map((o) => o.stop()));
      running.clear();
    },
  };
}
