// Conformance on a disposable cluster built in a container engine: kind (`netlab lab up`: 3 nodes, Calico in
// IPIP mode, kubeadm's kube-proxy in IPVS mode, ./kind-cluster.ts) or k3s (@testcontainers/k3s: 2 nodes, its
// Flannel, upstream kube-proxy in IPVS mode as a DaemonSet, ./k3s-cluster.ts), netlab installed with its own
// manifests and the operator in its Pods. The scenarios (./scenarios.ts) are the ones every provider runs; the
// two-node VM cluster runs them on every CI run (test/integration/nodes.test.ts).
//
// The provider is chosen by what the machine has (engine.ts, chooseProvider): NETLAB_CONFORMANCE_PROVIDER=kind
// or k3s, else kind where `kind` runs, else k3s. testcontainers finds the container engine, exactly as it
// would for its own containers, and the suite skips with one line when there is none.
//
// Run: npm run test:conformance   (Docker and kubectl >= 1.36, and kind >= 0.33 for kind; 10 to 20 minutes)
// NETLAB_CONFORMANCE_KEEP=1 leaves the cluster up afterwards (kind: kubectl context kind-netlab-conformance;
// k3s: the kubeconfig it prints).
import { spawnSync } from 'node:child_process';
import { chooseProvider, detectContainerEngine, skipLine } from './engine.ts';
import { k3sProvider } from './k3s-cluster.ts';
import { kindProvider } from './kind-cluster.ts';
import { conformanceTests, printSummary } from './scenarios.ts';

const engine = await detectContainerEngine();
if (!engine.available) process.stderr.write(`${skipLine(engine.reason)}\n`);
const describeWithEngine = engine.available ? describe : describe.skip;
const providerName = engine.available ? chooseProvider(process.env.NETLAB_CONFORMANCE_PROVIDER, spawnSync('kind', ['version']).status === 0) : 'none';

describeWithEngine(`conformance on a real ${providerName} cluster (${engine.available ? engine.description : 'no engine'})`, () => {
  const provider = engine.available ? (providerName === 'kind' ? kindProvider : k3sProvider)(engine.description) : null;
  const summary: string[][] = [];

  beforeAll(async () => {
    await provider!.up();
    // Check often and without a grace period, so a break shows within seconds rather than a minute.
    const [namespace, name] = provider!.cluster.lab;
    await provider!.cluster.kube.run(['-n', namespace, 'patch', 'networklab', name, '--type', 'merge', '-p', '{"spec":{"interval":"10s","gracePeriod":"0s"}}']);
  });

  afterAll(async () => {
    if (!provider) return;
    printSummary(provider.cluster.description, summary);
    if (process.env.NETLAB_CONFORMANCE_KEEP !== '1') await provider.down();
  });

  conformanceTests(() => provider!.cluster, summary);
});
