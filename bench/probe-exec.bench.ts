// Benchmark of what one check asks of the nodes (`ip -o addr`, `route -n`, `ipvsadm -Ln` on each node), exec'd in
// the netlab-probe Pods through the apiserver and the kubelets of the harness's two-node VM cluster: one exec
// per command, as the operator did before src/observe/batched-exec.ts, against one exec per node for all three.
// Both go through the operator's per-node queue with one exec at a time per node, the setting the harness
// gives the operator on these emulated nodes. Rounds alternate, so the machine's load hits both alike.
// Run: npm run bench:probe-exec   (needs `npm run harness:build` and `npm run vm:build`; starts and stops the
// cluster, about 10 min; goal: one exec per command takes at least 1.5x as long)
import { performance } from 'node:perf_hooks';
import { CoreV1Api } from '@kubernetes/client-node';
import { batchedNodeExec } from '../src/observe/batched-exec.ts';
import { outputOf, type NodeExec } from '../src/observe/exec.ts';
import { queuedNodeExec } from '../src/observe/node-exec-queue.ts';
import { PROBE_LABEL, probeExec, type ProbePod } from '../src/observe/probe-exec.ts';
import { IP_ADDR, IPVSADM_LN, ROUTE_N } from '../src/operator/observe.ts';
import { CLUSTER_NODES, startNodeCluster } from '../harness/nodes/cluster.ts';

const ROUNDS = 5;
const GOAL_RATIO = 1.5;
const COMMANDS = [IP_ADDR, ROUTE_N, IPVSADM_LN];
const EXEC_TIMEOUT_MS = 240_000;

const cluster = await startNodeCluster({ netlab: true, log: (line) => process.stderr.write(`${line}\n`) });
try {
  const kc = cluster.kubeConfig();
  const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'netlab-system', labelSelector: `${PROBE_LABEL.key}=${PROBE_LABEL.value}` });
  const probes = new Map<string, ProbePod>(pods.items.map((p) => [p.spec!.nodeName!, { namespace: 'netlab-system', name: p.metadata!.name! }]));
  const probe = probeExec(kc, (node) => probes.get(node) ?? null, { defaultTimeoutMs: EXEC_TIMEOUT_MS });
  const nodes = CLUSTER_NODES.map((n) => n.name);
  const variants: { name: string; exec: () => NodeExec; ms: number[] }[] = [
    { name: 'one exec per command', exec: () => queuedNodeExec(probe, 1), ms: [] },
    { name: 'one exec per node (batched)', exec: () => batchedNodeExec(queuedNodeExec(probe, 1)), ms: [] },
  ];
  // what a check does: every node at once, its commands asked together; the outputs must be the tables
  const check = async (exec: NodeExec) => {
    const outputs = await Promise.all(nodes.flatMap((node) => COMMANDS.map((argv) => outputOf(exec, node, argv, { timeoutMs: EXEC_TIMEOUT_MS }))));
    if (!outputs.some((o) => o.startsWith('Kernel IP routing table')) || !outputs.some((o) => o.startsWith('IP Virtual Server'))) throw new Error(`unexpected probe output:\n${outputs.join('\n')}`);
  };
  await check(variants[1]!.exec()); // the first exec into a probe Pod is slower for both
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of variants) {
      const began = performance.now();
      await check(variant.exec());
      const ms = performance.now() - began;
      variant.ms.push(ms);
      process.stderr.write(`round ${round + 1}: ${variant.name}: ${(ms / 1000).toFixed(1)} s\n`);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  for (const v of variants) console.log(`${v.name.padEnd(30)} ${(median(v.ms) / 1000).toFixed(1)} s per check of ${nodes.length} nodes (median of ${ROUNDS}; all: ${v.ms.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s)`);
  const ratio = median(variants[0]!.ms) / median(variants[1]!.ms);
  console.log(`one exec per command takes ${ratio.toFixed(1)}x as long (goal: at least ${GOAL_RATIO}x)`);
  if (ratio < GOAL_RATIO) process.exitCode = 1;
} finally {
  await cluster.stop();
}
