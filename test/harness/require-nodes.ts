// describe() for suites that need the two-node VM cluster: skipped with one line naming what is missing
// (QEMU and host packages, the built node binaries), or failed instead under NETLAB_REQUIRE_REAL=1.
import { CONTROL_PLANE_BINARIES, findBinaries } from '../../harness/control-plane/binaries.ts';
import { skipOrFail } from './require-real.ts';
import { vmPrerequisites } from '../../harness/vm/image.ts';
import { NODE_CLUSTER_BINARIES } from '../../harness/nodes/cluster.ts';

export function describeNodeCluster(name: string, fn: () => void): void {
  const vm = vmPrerequisites();
  const binaries = findBinaries([...CONTROL_PLANE_BINARIES, ...NODE_CLUSTER_BINARIES]);
  const missing = !vm.ok ? `no node VM: ${vm.reason}` : !binaries.ok ? binaries.reason : null;
  if (missing === null) return describe(name, fn);
  skipOrFail(`no node cluster: ${missing}`);
  describe.skip(name, () => test('needs the node cluster', () => {}));
}
