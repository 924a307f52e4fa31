// The OCI image-layout writer on a small image that has every kind of entry: read back through the
// index, manifest and config with every digest and size checked, listed by GNU tar as an independent
// reader, and rebuilt byte for byte.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ImageSpec, normalizeImageName, readImageArchive, specHash, writeImageArchive } from '../../../harness/images/oci.ts';
import { normalizeEntries, readTar, type TarEntry } from '../../../harness/images/tar.ts';

const LONG_DIR = 'opt/' + 'a-directory-name-that-is-long/'.repeat(4);
const LONG_TARGET = '/' + 'x'.repeat(120);

let work: string;
let spec: ImageSpec;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'netlab-oci-'));
  const hostFile = path.join(work, 'host-program');
  writeFileSync(hostFile, '#!/bin/sh\necho from the host\n');
  spec = {
    name: 'netlab-test:v1',
    config: { entrypoint: ['/bin/program'], cmd: ['--flag'], user: '65532:65532', env: ['PATH=/bin', 'A=b'], workingDir: '/work' },
    files: [
      { type: 'file', path: 'bin/program', source: hostFile, mode: 0o755, uid: 0, gid: 0 },
      { type: 'file', path: 'etc/secret', content: 'hello\n', mode: 0o640, uid: 65532, gid: 65532 },
      { type: 'dir', path: 'work', mode: 0o750, uid: 1000, gid: 1000 },
      { type: 'symlink', path: 'usr/bin', target: '../bin', uid: 0, gid: 0 },
      { type: 'file', path: `${LONG_DIR}file-with-a-long-path`, content: 'deep', mode: 0o644, uid: 0, gid: 0 },
      { type: 'symlink', path: 'long-link', target: LONG_TARGET, uid: 0, gid: 0 },
      { type: 'file', path: 'capable', content: 'x', mode: 0o755, uid: 0, gid: 0, xattrs: { 'security.capability': Buffer.from([1, 0, 0, 2, 0xff]) } },
    ],
  };
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('the archive is a valid OCI layout whose index names the image for containerd', async () => {
  const archive = path.join(work, 'image.tar');
  const written = await writeImageArchive(spec, archive);
  const image = readImageArchive(readFileSync(archive)); // checks every digest and size on the way down
  expect(image.index.manifests[0]).toMatchObject({
    digest: written.manifestDigest,
    platform: { architecture: 'amd64', os: 'linux' },
    annotations: { 'io.containerd.image.name': 'docker.io/library/netlab-test:v1', 'org.opencontainers.image.ref.name': 'v1' },
  });
  expect(image.manifest.config.digest).toBe(written.configDigest);
  expect(image.manifest.layers).toEqual([expect.objectContaining({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: written.layerDigest })]);
  expect(image.config.config).toEqual({ Entrypoint: ['/bin/program'], Cmd: ['--flag'], User: '65532:65532', Env: ['PATH=/bin', 'A=b'], WorkingDir: '/work' });
  expect(image.config).toMatchObject({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' } });
});

test('the layer holds every entry, sorted, parents first, with its owner, mode and content', async () => {
  const archive = path.join(work, 'layer.tar');
  await writeImageArchive(spec, archive);
  const { layer } = readImageArchive(readFileSync(archive));
  const paths = layer.map((entry) => entry.path);
  expect(paths).toEqual([...paths].sort());
  expect(paths).toEqual(expect.arrayContaining(['bin', 'etc', 'usr', 'opt', LONG_DIR.replace(/\/$/, '')]));
  const get = (p: string) => layer.find((entry) => entry.path === p)!;
  expect(get('bin/program')).toMatchObject({ type: 'file', mode: 0o755, uid: 0, gid: 0, mtime: 0 });
  expect(get('bin/program').content.toString()).toBe('#!/bin/sh\necho from the host\n');
  expect(get('etc/secret')).toMatchObject({ type: 'file', mode: 0o640, uid: 65532, gid: 65532 });
  expect(get('work')).toMatchObject({ type: 'dir', mode: 0o750, uid: 1000, gid: 1000 });
  expect(get('etc')).toMatchObject({ type: 'dir', mode: 0o755, uid: 0, gid: 0 }); // added as a parent
  expect(get('usr/bin')).toMatchObject({ type: 'symlink', target: '../bin' });
  expect(get(`${LONG_DIR}file-with-a-long-path`).content.toString()).toBe('deep');
  expect(get('long-link').target).toBe(LONG_TARGET);
  expect(get('capable').pax['SCHILY.xattr.security.capability']).toEqual(Buffer.from([1, 0, 0, 2, 0xff]));
});

test('GNU tar reads the layer the same way (an independent reader)', async () => {
  const archive = path.join(work, 'gnu.tar');
  await writeImageArchive(spec, archive);
  const { manifest } = readImageArchive(readFileSync(archive));
  const layerFile = path.join(work, 'layer.tar');
  const blob = readTar(readFileSync(archive)).find((entry) => entry.path === `blobs/sha256/${manifest.layers[0]!.digest.slice(7)}`)!;
  writeFileSync(layerFile, blob.content);
  const listing = execFileSync('tar', ['--numeric-owner', '-tvf', layerFile], { encoding: 'utf8' });
  expect(listing).toMatch(/^-rw-r----- 65532\/65532\s+6 1970-01-01 00:00 etc\/secret$/m);
  expect(listing).toMatch(/^drwxr-x--- 1000\/1000\s+0 1970-01-01 00:00 work\/$/m);
  expect(listing).toContain(`${LONG_DIR}file-with-a-long-path`);
  expect(listing).toContain(`long-link -> ${LONG_TARGET}`);
  expect(execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).split('\n')).toEqual(expect.arrayContaining(['oci-layout', 'index.json']));
});

test('a rebuild is byte-identical, and any change to a file changes the archive and the cache key', async () => {
  const first = path.join(work, 'first.tar');
  const second = path.join(work, 'second.tar');
  await writeImageArchive(spec, first);
  await writeImageArchive(spec, second);
  expect(readFileSync(second).equals(readFileSync(first))).toBe(true);
  expect(await specHash({ ...spec, files: [...spec.files].reverse() })).toBe(await specHash(spec)); // order-independent

  const changed = withFile(spec, { type: 'file', path: 'etc/secret', content: 'hellO\n', mode: 0o640, uid: 65532, gid: 65532 });
  const third = path.join(work, 'third.tar');
  await writeImageArchive(changed, third);
  expect(readFileSync(third).equals(readFileSync(first))).toBe(false);
  expect(await specHash(changed)).not.toBe(await specHash(spec));
  const chmodded = withFile(spec, { type: 'file', path: 'bin/program', source: path.join(work, 'host-program'), mode: 0o700, uid: 0, gid: 0 });
  expect(await specHash(chmodded)).not.toBe(await specHash(spec));
});

function withFile(image: ImageSpec, replacement: TarEntry): ImageSpec {
  return { ...image, files: image.files.map((entry) => (entry.path === replacement.path ? replacement : entry)) };
}

test('a corrupted layer is refused by the reader, naming the mismatch', async () => {
  const archive = path.join(work, 'corrupt.tar');
  await writeImageArchive(spec, archive);
  const bytes = readFileSync(archive);
  const { manifest } = readImageArchive(bytes);
  const layer = readTar(bytes).find((entry) => entry.path.endsWith(manifest.layers[0]!.digest.slice(7)))!;
  layer.content[layer.content.length - 1]! ^= 0xff; // subarray of `bytes`: flips the byte in the archive
  expect(() => readImageArchive(bytes)).toThrow(/layer: digest sha256:\w+, descriptor says sha256:/);
});

test('names are stored the way the CRI plugin looks them up', () => {
  expect(normalizeImageName('netlab-probe:dev')).toBe('docker.io/library/netlab-probe:dev');
  expect(normalizeImageName('someone/tool:1')).toBe('docker.io/someone/tool:1');
  expect(normalizeImageName('registry.k8s.io/pause:3.10.2')).toBe('registry.k8s.io/pause:3.10.2');
  expect(normalizeImageName('registry.k8s.io/coredns/coredns:v1.14.6')).toBe('registry.k8s.io/coredns/coredns:v1.14.6');
  expect(normalizeImageName('localhost:5000/x:y')).toBe('localhost:5000/x:y');
  expect(() => normalizeImageName('netlab-probe')).toThrow(/needs a tag/);
});

test('bad entry lists are refused, naming the entry', () => {
  const root = { uid: 0, gid: 0 };
  expect(() => normalizeEntries([{ type: 'dir', path: 'a', mode: 0o755, ...root }, { type: 'dir', path: 'a', mode: 0o700, ...root }])).toThrow('tar entry a is listed twice');
  expect(() => normalizeEntries([{ type: 'symlink', path: 'bin', target: 'usr/bin', ...root }, { type: 'file', path: 'bin/x', content: '', mode: 0o755, ...root }])).toThrow(
    'tar entry bin/x is under bin, which is a symlink',
  );
  expect(() => normalizeEntries([{ type: 'file', path: '/etc/x', content: '', mode: 0o644, ...root }])).toThrow(/must be relative/);
});
