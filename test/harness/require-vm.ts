// describe() for suites that boot the node VM: skipped with one line naming what is missing (QEMU,
// host packages, Go, the kernel package, kube-proxy), or failed instead under NETLAB_REQUIRE_REAL=1.
import { findBinaries } from '../../harness/control-plane/binaries.ts';
import type { ControlPlaneInfo } from '../../harness/control-plane/controlplane.ts';
import { realComponentsOrSkip, skipOrFail } from './require-real.ts';
import { vmPrerequisites } from '../../harness/vm/image.ts';

/** Suites that need only the VM (no control plane). */
export function describeVm(name: string, fn: () => void): void {
  const vm = vmPrerequisites();
  if (vm.ok) describe(name, fn);
  else skipped(name, vm.reason);
}

/** Suites that need the control plane and a VM running kube-proxy. */
export function describeVmWithKubeProxy(name: string, fn: (info: ControlPlaneInfo) => void): void {
  const info = realComponentsOrSkip();
  if (!info) return skippedQuietly(name);
  const vm = vmPrerequisites();
  if (!vm.ok) return skipped(name, vm.reason);
  const kubeProxy = findBinaries(['kube-proxy'], []);
  if (!kubeProxy.ok) return skipped(name, kubeProxy.reason);
  describe(name, () => fn(info));
}

function skipped(name: string, reason: string): void {
  skipOrFail(`no node VM: ${reason}`);
  skippedQuietly(name);
}

function skippedQuietly(name: string): void {
  describe.skip(name, () => test('needs the node VM', () => {}));
}
