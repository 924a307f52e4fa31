// Which CNI programs the nodes' pod routes, recognised from the cluster objects it leaves behind.
import type { ClusterSnapshot } from '../../snapshot/types.ts';
import type { CniName } from '../types.ts';

export interface CniDetection {
  cni: CniName;
  /** the evidence, in plain words: what was found, on how many objects */
  evidence: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Rules:
 * - Calico: IP pools or IPAM blocks (its CRDs), or nodes carrying its projectcalico.org/* annotations;
 * - Flannel: nodes carrying flannel.alpha.coreos.com/* annotations (flanneld's Kubernetes subnet manager);
 * - both: Calico when it has IPAM blocks (Calico IPAM hands out the pod addresses and routes them), else Canal
 *   (flannel's routes between nodes, Calico's CNI plugin and host-local IPAM on each node);
 * - neither: Calico, whose stock manifest is the default here, over the nodes' podCIDRs.
 */
export function detectCni(snapshot: ClusterSnapshot): CniDetection {
  const flannelNodes = snapshot.nodes.filter((node) => node.flannel !== null).length;
  const calicoNodes = snapshot.nodes.filter((node) => Object.keys(node.calico).length > 0).length;
  const calicoParts = [
    snapshot.ipPools.length ? plural(snapshot.ipPools.length, 'IP pool') : '',
    snapshot.ipamBlocks.length ? plural(snapshot.ipamBlocks.length, 'IPAM block') : '',
    calicoNodes ? `projectcalico.org annotations on ${plural(calicoNodes, 'node')}` : '',
  ].filter((part) => part !== '');
  const calico = `Calico (${calicoParts.join(', ')})`;
  const flannel = `Flannel (flannel.alpha.coreos.com annotations on ${flannelNodes} of ${plural(snapshot.nodes.length, 'node')})`;
  if (flannelNodes > 0 && calicoParts.length > 0) {
    return snapshot.ipamBlocks.length > 0
      ? { cni: 'calico', evidence: `${calico}; Flannel's node annotations were found too, but Calico's IPAM blocks say Calico routes the pods` }
      : { cni: 'canal', evidence: `${flannel} with Calico (${calicoParts.join(', ')}) but no IPAM blocks: Canal, where flannel routes between nodes and Calico's CNI plugin wires the pods` };
  }
  if (flannelNodes > 0) return { cni: 'flannel', evidence: flannel };
  if (calicoParts.length > 0) return { cni: 'calico', evidence: calico };
  return { cni: 'calico', evidence: 'no CNI recognised (no Calico objects or annotations, no Flannel annotations): assuming Calico\'s stock manifest over the nodes\' podCIDRs' };
}
