// The routes layer's model: which CNI programs the pod routes (detect.ts), and that CNI's rows for one node.
// One file per CNI behind one small interface (types.ts CniRouteModel): calico.ts, flannel.ts.
import { findNode } from '../lookup.ts';
import type { ClusterSnapshot } from '../../snapshot/types.ts';
import type { CniName, NodeRoutes } from '../types.ts';
import { calicoRouteModel } from './calico.ts';
import { detectCni } from './detect.ts';
import { canalRouteModel, flannelRouteModel } from './flannel.ts';
import type { CniRouteModel, RouteModelOptions } from './types.ts';

export { type CniDetection, detectCni } from './detect.ts';
export type { RouteModelOptions } from './types.ts';

const MODELS: Record<CniName, CniRouteModel> = { calico: calicoRouteModel, flannel: flannelRouteModel, canal: canalRouteModel };

/** The rows `nodeName`'s `route -n` must show: by the CNI `cni` when given, else the one the snapshot shows. */
export function expectedRoutes(snapshot: ClusterSnapshot, nodeName: string, options: RouteModelOptions & { cni?: CniName } = {}): NodeRoutes {
  const local = findNode(snapshot, nodeName);
  const cni = options.cni ?? detectCni(snapshot).cni;
  return { node: nodeName, cni, ...MODELS[cni].expectedRoutes(snapshot, local, options) };
}
