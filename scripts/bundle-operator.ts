// The operator as one JavaScript file: src/operator/main.ts with every module it imports (its own and
// node_modules'), which is what the operator image runs (Dockerfile; harness/images/recipes.ts). Next to
// it, the web page's assets, which the code reads at run time from beside itself (src/web/handler.ts), and
// the licenses of the packages bundled into it, since the image no longer carries their node_modules.
//
// Why a bundle: Node.js resolves, reads and compiles each ES module on its own, and the operator's graph
// is about 1,100 files, most of them @kubernetes/client-node's. On a slow node that decides whether the Pod
// passes its startup probe; bench/operator-start.bench.ts measures the difference.
//
//   node scripts/bundle-operator.ts [OUT_DIR]     (default dist/)
import { buildSync } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

/** The bundle directory's script and licenses; beside them, the `assets` directory. */
export const BUNDLE_FILES = { script: 'operator.mjs', licenses: 'operator-licenses.txt' } as const;
const ASSETS = { from: 'src/web/assets', to: 'assets' } as const;

/**
 * Writes the bundle, its licenses and the page's assets into `outDir` (created). Deterministic: same
 * sources, same bytes.
 */
export function bundleOperator(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  const result = buildSync({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: ['src/operator/main.ts'],
    outfile: path.join(outDir, BUNDLE_FILES.script),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Some dependencies are CommonJS and require Node's own modules; an ES module has no `require`, so the
    // bundle makes one (esbuild's require shim uses it when it exists).
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    // debug requires supports-color inside a try, for colours on a terminal; here it is only a dev
    // package (jest's), which a production install lacks, so the bundle leaves it out as well
    external: ['supports-color'],
    legalComments: 'eof',
    metafile: true,
    logLevel: 'silent',
  });
  for (const warning of result.warnings) process.stderr.write(`bundle-operator: warning: ${warning.text}\n`);
  writeFileSync(path.join(outDir, BUNDLE_FILES.licenses), licenses(Object.keys(result.metafile.inputs)));
  cpSync(path.join(PROJECT_ROOT, ASSETS.from), path.join(outDir, ASSETS.to), { recursive: true });
}

/** Every package a bundled input came from, with its version, declared license and LICENSE file. */
function licenses(inputs: string[]): string {
  const packageDirs = new Set<string>();
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packageDirs.add(match[1]!);
  }
  const sections = [...packageDirs].sort().map((dir) => {
    const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, dir, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
    const file = existsSync(path.join(PROJECT_ROOT, dir)) ? readdirSync(path.join(PROJECT_ROOT, dir)).find((name) => /^(licen[cs]e|copying)(\.|$)/i.test(name)) : undefined;
    const text = file ? readFileSync(path.join(PROJECT_ROOT, dir, file), 'utf8').trim() : `(no license file in the package; package.json says ${manifest.license ?? 'nothing'})`;
    return `${manifest.name} ${manifest.version} (${manifest.license ?? 'license not declared'})\n\n${text}\n`;
  });
  return `The netlab operator bundle (${BUNDLE_FILES.script}) contains code from these packages:\n\n${sections.join(`\n${'-'.repeat(72)}\n\n`)}`;
}

if (import.meta.main) {
  const outDir = path.resolve(process.argv[2] ?? path.join(PROJECT_ROOT, 'dist'));
  bundleOperator(outDir);
  process.stdout.write(`wrote ${path.join(path.relative(process.cwd(), outDir) || '.', BUNDLE_FILES.script)} and ${BUNDLE_FILES.licenses}\n`);
}
