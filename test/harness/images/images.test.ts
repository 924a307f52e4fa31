// The four real images, built into the cache as the node cluster gets them: each archive read back and
// checked, each image's programs run from its own files in a chroot (no container engine exists here),
// and, when containerd has been built, each imported with `ctr` into a throwaway containerd.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, lchownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { binDir } from '../../../harness/control-plane/binaries.ts';
import { startProcess, stopProcess, waitUntilReady, type ManagedProcess } from '../../../harness/control-plane/processes.ts';
import { skipOrFail } from '../require-real.ts';
import { archivePath, buildImage, type BuiltImage, defaultContext, type ImageId, RECIPES } from '../../../harness/images/images.ts';
import { normalizeImageName, readImageArchive, type ReadImage, writeImageArchive } from '../../../harness/images/oci.ts';
import { COREDNS_VERSION } from '../../../harness/images/recipes.ts';
import { findProgram } from './image-files.ts';

const corednsMissing = !existsSync(path.join(binDir(), 'coredns'));
const ids: ImageId[] = ['pause', 'probe', 'operator', ...(corednsMissing ? [] : (['coredns'] as const))];
if (corednsMissing) skipOrFail(`the CoreDNS image is not built: coredns not built in ${binDir()} (run \`npm run harness:build\`)`);

const built = new Map<ImageId, { image: BuiltImage; read: ReadImage }>();
beforeAll(async () => {
  for (const id of ids) {
    const image = await buildImage(id);
    built.set(id, { image, read: readImageArchive(readFileSync(image.archive)) });
  }
}, 600_000);

describe.each(ids)('the %s image', (id) => {
  test('is a valid OCI archive, named for containerd as pods name it, its entrypoint in its layer', () => {
    const { image, read } = built.get(id)!;
    expect(read.name).toBe(normalizeImageName(RECIPES[id].name));
    expect(image.containerdName).toBe(read.name);
    const { Entrypoint, Env, WorkingDir } = read.config.config;
    const program = findProgram(read.layer, Entrypoint[0]!, Env, WorkingDir);
    expect(program).toMatchObject({ type: 'file' });
    expect((program?.mode ?? 0) & 0o111).toBe(0o111);
    expect(read.layer.filter((entry) => entry.uid !== 0 || entry.gid !== 0 || entry.mtime !== 0)).toEqual([]);
    process.stdout.write(`${id}: ${read.name}, ${(image.bytes / 2 ** 20).toFixed(1)} MiB, ${image.rebuilt ? 'built' : 'checked'} in ${image.seconds.toFixed(1)} s\n`);
  });
});

test('a second build finds the archive up to date; a rebuild of the pause image is byte-identical', async () => {
  const again = await buildImage('pause');
  expect(again.rebuilt).toBe(false);
  const work = mkdtempSync(path.join(tmpdir(), 'netlab-images-'));
  try {
    const copy = path.join(work, 'pause.tar');
    await writeImageArchive(RECIPES.pause.spec(defaultContext()), copy);
    expect(readFileSync(copy).equals(readFileSync(archivePath('pause')))).toBe(true);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}, 120_000);

/** Writes a layer's entries under `root` with their modes and owners. */
function unpack(read: ReadImage, root: string): void {
  for (const entry of read.layer) {
    const target = path.join(root, entry.path);
    if (entry.type === 'dir') mkdirSync(target, { recursive: true, mode: entry.mode });
    else if (entry.type === 'symlink') symlinkSync(entry.target, target);
    else writeFileSync(target, entry.content, { mode: entry.mode });
    if (entry.type === 'symlink') lchownSync(target, entry.uid, entry.gid);
    else chownSync(target, entry.uid, entry.gid);
  }
}

const asRoot = process.getuid?.() === 0;
/** By absolute path: the image's environment, which the command gets, may have no PATH. */
const CHROOT = ['/usr/sbin/chroot', '/usr/bin/chroot'].find((file) => existsSync(file)) ?? 'chroot';
if (!asRoot) process.stderr.write('image chroot runs skipped: they need root (chroot)\n');

(asRoot ? describe : describe.skip)('the images run from their own files (chroot, as the image user)', () => {
  const roots = new Map<ImageId, string>();
  let work: string;
  beforeAll(() => (work = mkdtempSync(path.join(tmpdir(), 'netlab-chroot-'))));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const rootOf = (id: ImageId): string => {
    if (!roots.has(id)) {
      const root = path.join(work, id);
      mkdirSync(root);
      unpack(built.get(id)!.read, root);
      roots.set(id, root);
    }
    return roots.get(id)!;
  };
  /** Runs a command inside the image's root as its user, with its environment; PATH lookups happen inside. */
  const run = (id: ImageId, command: string[]) => {
    const { User, Env } = built.get(id)!.read.config.config;
    const env = Object.fromEntries(Env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
    return spawnSync(CHROOT, [`--userspec=${User}`, rootOf(id), ...command], { env, encoding: 'utf8', timeout: 60_000 });
  };
  const output = (result: ReturnType<typeof run>) => `${result.stdout}${result.stderr}`;

  test('probe: route, ipvsadm, ip, dig, nft and iptables-save start with only the image\'s libraries', () => {
    expect(run('probe', ['route', '--version']).stdout).toMatch(/net-tools 2\.\d+/);
    expect(run('probe', ['nft', '--version']).stdout).toMatch(/^nftables v1\.0\./);
    // the nf_tables backend, where kube-proxy's iptables-mode rules are
    expect(run('probe', ['iptables-save', '--version']).stdout).toMatch(/^iptables-save v1\.8\.\d+ \(nf_tables\)/);
    // ipvsadm asks the kernel first; without IPVS (as on this host) its own error still shows it ran
    expect(output(run('probe', ['ipvsadm', '--version']))).toMatch(/^ipvsadm v1\.\d+|^Can't initialize ipvs/);
    expect(run('probe', ['ip', '-V']).stdout).toMatch(/iproute2-6\./);
    expect(run('probe', ['dig', '-v']).stderr).toMatch(/^DiG 9\.18\./);
    expect(run('probe', ['sleep', '0']).status).toBe(0);
  }, 180_000);

  test('operator: node loads the bundled operator as UID 65532', () => {
    // chroot starts in /, so the entrypoint's script is resolved against the working directory here
    const { Entrypoint: [program, script], WorkingDir } = built.get('operator')!.read.config.config;
    const result = run('operator', [program!, path.posix.resolve(WorkingDir, script!), '--help']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^netlab operator:/);
    expect(result.status).toBe(0);
  }, 180_000);

  (corednsMissing ? test.skip : test)('coredns: the binary runs as nonroot', () => {
    expect(run('coredns', ['/coredns', '-version']).stdout).toContain(`CoreDNS-${COREDNS_VERSION}`);
  }, 180_000);

  test('pause: waits, and exits 0 on SIGTERM', async () => {
    const { User } = built.get('pause')!.read.config.config;
    const child = spawn(CHROOT, [`--userspec=${User}`, rootOf('pause'), '/pause'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const stillRunning = await Promise.race([exited.then(() => false), new Promise((r) => setTimeout(() => r(true), 500))]);
    expect(stillRunning).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

// containerd and ctr come from the node-cluster build; without them this part skips with one line.
const ctr = path.join(binDir(), 'ctr');
const containerd = path.join(binDir(), 'containerd');
const haveContainerd = asRoot && existsSync(ctr) && existsSync(containerd);
if (!haveContainerd) {
  process.stderr.write(`ctr import skipped: ${asRoot ? `no ctr and containerd in ${binDir()}` : 'containerd needs root'}\n`);
}

(haveContainerd ? describe : describe.skip)('ctr imports each archive into a throwaway containerd', () => {
  let work: string;
  let address: string;
  let daemon: ManagedProcess;
  const ctrRun = (...args: string[]) => execFileSync(ctr, ['--address', address, '--namespace', 'k8s.io', ...args], { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] });

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'netlab-ctrd-'));
    address = path.join(work, 'containerd.sock');
    // Only what importing needs: no CRI (nothing runs), every path inside the temp directory.
    writeFileSync(
      path.join(work, 'config.toml'),
      [
        'version = 3',
        `root = "${work}/root"`,
        `state = "${work}/state"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        `[grpc]\n  address = "${address}"`,
        `[plugins."io.containerd.internal.v1.opt"]\n  path = "${work}/opt"`,
        // the native snapshotter works on any host filesystem (overlayfs does not nest on an overlay root)
        '[[plugins."io.containerd.transfer.v1.local".unpack_config]]\n  platform = "linux/amd64"\n  snapshotter = "native"',
      ].join('\n'),
    );
    daemon = startProcess('containerd', [containerd, '--config', path.join(work, 'config.toml')], path.join(work, 'containerd.log'), work);
    await waitUntilReady(daemon, 'its socket answering', async () => spawnSync(ctr, ['--address', address, 'version']).status === 0, 60_000);
  }, 90_000);
  afterAll(async () => {
    if (daemon) await stopProcess(daemon, 10_000);
    rmSync(work, { recursive: true, force: true });
  });

  test.each(ids)('%s: listed under the name pods use, unpacked by the native snapshotter', (id) => {
    const { image } = built.get(id)!;
    ctrRun('images', 'import', '--snapshotter', 'native', image.archive);
    expect(ctrRun('images', 'ls', '-q').split('\n')).toContain(image.containerdName);
    const check = ctrRun('images', 'check', '--snapshotter', 'native', `name==${image.containerdName}`);
    expect(check).toMatch(new RegExp(`${image.containerdName.replace(/[.]/g, '\\.')}\\s.*complete \\(\\d+/\\d+\\).*\\strue\\s*$`, 'm'));
  }, 300_000);
});
