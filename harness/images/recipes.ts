// The four images the node cluster needs, each as an ImageSpec built from local files. The two netlab
// images follow Dockerfile and Dockerfile.probe (test/harness/images/dockerfiles.test.ts checks that they
// agree); pause and CoreDNS follow the upstream images kubelet and kubeadm name.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { BUNDLE_FILES, bundleOperator } from '../../scripts/bundle-operator.ts';
import type { ImageConfig, ImageSpec } from './oci.ts';
import { alternativeLinks, libraryEntries, mergedUsrLinks, packageFiles, withLibraries } from './host-files.ts';
import type { TarEntry } from './tar.ts';

export type BuildContext = { projectRoot: string; cacheDir: string };

export type Recipe = {
  /** the reference pods use: exactly what manifests/ and containerd's defaults name */
  name: string;
  spec: (context: BuildContext) => ImageSpec;
};

const ROOT = { uid: 0, gid: 0 } as const;
/** The PATH Debian's base images set, which the node image keeps. */
const DEBIAN_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** distroless's `nonroot`, the user CoreDNS runs as, and the operator's UID. */
const NONROOT = 65532;

/**
 * What a base image would give: root and nonroot users, `/etc/nsswitch.conf` as Debian writes it (files
 * before DNS for host names) and a world-writable /tmp.
 */
function baseFiles(): TarEntry[] {
  const text = (file: string, content: string): TarEntry => ({ type: 'file', path: file, content, mode: 0o644, ...ROOT });
  return [
    text('etc/passwd', `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${NONROOT}:${NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n`),
    text('etc/group', `root:x:0:\nnonroot:x:${NONROOT}:\n`),
    text('etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n'),
    { type: 'dir', path: 'tmp', mode: 0o1777, ...ROOT },
  ];
}

// --- pause -------------------------------------------------------------------------------------------

/** containerd v2.4.2's default sandbox image (internal/cri/config DefaultSandboxImage), kubeadm 1.37.2's PauseVersion: no config needed. */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10.2';

/** harness/images/pause/main.go, built static with this machine's Go into the cache (Go's build cache makes a rebuild quick). */
function buildPause({ projectRoot, cacheDir }: BuildContext): string {
  const out = path.join(cacheDir, 'images', 'pause-binary', 'pause');
  const partial = `${out}.${process.pid}`; // renamed into place: concurrent builds never see half a file
  execFileSync('go', ['build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w', '-o', partial, '.'], {
    cwd: path.join(projectRoot, 'harness', 'images', 'pause'),
    env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOWORK: 'off', GOFLAGS: '', GOCACHE: path.join(cacheDir, 'go', 'build') },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  renameSync(partial, out);
  return out;
}

const pause: Recipe = {
  name: PAUSE_IMAGE,
  spec: (context) => ({
    name: PAUSE_IMAGE,
    // as the Kubernetes pause image: the binary at /pause, run as 65535
    config: { entrypoint: ['/pause'], user: '65535:65535', env: [], workingDir: '/' },
    files: [{ type: 'file', path: 'pause', source: buildPause(context), mode: 0o755, ...ROOT }],
  }),
};

// --- CoreDNS -----------------------------------------------------------------------------------------

export const COREDNS_VERSION = '1.14.6';
/** The name kubeadm 1.37.2 gives CoreDNS (cmd/kubeadm/app/constants CoreDNSVersion). */
export const COREDNS_IMAGE = `registry.k8s.io/coredns/coredns:v${COREDNS_VERSION}`;

/**
 * `security.capability` = cap_net_bind_service+ep (struct vfs_cap_data, revision 2, little-endian): the
 * upstream image sets it with setcap so CoreDNS can bind port 53 as nonroot. (containerd 2.x also lowers
 * ip_unprivileged_port_start to 0 in pod network namespaces, so this matters only where that is turned off.)
 */
const NET_BIND_SERVICE_CAPABILITY = (() => {
  const data = Buffer.alloc(20);
  data.writeUInt32LE(0x02000001, 0); // VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE
  data.writeUInt32LE(1 << 10, 4); // permitted: CAP_NET_BIND_SERVICE (10)
  return data;
})();

const coredns: Recipe = {
  name: COREDNS_IMAGE,
  spec: ({ cacheDir }) => {
    const binary = path.join(cacheDir, 'bin', 'coredns');
    if (!existsSync(binary)) throw new Error(`${binary} is missing (npm run harness:build builds it)`);
    const version = execFileSync(binary, ['-version'], { encoding: 'utf8' });
    if (!version.includes(`CoreDNS-${COREDNS_VERSION}`)) {
      throw new Error(`${binary} is not CoreDNS ${COREDNS_VERSION}: ${version.split('\n')[0]}`);
    }
    return {
      name: COREDNS_IMAGE,
      // as upstream's Dockerfile: /coredns as nonroot, working directory /
      config: { entrypoint: ['/coredns'], user: `${NONROOT}:${NONROOT}`, env: [], workingDir: '/' },
      files: [
        ...baseFiles(),
        { type: 'file', path: 'coredns', source: binary, mode: 0o755, ...ROOT, xattrs: { 'security.capability': NET_BIND_SERVICE_CAPABILITY } },
      ],
    };
  },
};

// --- netlab probe (Dockerfile.probe) -----------------------------------------------------------------

/** Dockerfile.probe, as data the parity test compares with the Dockerfile. */
export const PROBE = {
  name: 'netlab-probe:dev',
  /** the packages its `apt-get install` names */
  packages: ['net-tools', 'ipvsadm', 'iproute2', 'dnsutils', 'nftables', 'iptables', 'netbase'],
  /** the alternatives its apt-get sets up, as Debian chooses them: iptables-save is the nf_tables backend's */
  alternatives: [{ link: '/usr/sbin/iptables-save', chosen: '/usr/sbin/iptables-nft-save' }],
  /**
   * the base image's programs the probe runs: its entrypoint; `sh` (Debian's link to dash), which runs a
   * check's commands for a node in one exec (src/observe/batched-exec.ts); and `cat` for a person (or the
   * node cluster's tests) reading the resolv.conf the kubelet wrote into a pod
   */
  basePrograms: ['/bin/sleep', '/bin/sh', '/bin/dash', '/bin/cat'],
  config: { entrypoint: ['sleep', 'infinity'], user: '0:0', env: [DEBIAN_PATH], workingDir: '/' } satisfies ImageConfig,
};

const probe: Recipe = {
  name: PROBE.name,
  spec: () => ({
    name: PROBE.name,
    config: PROBE.config,
    files: [
      ...baseFiles(),
      ...mergedUsrLinks(),
      ...withLibraries([...new Set([...PROBE.packages.flatMap(packageFiles), ...PROBE.basePrograms])]),
      ...PROBE.alternatives.flatMap(({ link, chosen }) => alternativeLinks(link, chosen)),
    ],
  }),
};

// --- netlab operator (Dockerfile) --------------------------------------------------------------------

/** Dockerfile, as data the parity test compares with the Dockerfile. */
export const OPERATOR = {
  name: 'netlab-operator:dev',
  appDir: '/app',
  /** the stage that makes the bundle: its COPYs (`<context path> <path>`) and RUNs, in order */
  bundleStage: {
    name: 'bundle',
    copies: ['package.json package-lock.json ./', 'scripts/bundle-operator.ts ./scripts/', 'src ./src'],
    runs: ['npm ci --ignore-scripts --no-audit --no-fund', 'node scripts/bundle-operator.ts dist'],
    /** the directory the final stage copies into appDir */
    outDir: '/app/dist/',
  },
  /** where the node image has the binary */
  nodePath: '/usr/local/bin/node',
  config: {
    entrypoint: ['node', BUNDLE_FILES.script],
    user: `${NONROOT}:${NONROOT}`,
    env: [DEBIAN_PATH, 'NODE_ENV=production'],
    workingDir: '/app',
  } satisfies ImageConfig,
};

/** The Node.js binary the `node` npm package (a devDependency) installed: the one the project is tested with. */
export function nodeBinary(projectRoot: string): { path: string; version: string } {
  const packageDir = path.join(projectRoot, 'node_modules', 'node');
  const binary = path.join(packageDir, 'bin', 'node');
  if (!existsSync(binary)) throw new Error(`${binary} is missing (npm ci installs the node package)`);
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return { path: binary, version };
}

/**
 * The bundle directory the Dockerfile's bundle stage makes (scripts/bundle-operator.ts), made here from the
 * project's sources and installed node_modules, and kept under the hash of its files so that archives built
 * from it keep their sources.
 */
export function operatorBundle({ cacheDir }: BuildContext): string {
  const parent = path.join(cacheDir, 'images', 'operator-bundle');
  mkdirSync(parent, { recursive: true });
  const work = mkdtempSync(path.join(parent, '.tmp-'));
  try {
    bundleOperator(work);
    chmodSync(work, 0o755); // as WORKDIR makes /app (mkdtemp gives 0700)
    const hash = createHash('sha256');
    for (const entry of directoryEntries(work, '.')) {
      hash.update(`${entry.path}\0`);
      if (entry.type === 'file') hash.update(readFileSync(entry.source!));
    }
    const kept = path.join(parent, hash.digest('hex').slice(0, 16));
    try {
      if (!existsSync(kept)) renameSync(work, kept);
    } catch (error) {
      if (!existsSync(kept)) throw error; // else a concurrent build (another jest worker) got there first
    }
    return kept;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A host directory's tree at `imageDir`, as COPY puts it: directories, files and symlinks, owned by root. */
export function directoryEntries(hostDir: string, imageDir: string): TarEntry[] {
  const entries: TarEntry[] = [];
  const walk = (host: string, image: string) => {
    for (const name of readdirSync(host).sort()) {
      const hostPath = path.join(host, name);
      const imagePath = `${image}/${name}`;
      const info = lstatSync(hostPath);
      if (info.isDirectory()) {
        entries.push({ type: 'dir', path: imagePath, mode: info.mode & 0o7777, ...ROOT });
        walk(hostPath, imagePath);
      } else if (info.isSymbolicLink()) {
        entries.push({ type: 'symlink', path: imagePath, target: readlinkSync(hostPath), ...ROOT });
      } else if (info.isFile()) {
        entries.push({ type: 'file', path: imagePath, source: hostPath, mode: info.mode & 0o7777, ...ROOT });
      }
    }
  };
  const info = lstatSync(hostDir);
  if (!info.isDirectory()) throw new Error(`${hostDir} is not a directory`);
  entries.push({ type: 'dir', path: imageDir, mode: info.mode & 0o7777, ...ROOT });
  walk(hostDir, imageDir);
  return entries;
}

const operator: Recipe = {
  name: OPERATOR.name,
  spec: (context) => {
    const node = nodeBinary(context.projectRoot);
    return {
      name: OPERATOR.name,
      config: OPERATOR.config,
      files: [
        ...baseFiles(),
        ...mergedUsrLinks(),
        { type: 'file', path: OPERATOR.nodePath.slice(1), source: node.path, mode: 0o755, ...ROOT },
        ...libraryEntries([node.path]),
        ...directoryEntries(operatorBundle(context), OPERATOR.appDir.slice(1)),
      ],
    };
  },
};

export const RECIPES = { pause, coredns, probe, operator } as const;
export type ImageId = keyof typeof RECIPES;
