// Files taken from this Debian host for an image: a package's files (dpkg -L), the shared libraries a
// program loads (ldd), and the merged-/usr links (/bin → usr/bin, …), so an image holds the same
// programs at the same paths as one built `FROM debian:bookworm` with apt-get.
import { execFileSync } from 'node:child_process';
import { closeSync, lstatSync, openSync, readFileSync, readlinkSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { TarEntry } from './tar.ts';

const ROOT = { uid: 0, gid: 0 } as const;

/** What debian:*-slim images leave out of every package (its dpkg path-exclude rules), copyright files kept. */
const SLIM_EXCLUDED = /^\/usr\/share\/(doc|man|groff|info|lintian|linda|locale)\//;
const SLIM_KEPT = /^\/usr\/share\/doc\/[^/]+\/copyright$/;

/** Where a host file goes in the image: its directory with symlinks resolved (/sbin/route → usr/sbin/route). */
export function imagePath(hostPath: string): string {
  return path.join(realpathSync(path.dirname(hostPath)), path.basename(hostPath)).slice(1);
}

/** A host file at its image path: a symlink stays one, a file keeps its permission bits, owned by root. */
export function hostEntry(hostPath: string, dereference = false): TarEntry {
  const info = dereference ? statSync(hostPath) : lstatSync(hostPath);
  const where = imagePath(hostPath);
  if (info.isSymbolicLink()) return { type: 'symlink', path: where, target: readlinkSync(hostPath), ...ROOT };
  if (!info.isFile()) throw new Error(`${hostPath} is neither a file nor a symlink`);
  return { type: 'file', path: where, source: hostPath, mode: info.mode & 0o7777, ...ROOT };
}

/** The top-level links of Debian's merged /usr, as this host has them (none on a host without them). */
export function mergedUsrLinks(): TarEntry[] {
  return ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']
    .filter((top) => lstatOrNull(`/${top}`)?.isSymbolicLink())
    .map((top) => ({ type: 'symlink', path: top, target: readlinkSync(`/${top}`), ...ROOT }));
}

/**
 * The files an installed package put on this host (no directories), minus what slim images exclude.
 * A transitional package, one that installs nothing but its copyright (dnsutils), stands for the packages
 * it depends on; a package of data files alone (netbase: /etc/protocols, /etc/services) is itself.
 */
export function packageFiles(pkg: string): string[] {
  const files = dpkgFiles(pkg);
  if (files.some((file) => !file.startsWith('/usr/share/doc/'))) return files;
  const depends = run('dpkg-query', ['-W', '-f=${Depends}', pkg])
    .split(',')
    .map((dependency) => dependency.trim().split(/[\s|]/)[0]!)
    .filter(Boolean);
  if (depends.length === 0) throw new Error(`package ${pkg} installs no program and depends on nothing`);
  return [...new Set(depends.flatMap(dpkgFiles))];
}

function dpkgFiles(pkg: string): string[] {
  let listing: string;
  try {
    listing = run('dpkg-query', ['-L', pkg]);
  } catch {
    throw new Error(`Debian package ${pkg} is not installed on this host (apt-get install -y --no-install-recommends ${pkg})`);
  }
  return listing
    .split('\n')
    .filter((file) => file.startsWith('/') && (!SLIM_EXCLUDED.test(file) || SLIM_KEPT.test(file)))
    .filter((file) => {
      const info = lstatOrNull(file);
      return info !== null && (info.isFile() || (info.isSymbolicLink() && !statOrNull(file)?.isDirectory()));
    });
}

/**
 * The link `update-alternatives` makes when the Dockerfile's apt-get installs a package with alternatives:
 * `link` → /etc/alternatives/NAME → `chosen` (dpkg -L does not list them). `chosen` must be the choice this
 * host has, which is Debian's default unless someone changed it, so the image matches a Docker build.
 */
export function alternativeLinks(link: string, chosen: string): TarEntry[] {
  const alternative = `/etc/alternatives/${path.basename(link)}`;
  const hostChoice = statOrNull(alternative) === null ? null : realpathSync(alternative);
  if (hostChoice !== realpathSync(chosen)) {
    throw new Error(`${alternative} on this host resolves to ${hostChoice ?? 'nothing'}, not ${chosen}: the image would differ from a Docker build (update-alternatives --set ${path.basename(link)} ${chosen})`);
  }
  return [
    { type: 'symlink', path: link.slice(1), target: alternative, ...ROOT },
    { type: 'symlink', path: alternative.slice(1), target: chosen, ...ROOT },
  ];
}

/** Every shared library the ELF files among `files` load, as ldd resolves them on this host (the loader included). */
export function sharedLibraries(files: readonly string[]): string[] {
  const libraries = new Set<string>();
  for (const file of files) {
    if (!isElf(file)) continue;
    for (const line of run('ldd', [file]).split('\n')) {
      if (/not found/.test(line)) throw new Error(`${file} needs a library this host does not have: ${line.trim()}`);
      const library = /(\/\S+) \(0x/.exec(line)?.[1];
      if (library) libraries.add(library);
    }
  }
  return [...libraries].sort();
}

/** The shared libraries the ELF files among `files` load, each as a plain file (dereferenced) at its image path. */
export function libraryEntries(files: readonly string[]): TarEntry[] {
  return sharedLibraries(files).map((library) => hostEntry(library, true));
}

/** The files as they are, with the libraries they need; a path listed twice is taken once. */
export function withLibraries(files: readonly string[]): TarEntry[] {
  const entries = new Map<string, TarEntry>();
  for (const entry of [...files.map((file) => hostEntry(file)), ...libraryEntries(files)]) {
    if (!entries.has(entry.path)) entries.set(entry.path, entry);
  }
  return [...entries.values()];
}

/** The Debian release this host runs (`VERSION_CODENAME` of /etc/os-release). */
export function debianCodename(): string {
  const match = /^VERSION_CODENAME=(\S+)$/m.exec(readFileSync('/etc/os-release', 'utf8'));
  if (!match) throw new Error('/etc/os-release names no VERSION_CODENAME: not a Debian host?');
  return match[1]!;
}

function isElf(file: string): boolean {
  const info = statOrNull(file);
  if (!info?.isFile()) return false;
  const fd = openSync(file, 'r');
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function lstatOrNull(file: string) {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

function statOrNull(file: string) {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}
