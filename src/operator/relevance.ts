// Which cluster changes a lab must look at again. Every lab re-checked on every event would make one
// busy namespace slow down every lab in the cluster; these rules follow what each layer's model reads.
import { SERVICE_CHECKS } from '../check/check.ts';
import type { CheckName } from '../check/types.ts';
import type { LabSpec } from './lab.ts';

/** A cluster object changed in a way the model can see. */
export interface ClusterChange {
  at: number;
  /** e.g. "Service default/web updated", for status messages */
  what: string;
  kind: 'Node' | 'Pod' | 'Service' | 'EndpointSlice' | 'Namespace' | 'IPPool' | 'IPAMBlock' | 'BlockAffinity' | 'ClusterInformation' | 'ConfigMap';
  namespace: string | null;
  name: string;
}

const isKubeDns = (change: ClusterChange) =>
  change.namespace === 'kube-system' && (change.kind === 'Service' ? change.name === 'kube-dns' : change.kind === 'EndpointSlice' && change.name.startsWith('kube-dns'));

/** The checks of a lab that a change can affect. kube-proxy's layer is the same in every mode. */
function affects(change: ClusterChange, spec: LabSpec): CheckName[] {
  const inLabNamespaces = change.namespace !== null && spec.services.namespaces.includes(change.namespace);
  const layers: CheckName[] = [];
  switch (change.kind) {
    case 'Node':
      layers.push('routes', ...SERVICE_CHECKS); // pod blocks and tunnel addresses; NodePorts listen on node addresses
      break;
    case 'IPPool':
    case 'IPAMBlock':
    case 'BlockAffinity':
    case 'ClusterInformation': // the Calico version: the pod routes' metric and its explanation
      layers.push('routes');
      break;
    case 'Pod':
      layers.push('routes'); // a pod's /32 route on its node
      if (inLabNamespaces) layers.push('dns'); // pod and headless-endpoint names
      break;
    case 'Service':
    case 'EndpointSlice':
      layers.push(...SERVICE_CHECKS); // kube-proxy programs every Service of the cluster on every node
      if (inLabNamespaces || isKubeDns(change)) layers.push('dns');
      if (isKubeDns(change)) layers.push('resolvconf'); // the nameserver pods get
      break;
    case 'Namespace':
      layers.push('dns', 'resolvconf');
      break;
    case 'ConfigMap':
      if (change.name === 'kube-proxy') layers.push(...SERVICE_CHECKS); // its mode decides what "services" checks
      else layers.push('dns', 'resolvconf'); // coredns: cluster domain, pods mode
      break;
  }
  return layers;
}

export function changeMatters(change: ClusterChange, spec: LabSpec): boolean {
  return affects(change, spec).some((layer) => spec.checks.includes(layer));
}
