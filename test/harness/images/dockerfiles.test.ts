// The Dockerfiles stay the source of truth for users with Docker; the harness builds the same images from
// local files (harness/images/recipes.ts). These tests read each Dockerfile and check that the builder puts
// the same files at the same paths, with the same user, working directory, environment and entrypoint,
// under the names manifests/ uses.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../../../harness/control-plane/binaries.ts';
import { debianCodename, imagePath, packageFiles } from '../../../harness/images/host-files.ts';
import { defaultContext } from '../../../harness/images/images.ts';
import type { ImageSpec } from '../../../harness/images/oci.ts';
import { normalizeEntries, type TarEntry } from '../../../harness/images/tar.ts';
import { nodeBinary, OPERATOR, PROBE, RECIPES } from '../../../harness/images/recipes.ts';
import { BUNDLE_FILES } from '../../../scripts/bundle-operator.ts';
import { all, envEntries, only, parseDockerfile, type Stage } from './dockerfile.ts';
import { findProgram, resolveInImage } from './image-files.ts';

const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
const finalStage = (file: string): Stage => parseDockerfile(read(file)).at(-1)!;
const entrypoint = (stage: Stage): string[] => JSON.parse(only(stage, 'ENTRYPOINT').args) as string[];

function sourceAt(spec: ImageSpec, imageFile: string): string | undefined {
  const entry = spec.files.find((file) => file.path === imageFile.replace(/^\//, ''));
  return entry?.type === 'file' ? entry.source : undefined;
}

describe('the images are named as manifests/ names them', () => {
  const images = readdirSync(path.join(PROJECT_ROOT, 'manifests/operator'))
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) => parseAllDocuments(read(`manifests/operator/${file}`)).map((doc) => doc.toJS()))
    .flatMap((object) => object?.spec?.template?.spec?.containers ?? [])
    .map((container: { name: string; image: string }) => [container.name, container.image]);

  test('operator and probe', () => {
    expect(Object.fromEntries(images)).toEqual({ operator: OPERATOR.name, probe: PROBE.name });
    expect(RECIPES.operator.name).toBe(OPERATOR.name);
    expect(RECIPES.probe.name).toBe(PROBE.name);
  });
});

describe('Dockerfile (the operator) and the builder agree', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const final = stages.at(-1)!;
  let spec: ImageSpec;
  let files: TarEntry[]; // with the parent directories the layer adds
  beforeAll(() => {
    spec = RECIPES.operator.spec(defaultContext()); // bundles the operator (a few seconds)
    files = normalizeEntries(spec.files);
  }, 300_000);

  test('user, working directory, environment and entrypoint', () => {
    expect(OPERATOR.config.user).toBe(only(final, 'USER').args);
    expect(OPERATOR.config.workingDir).toBe(only(final, 'WORKDIR').args);
    expect(OPERATOR.appDir).toBe(only(final, 'WORKDIR').args);
    expect(OPERATOR.config.env).toEqual(expect.arrayContaining(envEntries(final)));
    expect(OPERATOR.config.entrypoint).toEqual(entrypoint(final));
    expect(all(final, 'CMD')).toEqual([]);
    expect('cmd' in OPERATOR.config).toBe(false);
  });

  test('the node binary is the release the Dockerfile pins, at the node image\'s path, found through PATH', () => {
    const [, version] = /^node:(\d+\.\d+\.\d+)-/.exec(final.image)!;
    expect(nodeBinary(PROJECT_ROOT).version).toBe(version);
    expect(sourceAt(spec, OPERATOR.nodePath)).toBe(nodeBinary(PROJECT_ROOT).path);
    expect(findProgram(files, OPERATOR.config.entrypoint[0]!, OPERATOR.config.env, OPERATOR.config.workingDir)?.path).toBe(OPERATOR.nodePath.slice(1));
  });

  test('the bundle stage makes the bundle with the same copies and commands, and the final stage copies only it', () => {
    const bundleStage = stages.find((stage) => stage.name === OPERATOR.bundleStage.name)!;
    expect(bundleStage.image).toBe(final.image);
    expect(only(bundleStage, 'WORKDIR').args).toBe(OPERATOR.appDir);
    expect(all(bundleStage, 'COPY').map((copy) => copy.args)).toEqual(OPERATOR.bundleStage.copies);
    expect(all(bundleStage, 'RUN').map((run) => run.args)).toEqual(OPERATOR.bundleStage.runs);
    // the bundle command writes into the directory the final stage copies
    const outArg = OPERATOR.bundleStage.runs.at(-1)!.split(/\s+/).at(-1)!;
    expect(path.posix.resolve(OPERATOR.appDir, outArg) + '/').toBe(OPERATOR.bundleStage.outDir);
    expect(all(final, 'COPY').map((copy) => ({ ...copy.flags, args: copy.args }))).toEqual([{ from: OPERATOR.bundleStage.name, args: `${OPERATOR.bundleStage.outDir} ./` }]);
  });

  test('/app holds exactly what the bundle command writes (bundle, licenses, page assets): no sources, no node_modules', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'netlab-bundle-'));
    try {
      const [command, ...args] = OPERATOR.bundleStage.runs.at(-1)!.split(/\s+/);
      expect(command).toBe('node');
      execFileSync(process.execPath, [...args.slice(0, -1), out], { cwd: PROJECT_ROOT });
      const written = readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(out, path.join(e.parentPath, e.name))).sort();
      expect(written).toEqual(expect.arrayContaining([...Object.values(BUNDLE_FILES), 'assets/index.html']));
      const app = OPERATOR.appDir.slice(1);
      expect(spec.files.filter((f) => f.type === 'file' && f.path.startsWith(`${app}/`)).map((f) => f.path.slice(app.length + 1)).sort()).toEqual(written);
      for (const file of written) expect(readFileSync(sourceAt(spec, `${OPERATOR.appDir}/${file}`)!)).toEqual(readFileSync(path.join(out, file)));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    expect(resolveInImage(files, `${OPERATOR.appDir}/${OPERATOR.config.entrypoint[1]}`)).not.toBeNull();
  });

  test('the licenses name every production package the bundle took code from, and no dev package', () => {
    const text = readFileSync(sourceAt(spec, `${OPERATOR.appDir}/${BUNDLE_FILES.licenses}`)!, 'utf8');
    const named = [...text.matchAll(/^(\S+) (\d+\.\d+\.\d+\S*) \(/gm)].map((m) => `${m[1]}@${m[2]}`);
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean; version?: string }> };
    const production = new Set(Object.entries(lock.packages).filter(([key, info]) => key.startsWith('node_modules/') && !info.dev).map(([key, info]) => `${key.replace(/^.*node_modules\//, '')}@${info.version}`));
    expect(named.map((entry) => entry.replace(/@[^@]+$/, ''))).toEqual(expect.arrayContaining(['@kubernetes/client-node', 'dns-packet', 'undici', 'yaml']));
    // a name that is also a dev package may be bundled; the exact release must be a production one
    expect(named.filter((entry) => !production.has(entry))).toEqual([]);
  });

  test('npm, npx, corepack and yarn are gone, as the Dockerfile removes them', () => {
    const removed = only(final, 'RUN').args.replace(/^rm -rf /, '').split(/\s+/);
    expect(removed).toContain('/usr/local/bin/npm');
    for (const gone of removed) {
      const prefix = gone.replace(/\*$/, '').slice(1);
      expect(spec.files.filter((file) => file.path.startsWith(prefix)).map((file) => file.path)).toEqual([]);
    }
  });
});

describe('Dockerfile.probe and the builder agree', () => {
  const final = finalStage('Dockerfile.probe');
  let spec: ImageSpec;
  let files: TarEntry[];
  beforeAll(() => {
    spec = RECIPES.probe.spec(defaultContext());
    files = normalizeEntries(spec.files);
  }, 120_000);

  test('user, working directory and entrypoint; sleep, and the sh that runs a check\'s commands, found through PATH', () => {
    expect(PROBE.config.user).toBe(only(final, 'USER').args);
    expect(PROBE.config.entrypoint).toEqual(entrypoint(final));
    expect(all(final, 'WORKDIR')).toEqual([]); // Debian's default, /
    expect(PROBE.config.workingDir).toBe('/');
    expect(findProgram(files, 'sleep', PROBE.config.env, '/')).toMatchObject({ type: 'file', mode: 0o755 });
    expect(findProgram(files, 'sh', PROBE.config.env, '/')).toMatchObject({ type: 'file', path: 'usr/bin/dash', mode: 0o755 });
  });

  test('the same Debian release and the same packages as its apt-get install', () => {
    const [, codename] = /^debian:(\w+)-/.exec(final.image)!;
    expect(debianCodename()).toBe(codename);
    const install = only(final, 'RUN').args.split('&&').find((command) => command.includes('apt-get install'))!;
    const words = install.trim().split(/\s+/);
    expect(words.slice(words.indexOf('install') + 1).filter((word) => !word.startsWith('-'))).toEqual(PROBE.packages);
  });

  test('every program of those packages is at its path, with the libraries it loads', () => {
    const programs = PROBE.packages.flatMap(packageFiles).filter((file) => /\/s?bin\//.test(file));
    expect(programs.map((file) => imagePath(file))).toEqual(expect.arrayContaining(['usr/sbin/route', 'usr/sbin/ipvsadm', 'usr/bin/ip', 'usr/bin/dig']));
    for (const program of programs) expect(resolveInImage(files, `/${program}`)).not.toBeNull(); // also through /sbin → usr/sbin
    for (const tool of ['route', 'ipvsadm', 'ip', 'dig', 'nft', 'iptables-save']) expect(findProgram(files, tool, PROBE.config.env, '/')).not.toBeNull();
    // iptables-save is the nf_tables backend's, as update-alternatives sets it in the Docker build
    expect(resolveInImage(files, '/usr/sbin/iptables-save')).toMatchObject({ type: 'file', path: 'usr/sbin/xtables-nft-multi' });
    // nft and iptables-save print protocol names from it, and the extensions iptables-save loads by name
    expect(resolveInImage(files, '/etc/protocols')).toMatchObject({ type: 'file' });
    for (const extension of ['comment', 'statistic', 'recent', 'mark', 'nfacct']) expect(resolveInImage(files, `/usr/lib/x86_64-linux-gnu/xtables/libxt_${extension}.so`)).toMatchObject({ type: 'file' });
    expect(resolveInImage(files, '/lib64/ld-linux-x86-64.so.2')).toMatchObject({ type: 'file' });
    expect(resolveInImage(files, '/lib/x86_64-linux-gnu/libc.so.6')).toMatchObject({ type: 'file' });
  });
});
