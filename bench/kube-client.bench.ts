// Benchmark of netlab's API client against the harness's real kube-apiserver (TLS on loopback): one client
// that keeps its connections alive between requests, against a new connection per request (what every
// request did before src/kube/client.ts kept one connection pool per cluster and user). The requests are
// the leader's: GET of a Lease, one after another. Rounds alternate, so the machine's load hits both alike.
// Run: npm run bench:kube-client   (needs `npm run harness:build`; goal: a new connection per request takes at least 1.5x as long)
import { performance } from 'node:perf_hooks';
import { kubeClient, type KubeClient } from '../src/kube/client.ts';
import { adminKubeConfig, startControlPlane } from '../harness/control-plane/controlplane.ts';

const ROUNDS = 5;
const REQUESTS = 100;
const GOAL_RATIO = 1.5;
const PATH = '/api/v1/namespaces/default';

const cp = await startControlPlane({ log: () => {} });
try {
  const kc = adminKubeConfig(cp);
  const reused = kubeClient(kc);
  const variants: { name: string; client: () => KubeClient; ms: number[] }[] = [
    { name: 'one client, connections kept alive', client: () => reused, ms: [] },
    { name: 'a new connection per request', client: () => kubeClient(kc), ms: [] },
  ];
  await reused.request('GET', PATH); // the apiserver's first answer is slow for both
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of variants) {
      const began = performance.now();
      for (let i = 0; i < REQUESTS; i++) await variant.client().request('GET', PATH);
      variant.ms.push((performance.now() - began) / REQUESTS);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  for (const v of variants) console.log(`${v.name.padEnd(36)} ${median(v.ms).toFixed(2)} ms per request (median of ${ROUNDS} rounds of ${REQUESTS})`);
  const ratio = median(variants[1]!.ms) / median(variants[0]!.ms);
  console.log(`a new connection per request takes ${ratio.toFixed(1)}x as long (goal: at least ${GOAL_RATIO}x)`);
  if (ratio < GOAL_RATIO) process.exitCode = 1;
} finally {
  await cp.stop();
}
