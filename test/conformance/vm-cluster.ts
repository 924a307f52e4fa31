// The conformance provider for the harness's two-node VM cluster (harness/nodes): real kubelets,
// containerd, Flannel VXLAN and kube-proxy in IPVS mode, netlab installed with `kubectl apply -k`, the
// operator as two instances on the host (harness/nodes/netlab.ts says why). Faults are made through each
// VM's own exec channel, not `kubectl exec`: the operator's execs into the probe Pods are what is under test,
// and a TCG node has little time for more. kube-proxy runs as a process in each VM (not a DaemonSet), so
// it is held with SIGSTOP and stopped with a kill.
import path from 'node:path';
import { binDir, PROJECT_ROOT } from '../../harness/control-plane/binaries.ts';
import type { NodeCluster } from '../../harness/nodes/cluster.ts';
import { RESOLV_READER } from '../../harness/nodes/netlab.ts';
import type { HostOperators } from '../../harness/nodes/netlab.ts';
import { signalKubeProxy, startKubeProxy, stopKubeProxy } from '../../harness/vm/kube-proxy.ts';
import type { NodeVm } from '../../harness/vm/vm.ts';
import { createProcessRunner } from '../../src/lab/runner.ts';
import { outputOf } from '../../src/observe/exec.ts';
import { Kube } from './cluster.ts';
import { deleteFlannelRoute } from './flannel-route.ts';
import type { ConformanceCluster } from './scenarios.ts';

/** TCG nodes on a 2-core machine: a Pod takes tens of seconds to start, an exec seconds to a minute */
const DETECT_MS = 6 * 60_000;
const REPAIR_MS = 10 * 60_000;

export function vmConformanceCluster(cluster: NodeCluster, operators: HostOperators, options: Pick<ConformanceCluster, 'trafficClient'> = {}): ConformanceCluster {
  const kube = new Kube(createProcessRunner(PROJECT_ROOT), ['--kubeconfig', cluster.controlPlane.kubeconfig], path.join(binDir(), 'kubectl'));
  const vm = (node: string): NodeVm => {
    const found = cluster.vms.find((v) => v.nodeName === node);
    if (!found) throw new Error(`no VM runs node ${node}`);
    return found;
  };
  const onNode = (node: string, argv: string[]) => outputOf(vm(node), node, argv, { timeoutMs: 60_000 });
  const [first, second] = cluster.vms;
  return {
    description: `the harness's VM cluster: ${cluster.vms.map((v) => v.nodeName).join(', ')}, Flannel ${cluster.backend}, kube-proxy IPVS, ${operators.instances.length} operators on the host`,
    kube,
    lab: ['default', 'seed-walkthrough'],
    targetNode: second!.nodeName,
    detectMs: DETECT_MS,
    repairMs: REPAIR_MS,
    // A Service created just after a check began is in the next one's snapshot only, read up to two checks later.
    // Checks of these emulated nodes took 2 to 4 minutes on 2026-11-30 (180 s was too short in CI then); since the
    // nodes' resync storms stopped, the scenarios see a break within 81 s (three runs on 2026-12-01 evening), so
    // 300 s outlasts two checks of 2.5 min.
    graceMs: 300_000,
    ...options,
    coredns: { namespace: 'kube-system', name: 'coredns', replicas: cluster.vms.length },
    resolvConfReader: RESOLV_READER.metadata,
    onNode,
    stopLeader: () => operators.stopLeader(),
    // the second node's route to the first node's Pod subnet: through flannel.1 (VXLAN) or the link (host-gw).
    // The host's DNS questions enter at node-1 and kube-proxy sends half of them to the CoreDNS Pod on node-2,
    // masqueraded to node-1's flannel.1 address: their answers need exactly this route (seen on this cluster).
    breakRoute: () => deleteFlannelRoute(kube, onNode, second!.nodeName, first!.nodeName),
    holdKubeProxy: (node) => signalKubeProxy(vm(node), 'STOP'),
    releaseKubeProxy: (node) => signalKubeProxy(vm(node), 'CONT'),
    stopKubeProxy: (node) => stopKubeProxy(vm(node)),
    startKubeProxy: async (node) => void (await startKubeProxy(vm(node), cluster.controlPlane, { scheduler: '' }, REPAIR_MS)),
  };
}
