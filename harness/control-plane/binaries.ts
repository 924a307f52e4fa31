// Where the harness finds the real components: the binaries `npm run harness:build` puts in
// $NETLAB_CACHE_DIR/bin (default <project>/.cache/bin), plus the system tools the harness calls.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What the control plane runs (kube-proxy is the VM's, kubectl is optional). */
export const CONTROL_PLANE_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'coredns'] as const;
/** System tools the control plane needs besides the built binaries. */
export const CONTROL_PLANE_TOOLS = ['openssl'] as const;

export type BinaryPaths = Record<string, string>;

export type BinaryLookup =
  | { ok: true; paths: BinaryPaths }
  /** `reason` is one line naming everything missing and how to get it */
  | { ok: false; missing: string[]; reason: string };

export function cacheDir(): string {
  return process.env.NETLAB_CACHE_DIR || path.join(PROJECT_ROOT, '.cache');
}

export function binDir(): string {
  return path.join(cacheDir(), 'bin');
}

/** Finds built binaries in the cache's bin folder and tools on PATH; names every one that is missing. */
export function findBinaries(
  built: readonly string[] = CONTROL_PLANE_BINARIES,
  tools: readonly string[] = CONTROL_PLANE_TOOLS,
): BinaryLookup {
  const paths: BinaryPaths = {};
  const notBuilt: string[] = [];
  const notInstalled: string[] = [];
  for (const name of built) {
    const candidate = path.join(binDir(), name);
    if (isExecutable(candidate)) paths[name] = candidate;
    else notBuilt.push(name);
  }
  for (const name of tools) {
    const found = onPath(name);
    if (found) paths[name] = found;
    else notInstalled.push(name);
  }
  if (notBuilt.length === 0 && notInstalled.length === 0) return { ok: true, paths };
  const parts: string[] = [];
  if (notBuilt.length > 0) {
    parts.push(`${notBuilt.join(', ')} not built in ${binDir()} (run \`npm run harness:build\`)`);
  }
  if (notInstalled.length > 0) parts.push(`${notInstalled.join(', ')} not installed (not on PATH)`);
  return { ok: false, missing: [...notBuilt, ...notInstalled], reason: parts.join('; ') };
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
