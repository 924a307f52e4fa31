// The real options and dependencies of `netlab lab up|down|status`: processes, clock, network, the cache
// folder and this checkout's files. Tests replace them (test/lab/lab-orchestration.test.ts).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CALICO, httpDownload } from './calico.ts';
import { DEFAULT_CLUSTER, DEFAULT_PROXY_MODE, DEFAULT_WAIT_SECONDS, type ProxyMode } from './defaults.ts';
import type { LabDeps, LabOptions } from './lab.ts';
import { createProcessRunner } from './runner.ts';

/** The checkout this module belongs to: kind-config.yaml, the Dockerfiles and manifests/ live there. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'netlab');
}

/** The options of the lab commands as given on the command line. */
export interface LabCommandOptions {
  name?: string;
  verbose?: boolean;
  waitTimeout?: number;
  proxyMode?: ProxyMode;
}

export function labOptions(opts: LabCommandOptions): LabOptions {
  return {
    clusterName: opts.name ?? DEFAULT_CLUSTER,
    projectRoot: PROJECT_ROOT,
    cacheDir: defaultCacheDir(),
    waitSeconds: opts.waitTimeout ?? DEFAULT_WAIT_SECONDS,
    calico: CALICO,
    proxyMode: opts.proxyMode ?? DEFAULT_PROXY_MODE,
  };
}

export function createLabDeps(options: LabOptions, verbose: boolean): LabDeps {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  return {
    runner: createProcessRunner(options.projectRoot, verbose ? out : undefined),
    out,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    download: httpDownload,
  };
}

/** Where the lab commands get their options and dependencies; tests replace both. */
export interface LabEnvironment {
  options(cli: LabCommandOptions): LabOptions;
  deps(options: LabOptions, verbose: boolean): LabDeps;
}

export const REAL_ENVIRONMENT: LabEnvironment = { options: labOptions, deps: createLabDeps };
