// The conformance provider for kind: `netlab lab up` (the same orchestration users run) builds a disposable
// kind cluster: 3 nodes, Calico in IPIP mode, kube-proxy in IPVS mode as kubeadm's DaemonSet, the operator
// built from this checkout and in its Pods, the sample labs. It needs Docker, kind >= 0.33 and kubectl >= 1.36.
import { createLabDeps, labOptions } from '../../src/lab/environment.ts';
import { labDown, labUp } from '../../src/lab/lab.ts';
import { Kube } from './cluster.ts';
import { podProviderPart } from './pod-controls.ts';
import type { ClusterProvider, ConformanceCluster } from './scenarios.ts';

const CLUSTER = 'netlab-conformance';
const TARGET_NODE = `${CLUSTER}-worker`;

interface PodList {
  items: { metadata: { name: string }; spec: { nodeName?: string }; status: { podIP?: string } }[];
}

function kindCluster(kube: Kube, engineDescription: string): ConformanceCluster {
  return {
    ...podProviderPart(kube),
    description: `kind, ${engineDescription}`,
    targetNode: TARGET_NODE,
    coredns: { namespace: 'kube-system', name: 'coredns', replicas: 2 },
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
  };
}

export function kindProvider(engineDescription: string): ClusterProvider {
  const options = labOptions({ name: CLUSTER, waitTimeout: 900 });
  const deps = createLabDeps(options, process.env.NETLAB_CONFORMANCE_VERBOSE === '1');
  return {
    cluster: kindCluster(new Kube(deps.runner, ['--context', `kind-${CLUSTER}`]), engineDescription),
    up: () => labUp(options, deps),
    down: () => labDown(options, deps),
  };
}
