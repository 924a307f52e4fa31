// Path lookups inside an image's file list (a spec's entries or a layer read back), following symlinks
// as the kernel would inside the container: what the entrypoint resolves to, whether a file is there.
import path from 'node:path';

export type ImageFile = { path: string; type: string; target?: string; mode?: number; uid?: number; gid?: number };

/** The entry an absolute path in the image leads to, symlinks followed; null when nothing is there. */
export function resolveInImage(files: readonly ImageFile[], file: string): ImageFile | null {
  const byPath = new Map(files.map((entry) => [entry.path, entry]));
  let parts = file.split('/').filter(Boolean);
  for (let hops = 0, i = 0; i < parts.length; ) {
    const entry = byPath.get(parts.slice(0, i + 1).join('/'));
    if (!entry) return null;
    if (entry.type !== 'symlink') {
      i++;
      if (i === parts.length) return entry;
      continue;
    }
    if (++hops > 40) throw new Error(`too many symlinks resolving ${file}`);
    const base = entry.target!.startsWith('/') ? '/' : `/${parts.slice(0, i).join('/')}`;
    parts = [...path.posix.resolve(base, entry.target!).split('/').filter(Boolean), ...parts.slice(i + 1)];
    i = 0;
  }
  return null;
}

/** Where a program name resolves: by PATH (from the env list) when it has no slash, else from workingDir. */
export function findProgram(files: readonly ImageFile[], program: string, env: readonly string[], workingDir: string): ImageFile | null {
  if (program.includes('/')) return resolveInImage(files, path.posix.resolve(workingDir, program));
  const searchPath = env.find((entry) => entry.startsWith('PATH='))?.slice('PATH='.length) ?? '';
  for (const dir of searchPath.split(':').filter(Boolean)) {
    const found = resolveInImage(files, `${dir}/${program}`);
    if (found?.type === 'file') return found;
  }
  return null;
}
