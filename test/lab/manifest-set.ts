// The objects a kustomization produces, for tests that must run without kubectl: it follows `resources`
// (files, and folders holding a kustomization.yaml) and nothing else. Any other kustomize feature is
// refused by name, so a manifest change that needs real kustomize makes the tests say so instead of
// testing something else than what `kubectl apply -k` would apply.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [field: string]: unknown };
  [field: string]: unknown;
}

export interface SourcedObject {
  object: ManifestObject;
  /** the file it came from, relative to the project root */
  source: string;
}

const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'resources']);

export const PROJECT_ROOT = resolve(new URL('../../', import.meta.url).pathname);

/** "kind namespace/name" (or "kind name" for cluster-scoped objects): how tests name an object. */
export function objectId(o: ManifestObject): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

export function readManifestFile(file: string): ManifestObject[] {
  const where = relative(PROJECT_ROOT, file);
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((doc, i) => {
    if (doc.errors.length) throw new Error(`${where}: document ${i + 1}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as ManifestObject | null;
    if (value === null) return [];
    if (typeof value.apiVersion !== 'string' || typeof value.kind !== 'string' || typeof value.metadata?.name !== 'string') {
      throw new Error(`${where}: document ${i + 1} lacks apiVersion, kind or metadata.name`);
    }
    return [value];
  });
}

/** Every object the kustomization in `dir` lists, directly or through nested kustomizations, in order. */
export function loadKustomization(dir: string, visiting: string[] = []): SourcedObject[] {
  const abs = resolve(dir);
  const file = join(abs, 'kustomization.yaml');
  const where = relative(PROJECT_ROOT, file);
  if (visiting.includes(abs)) throw new Error(`${where}: kustomization cycle through ${visiting.map((v) => relative(PROJECT_ROOT, v)).join(' -> ')}`);
  if (!existsSync(file)) throw new Error(`${relative(PROJECT_ROOT, abs)}: no kustomization.yaml`);
  const doc = parseAllDocuments(readFileSync(file, 'utf8'))[0]?.toJS() as Record<string, unknown> | undefined;
  const unsupported = Object.keys(doc ?? {}).filter((k) => !SUPPORTED_FIELDS.has(k));
  if (unsupported.length) {
    throw new Error(`${where} uses ${unsupported.join(', ')}: test/lab/manifest-set.ts follows only resources; render it with kubectl kustomize instead`);
  }
  const resources = doc?.resources ?? [];
  if (!Array.isArray(resources)) throw new Error(`${where}: resources must be a list`);
  return resources.flatMap((entry): SourcedObject[] => {
    if (typeof entry !== 'string') throw new Error(`${where}: resources entries must be paths`);
    if (/^[a-z]+:\/\//.test(entry)) throw new Error(`${where}: remote resource ${entry} cannot be read offline`);
    const target = resolve(abs, entry);
    if (!existsSync(target)) throw new Error(`${where}: resource ${entry} does not exist`);
    if (statSync(target).isDirectory()) return loadKustomization(target, [...visiting, abs]);
    return readManifestFile(target).map((object) => ({ object, source: relative(PROJECT_ROOT, target) }));
  });
}
