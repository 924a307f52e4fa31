// The Services and pods the kube-proxy suites (IPVS, nftables, iptables mode) create: two pods on the VM's
// node and two on a second Node without a VM (remote endpoints), and one Service per case a mode renders
// differently.
import type { V1Service } from '@kubernetes/client-node';
import { type Clients, createNamespace, createNode, createPod, type PodFixture } from '../../harness/control-plane/cluster.ts';
import { registerVmNode } from '../../harness/vm/kube-proxy.ts';
import type { NodeVm } from '../../harness/vm/vm.ts';

export interface ScenarioNodes {
  namespace: string;
  /** the Node the VM plays (InternalIP 10.0.2.15) */
  node: string;
  /** a second Node without a VM */
  other: { name: string; internalIP: string; podCIDRs: string[] };
}

export function scenarioPods({ namespace, node, other }: ScenarioNodes): PodFixture[] {
  const http = [{ name: 'http', containerPort: 8080 }];
  return [
    { namespace, name: 'web-1', nodeName: node, hostIP: '10.0.2.15', podIPs: ['10.244.0.11'], labels: { app: 'web' }, ports: http },
    { namespace, name: 'web-2', nodeName: node, hostIP: '10.0.2.15', podIPs: ['10.244.0.12'], labels: { app: 'web' }, ports: http },
    { namespace, name: 'web-3', nodeName: other.name, hostIP: other.internalIP, podIPs: ['10.244.1.13'], labels: { app: 'web' }, ports: http },
    { namespace, name: 'api-1', nodeName: other.name, hostIP: other.internalIP, podIPs: ['10.244.1.21'], labels: { app: 'api' }, ports: http },
  ];
}

/** `emptyType`: the endpoint-less Service's type (NodePort also shows the NodePort's reject). */
export function scenarioServices(emptyType: 'ClusterIP' | 'NodePort' = 'ClusterIP'): V1Service[] {
  const web = { app: 'web' };
  const httpPort = { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' };
  return [
    { metadata: { name: 'web' }, spec: { selector: web, ports: [httpPort, { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }] } },
    { metadata: { name: 'web-np' }, spec: { type: 'NodePort', selector: web, ports: [httpPort] } },
    { metadata: { name: 'sticky' }, spec: { selector: web, ports: [httpPort], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } } },
    { metadata: { name: 'headless' }, spec: { clusterIP: 'None', selector: web, ports: [httpPort] } },
    { metadata: { name: 'empty' }, spec: { type: emptyType, selector: { app: 'nothing' }, ports: [httpPort] } },
    // externalTrafficPolicy Local: the NodePort keeps local endpoints only ...
    { metadata: { name: 'local-np' }, spec: { type: 'NodePort', externalTrafficPolicy: 'Local', selector: web, ports: [httpPort] } },
    // ... and with no local endpoint at all: IPVS falls back to the cluster endpoints (kubernetes PR 97081),
    // nftables and iptables mode drop outside traffic and short-circuit only pods and the node
    { metadata: { name: 'remote-np' }, spec: { type: 'NodePort', externalTrafficPolicy: 'Local', selector: { app: 'api' }, ports: [httpPort] } },
  ];
}

/** Registers the VM's Node and the other one, then creates the namespace, pods and Services; their ClusterIPs and first nodePorts by name. */
export async function createScenario(c: Clients, vm: NodeVm, nodes: ScenarioNodes, services: V1Service[]): Promise<{ clusterIPs: Map<string, string>; nodePorts: Map<string, number> }> {
  await registerVmNode(c, vm, '10.244.0.0/24');
  await createNode(c, nodes.other);
  await createNamespace(c, nodes.namespace);
  for (const pod of scenarioPods(nodes)) await createPod(c, pod);
  const clusterIPs = new Map<string, string>();
  const nodePorts = new Map<string, number>();
  for (const body of services) {
    const created = await c.core.createNamespacedService({ namespace: nodes.namespace, body });
    clusterIPs.set(created.metadata!.name!, created.spec!.clusterIP!);
    const nodePort = created.spec!.ports![0]!.nodePort;
    if (nodePort) nodePorts.set(created.metadata!.name!, nodePort);
  }
  return { clusterIPs, nodePorts };
}
