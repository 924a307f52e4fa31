// Imports follow the data flow: a folder of src/ may import only from folders below it in LAYERS.
// `npm run lint:imports` prints every import that points up (or sideways, or out of src/) and exits 1;
// test/architecture/import-direction.test.ts runs the same check.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The data flow, top to bottom: snapshot of cluster objects -> model's expected state -> observed state
 * -> findings (compare) -> explanations -> check -> report, command line and operator. IP arithmetic, the
 * Kubernetes API client and the tools' text formats sit below everything that uses them. Folders in one row may not import each other.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['cli'],
  ['lab', 'demo', 'report', 'operator'],
  ['web'],
  ['observe', 'check', 'trace'],
  ['explain'],
  ['compare'],
  ['render', 'observation'],
  ['model'],
  ['parse', 'snapshot'],
  ['net', 'kube'],
];

export interface ImportArrow {
  /** the importing file, relative to the source root */
  file: string;
  /** the import as written */
  specifier: string;
  from: string;
  to: string;
}

// Static imports and re-exports (also `import type`, over several lines), side-effect imports, import().
const IMPORT_PATTERN = /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** Every import of one folder's file from another folder of the source root (relative imports only). */
export function crossFolderImports(root: string): ImportArrow[] {
  const arrows: ImportArrow[] = [];
  for (const file of sourceFiles(root)) {
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const match of text.matchAll(IMPORT_PATTERN)) {
      const specifier = match[1] ?? match[2] ?? match[3]!;
      if (!specifier.startsWith('.')) continue; // packages and node: builtins
      const target = path.relative(root, path.resolve(root, path.dirname(file), specifier));
      const from = topFolder(file);
      const to = target.startsWith('..') ? '(outside the source root)' : topFolder(target);
      if (from !== to) arrows.push({ file, specifier, from, to });
    }
  }
  return arrows;
}

/** The imports that do not point down LAYERS, and the folders LAYERS does not place, each as one readable line. */
export function importDirectionProblems(root: string, layers = LAYERS): string[] {
  const rank = new Map<string, number>();
  layers.forEach((row, index) => row.forEach((folder) => rank.set(folder, index)));
  const problems: string[] = [];
  const folders = new Set(sourceFiles(root).map(topFolder));
  for (const folder of [...folders].sort()) {
    if (!rank.has(folder)) problems.push(`${folder}: not placed in the data flow; add it to LAYERS in scripts/import-direction.ts`);
  }
  for (const arrow of crossFolderImports(root)) {
    const from = rank.get(arrow.from);
    const to = rank.get(arrow.to);
    if (from === undefined) continue; // reported above
    if (to === undefined || to <= from) {
      const how = to === undefined ? 'outside the data flow' : to === from ? 'a folder of the same row' : 'a folder above it';
      problems.push(`${arrow.file}: imports ${arrow.specifier} (${arrow.from} -> ${arrow.to}, ${how})`);
    }
  }
  return problems;
}

function sourceFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.split(path.sep).join('/'))
    .sort();
}

/** "model" for "model/dns/names.ts"; a file directly in the root is its own folder ("main.ts"). */
function topFolder(file: string): string {
  return file.split(/[\\/]/)[0]!;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../src/', import.meta.url));
  const problems = importDirectionProblems(root);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) process.exitCode = 1;
  else console.log(`imports follow the data flow: ${LAYERS.map((row) => row.join('/')).join(' -> ')}`);
}
