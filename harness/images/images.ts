// Builds the node cluster's images as OCI archives in $NETLAB_CACHE_DIR/images/<id>.tar, for
// `ctr -n k8s.io images import`. An archive is rebuilt only when its inputs changed: the hash of the
// spec (name, config, every file's metadata and content) is kept next to it in <id>.tar.inputs.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir, PROJECT_ROOT } from '../control-plane/binaries.ts';
import { normalizeImageName, specHash, writeImageArchive } from './oci.ts';
import { type BuildContext, type ImageId, RECIPES } from './recipes.ts';

export { type ImageId, RECIPES } from './recipes.ts';

export type BuiltImage = {
  id: ImageId;
  /** the reference pods use */
  name: string;
  /** the full name containerd lists after import (`ctr -n k8s.io images ls -q`) */
  containerdName: string;
  archive: string;
  bytes: number;
  seconds: number;
  /** false when the archive was already up to date */
  rebuilt: boolean;
};

export function defaultContext(): BuildContext {
  return { projectRoot: PROJECT_ROOT, cacheDir: cacheDir() };
}

export function archivePath(id: ImageId, context: BuildContext = defaultContext()): string {
  return path.join(context.cacheDir, 'images', `${id}.tar`);
}

export async function buildImage(id: ImageId, context: BuildContext = defaultContext()): Promise<BuiltImage> {
  const started = performance.now();
  const spec = RECIPES[id].spec(context);
  const inputs = await specHash(spec);
  const archive = archivePath(id, context);
  const stamp = `${archive}.inputs`;
  const upToDate = existsSync(archive) && existsSync(stamp) && readFileSync(stamp, 'utf8') === inputs;
  if (!upToDate) {
    mkdirSync(path.dirname(archive), { recursive: true });
    await writeImageArchive(spec, archive);
    writeFileSync(stamp, inputs);
  }
  return {
    id,
    name: spec.name,
    containerdName: normalizeImageName(spec.name),
    archive,
    bytes: statSync(archive).size,
    seconds: (performance.now() - started) / 1000,
    rebuilt: !upToDate,
  };
}
