// Reads a snapshot folder: the files `kubectl get ... -o yaml` (or -o json) and
// `calicoctl get ... -o yaml` write, one or more per file, as single objects, multi-document
// YAML, or List objects with items.
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { buildSnapshot, type SnapshotInput } from './build.ts';
import { isRecord, SnapshotError } from './fields.ts';
import type { ClusterSnapshot } from './types.ts';
import { parseYamlDocuments, YamlSyntaxError } from './yaml.ts';

const snapshotExtensions = new Set(['.yaml', '.yml', '.json']);

/**
 * Splits `kind: List` (what kubectl writes for several kinds at once) and typed lists (PodList,
 * WorkloadEndpointList) into their items. Items of a typed list as the API serves it carry no
 * apiVersion or kind, so they get the list's.
 */
function listItems(document: Record<string, unknown>): Record<string, unknown>[] | null {
  const { kind, apiVersion, items } = document;
  if (typeof kind !== 'string' || !kind.endsWith('List') || !Array.isArray(items)) return null;
  const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
  return items.map((item: unknown) => {
    if (!isRecord(item) || itemKind === undefined) return item as Record<string, unknown>;
    return { apiVersion, kind: itemKind, ...item };
  });
}

/**
 * The objects in one file's text. `fileName` names the source in every later error; a file with
 * several YAML documents names the document too. Invalid YAML fails with the line and column.
 */
export function parseSnapshotFile(fileName: string, text: string): SnapshotInput[] {
  let documents: unknown[];
  try {
    documents = parseYamlDocuments(text);
  } catch (error) {
    if (error instanceof YamlSyntaxError) throw new SnapshotError(`${fileName}: ${error.message}`);
    throw error;
  }
  // Empty documents (a trailing ---, a file of comments) hold nothing.
  const objects = documents
    .map((value, index) => ({ number: index + 1, value }))
    .filter(({ value }) => value !== null && value !== undefined);
  const inputs: SnapshotInput[] = [];
  for (const { number, value } of objects) {
    const source = objects.length > 1 ? `${fileName} (document ${number})` : fileName;
    if (!isRecord(value)) {
      const found = Array.isArray(value) ? 'a list' : `a ${typeof value}`;
      throw new SnapshotError(`${source}: expected a Kubernetes object (a mapping with apiVersion and kind), found ${found}`);
    }
    for (const object of listItems(value) ?? [value]) inputs.push({ source, object });
  }
  return inputs;
}

/** Every object in the folder's *.yaml, *.yml and *.json files (not in subfolders), files in name order. */
export async function readSnapshotDir(dir: string): Promise<SnapshotInput[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SnapshotError(`snapshot folder ${dir} does not exist`);
    if (code === 'ENOTDIR') throw new SnapshotError(`snapshot folder ${dir} is not a folder`);
    throw error;
  }
  const fileNames = entries
    .filter((entry) => !entry.isDirectory() && snapshotExtensions.has(extname(entry.name).toLowerCase()))
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (fileNames.length === 0) throw new SnapshotError(`snapshot folder ${dir} has no .yaml, .yml or .json files`);
  const inputs: SnapshotInput[] = [];
  for (const fileName of fileNames) {
    inputs.push(...parseSnapshotFile(fileName, await readFile(join(dir, fileName), 'utf8')));
  }
  if (inputs.length === 0) throw new SnapshotError(`snapshot folder ${dir} holds no objects (its files are empty)`);
  return inputs;
}

/** Loads a snapshot folder into the model's input. Throws SnapshotError naming the file, object and field. */
export async function loadSnapshotDir(dir: string): Promise<ClusterSnapshot> {
  return buildSnapshot(await readSnapshotDir(dir));
}
