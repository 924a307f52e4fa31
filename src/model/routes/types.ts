// The one small interface every CNI's route model implements (calico.ts, flannel.ts), and its options.
import type { InterfaceAddressTable, RouteEntry } from '../../parse/types.ts';
import type { ClusterSnapshot, NodeView } from '../../snapshot/types.ts';
import type { Encapsulation } from '../calico.ts';
import type { NodeRoutes } from '../types.ts';

export interface RouteModelOptions {
  /** The node's observed `ip -o addr`, when there is one: the interface holding the node's address is the uplink. */
  interfaces?: InterfaceAddressTable | null;
  /** The node's observed `route -n` rows, when there are some: its connected routes name the uplink. */
  observedRoutes?: RouteEntry[];
  /** Calico: encapsulation assumed for remote blocks when no IP pool contains them (Calico CRDs absent).
   *  Default IP-in-IP Always, the encapsulation of Calico's stock manifest. */
  encapsulationWithoutPool?: Encapsulation;
}

/** One CNI's rules (index.ts keeps one per CniName). */
export interface CniRouteModel {
  /** The rows this CNI programs on `local`, in /proc/net/route order. */
  expectedRoutes(snapshot: ClusterSnapshot, local: NodeView, options: RouteModelOptions): Omit<NodeRoutes, 'node' | 'cni'>;
}
