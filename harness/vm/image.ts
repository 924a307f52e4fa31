// The VM image (kernel + initramfs) that harness/build/vm-image.sh makes and caches, as the harness sees it.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir, PROJECT_ROOT } from '../control-plane/binaries.ts';

export const VM_BUILD_SCRIPT = path.join(PROJECT_ROOT, 'harness', 'build', 'vm-image.sh');
/** vm-image.sh's exit code for "a host prerequisite is missing" */
const MISSING_PREREQUISITE = 3;

export interface VmImage {
  kernelPackage: string;
  kernelVersion: string;
  kernel: string;
  /** busybox, network tools and the agent */
  initrdBase: string;
  /** the base plus kube-proxy; null when kube-proxy was not built yet */
  initrdKubeProxy: string | null;
  /** the kube-proxy image plus what a kubelet node needs (runc, containerd's configuration, boot scripts); null without kube-proxy */
  initrdNode: string | null;
}

export type VmPrerequisites = { ok: true } | { ok: false; reason: string };

/** Quick check (no build) that this machine can build and boot the VM: host packages, Go, the kernel package. */
export function vmPrerequisites(): VmPrerequisites {
  const check = spawnSync(VM_BUILD_SCRIPT, ['--check'], { encoding: 'utf8' });
  if (check.error) return { ok: false, reason: `cannot run ${VM_BUILD_SCRIPT}: ${check.error.message}` };
  if (check.status === 0) return { ok: true };
  const message = check.stderr.trim().replace(/\s*\n\s*/g, '; ');
  if (check.status === MISSING_PREREQUISITE) return { ok: false, reason: message };
  throw new Error(`${VM_BUILD_SCRIPT} --check failed (exit ${check.status}): ${message}`);
}

let building: Promise<VmImage> | null = null;

/** Builds the image if its inputs changed (seconds when cached), once per process. */
export function buildVmImage(): Promise<VmImage> {
  building ??= runBuild();
  return building;
}

async function runBuild(): Promise<VmImage> {
  const child = spawn(VM_BUILD_SCRIPT, [], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NETLAB_CACHE_DIR: cacheDir() } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`${VM_BUILD_SCRIPT} failed (exit ${code}):\n${stderr.trim()}`);
  return JSON.parse(readFileSync(path.join(cacheDir(), 'vm', 'manifest.json'), 'utf8')) as VmImage;
}
