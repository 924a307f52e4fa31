// An OCI image-layout writer: one image of one uncompressed layer, written as a single .tar archive
// (oci-layout, index.json, blobs/sha256/…) that `ctr -n k8s.io images import` loads under the image's name.
// Uncompressed because the archives only travel to the node VMs over 9p, and the VMs run under TCG, where
// gunzipping a layer at import took over a minute per image on a busy machine.
//
// Deterministic: the layer tar is (see tar.ts), and the config records no creation date, so the same spec
// gives the same bytes and the same image ID.
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileChunks, type ReadEntry, readTar, type TarEntry, tarChunks } from './tar.ts';

/** What an image runs: the fields of an OCI image config this project uses. */
export type ImageConfig = {
  entrypoint: string[];
  cmd?: string[];
  /** "uid:gid", numeric, so the kubelet can check runAsNonRoot */
  user: string;
  env: string[];
  workingDir: string;
};

export type ImageSpec = {
  /** the reference pods use, e.g. `netlab-probe:dev` or `registry.k8s.io/pause:3.10.2` */
  name: string;
  config: ImageConfig;
  /** the files of the image's one layer (paths relative to /) */
  files: TarEntry[];
};

const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;
const PLATFORM = { architecture: 'amd64', os: 'linux' } as const;

/**
 * The full name containerd stores for a reference, as the CRI plugin looks it up (Docker's normalization):
 * `netlab-probe:dev` → `docker.io/library/netlab-probe:dev`. A name without a tag is refused.
 */
export function normalizeImageName(reference: string): string {
  const match = /^(.+):([\w][\w.-]{0,127})$/.exec(reference);
  if (!match || match[1]!.includes('@')) throw new Error(`image name ${JSON.stringify(reference)} needs a tag (name:tag)`);
  const [, repository, tag] = match as unknown as [string, string, string];
  const first = repository.split('/')[0]!;
  const hasDomain = repository.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain) return `${repository}:${tag}`;
  return `docker.io/${repository.includes('/') ? '' : 'library/'}${repository}:${tag}`;
}

export type WrittenImage = { manifestDigest: string; configDigest: string; layerDigest: string };

/** Writes the image as an OCI image-layout archive at `outFile` (atomically: a temp file, then a rename). */
export async function writeImageArchive(spec: ImageSpec, outFile: string): Promise<WrittenImage> {
  const work = mkdtempSync(path.join(path.dirname(outFile), '.build-'));
  try {
    const layerFile = path.join(work, 'layer.tar.gz');
    const layer = await writeLayer(spec.files, layerFile);
    const config = json({
      ...PLATFORM,
      config: {
        Entrypoint: spec.config.entrypoint,
        ...(spec.config.cmd ? { Cmd: spec.config.cmd } : {}),
        User: spec.config.user,
        Env: spec.config.env,
        WorkingDir: spec.config.workingDir,
      },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    });
    const manifest = json({
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: MEDIA.config, digest: digest(config), size: config.length },
      layers: [{ mediaType: MEDIA.layer, digest: layer.digest, size: layer.size }],
    });
    const name = normalizeImageName(spec.name);
    const index = json({
      schemaVersion: 2,
      mediaType: MEDIA.index,
      manifests: [
        {
          mediaType: MEDIA.manifest,
          digest: digest(manifest),
          size: manifest.length,
          platform: PLATFORM,
          // ctr takes the name from the first; the OCI annotation holds the tag only, as containerd's exporter writes it
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.slice(name.lastIndexOf(':') + 1) },
        },
      ],
    });
    const blob = (d: string) => `blobs/sha256/${d.slice('sha256:'.length)}`;
    const root = { uid: 0, gid: 0, mode: 0o644 };
    const entries: TarEntry[] = [
      { type: 'file', path: 'oci-layout', content: json({ imageLayoutVersion: '1.0.0' }), ...root },
      { type: 'file', path: 'index.json', content: index, ...root },
      { type: 'file', path: blob(digest(config)), content: config, ...root },
      { type: 'file', path: blob(digest(manifest)), content: manifest, ...root },
      { type: 'file', path: blob(layer.digest), source: layerFile, ...root },
    ];
    const partial = path.join(work, 'image.tar');
    await pipeline(Readable.from(tarChunks(entries)), createWriteStream(partial));
    renameSync(partial, outFile);
    return { manifestDigest: digest(manifest), configDigest: digest(config), layerDigest: layer.digest };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The layer tar with its digest (stored uncompressed, so its digest is also its diff ID). */
async function writeLayer(files: TarEntry[], outFile: string): Promise<{ diffId: string; digest: string; size: number }> {
  const layer = hashing();
  await pipeline(Readable.from(tarChunks(files)), layer.tap, createWriteStream(outFile));
  const digest = layer.digest();
  return { diffId: digest, digest, size: layer.size() };
}

function hashing(): { tap: Transform; digest: () => string; size: () => number } {
  const hash: Hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  return { tap, digest: () => `sha256:${hash.digest('hex')}`, size: () => size };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function digest(content: Buffer): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/**
 * The cache key of a spec: its name, config and every entry with the SHA-256 of its content, so an
 * archive is rebuilt exactly when something that goes into it changed.
 */
export async function specHash(spec: ImageSpec): Promise<string> {
  const hash = createHash('sha256').update(json({ format: 2, name: spec.name, config: spec.config }));
  const sorted = [...spec.files].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  for (const entry of sorted) {
    const { source, content, xattrs, ...meta } = entry as TarEntry & { source?: string; content?: Buffer | string; xattrs?: Record<string, Buffer> };
    hash.update(json({ ...meta, xattrs: Object.entries(xattrs ?? {}).map(([k, v]) => [k, v.toString('hex')]) }));
    if (content !== undefined) hash.update(content);
    if (source !== undefined) for await (const chunk of fileChunks(source)) hash.update(chunk);
  }
  return hash.digest('hex');
}

/** An archive parsed back: the index, manifest, config and layer entries, every digest and size checked. */
export type ReadImage = {
  name: string;
  index: { manifests: Descriptor[] };
  manifest: { config: Descriptor; layers: Descriptor[] };
  config: { architecture: string; os: string; config: { Entrypoint: string[]; Cmd?: string[]; User: string; Env: string[]; WorkingDir: string }; rootfs: { diff_ids: string[] } };
  layer: ReadEntry[];
};
type Descriptor = { mediaType: string; digest: string; size: number; annotations?: Record<string, string>; platform?: { architecture: string; os: string } };

/** Reads an image-layout archive written by writeImageArchive and checks it; throws naming the first mismatch. */
export function readImageArchive(archive: Buffer): ReadImage {
  const files = new Map(readTar(archive).map((entry) => [entry.path, entry.content]));
  const file = (name: string): Buffer => {
    const content = files.get(name);
    if (!content) throw new Error(`the archive has no ${name}`);
    return content;
  };
  const blob = (descriptor: Descriptor, what: string): Buffer => {
    const content = file(`blobs/sha256/${descriptor.digest.replace(/^sha256:/, '')}`);
    if (content.length !== descriptor.size) throw new Error(`${what}: ${content.length} bytes, descriptor says ${descriptor.size}`);
    if (digest(content) !== descriptor.digest) throw new Error(`${what}: digest ${digest(content)}, descriptor says ${descriptor.digest}`);
    return content;
  };
  const layout = JSON.parse(file('oci-layout').toString());
  if (layout.imageLayoutVersion !== '1.0.0') throw new Error(`oci-layout says version ${layout.imageLayoutVersion}`);
  const index = JSON.parse(file('index.json').toString()) as ReadImage['index'];
  const [entry, ...more] = index.manifests;
  if (!entry || more.length > 0) throw new Error(`index.json lists ${index.manifests.length} manifests, expected 1`);
  const manifest = JSON.parse(blob(entry, 'manifest').toString()) as ReadImage['manifest'];
  const config = JSON.parse(blob(manifest.config, 'config').toString()) as ReadImage['config'];
  if (manifest.layers.length !== 1) throw new Error(`the manifest lists ${manifest.layers.length} layers, expected 1`);
  const layerTar = blob(manifest.layers[0]!, 'layer');
  if (digest(layerTar) !== config.rootfs.diff_ids[0]) throw new Error(`layer diff ID ${digest(layerTar)}, config says ${config.rootfs.diff_ids[0]}`);
  return { name: entry.annotations?.['io.containerd.image.name'] ?? '', index, manifest, config, layer: readTar(layerTar) };
}
