// `netlab lab up|down|status` on the command line: option parsing and the real dependencies
// (processes, clock, network) around the orchestration in lab.ts.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';
import { CALICO, httpDownload } from './calico.ts';
import { DEFAULT_CLUSTER, DEFAULT_WAIT_SECONDS, type LabDeps, LabError, type LabOptions, labDown, labStatus, labUp } from './lab.ts';
import { createProcessRunner } from './runner.ts';

/** The checkout this module belongs to: kind-config.yaml, the Dockerfiles and manifests/ live there. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'netlab');
}

interface LabCommandOptions {
  name?: string;
  verbose?: boolean;
  waitTimeout?: number;
}

export function labOptions(opts: LabCommandOptions): LabOptions {
  return {
    clusterName: opts.name ?? DEFAULT_CLUSTER,
    projectRoot: PROJECT_ROOT,
    cacheDir: defaultCacheDir(),
    waitSeconds: opts.waitTimeout ?? DEFAULT_WAIT_SECONDS,
    calico: CALICO,
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

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('give a whole number of seconds, e.g. 600');
  return n;
}

/** Where the lab commands get their options and dependencies; tests replace both. */
export interface LabEnvironment {
  options(cli: LabCommandOptions): LabOptions;
  deps(options: LabOptions, verbose: boolean): LabDeps;
}

export const REAL_ENVIRONMENT: LabEnvironment = { options: labOptions, deps: createLabDeps };

/**
 * Adds `lab up`, `lab down` and `lab status` to the program. Exit codes go through `setExitCode`:
 * 0 when the command did what it says, 1 when a step failed (its message names the step and how to retry).
 */
export function registerLabCommands(
  program: Command,
  setExitCode: (code: number) => void,
  env: LabEnvironment = REAL_ENVIRONMENT,
): Command {
  const lab = program.command('lab')
    .description('A local kind cluster for learning: 3 nodes, Calico in IPIP mode, kube-proxy in IPVS mode, the netlab\n'
      + 'operator and its sample labs. Needs Docker, kind (>= 0.33) and kubectl (>= 1.36).');

  const run = (action: (options: LabOptions, deps: LabDeps) => Promise<number>) => async (opts: LabCommandOptions) => {
    const options = env.options(opts);
    try {
      setExitCode(await action(options, env.deps(options, opts.verbose ?? false)));
    } catch (e) {
      if (!(e instanceof LabError)) throw e;
      process.stderr.write(`${e.message}\n`);
      setExitCode(1);
    }
  };

  lab.command('up')
    .description('Create the cluster (or finish a half-made one), install Calico, build and load the images, install the\n'
      + 'CRD, the operator and the sample labs, and wait until every lab reports. Running it again fixes what is missing.')
    .option('--name <cluster>', 'kind cluster name (kubectl context kind-<name>)', 'netlab')
    .option('--wait-timeout <seconds>', 'longest wait for any one thing to become ready', positiveSeconds, DEFAULT_WAIT_SECONDS)
    .option('-v, --verbose', 'show the output of every docker, kind and kubectl command as it runs')
    .action(run(async (options, deps) => {
      await labUp(options, deps);
      return 0;
    }));

  lab.command('down')
    .description('Delete the kind cluster (and with it everything lab up installed).')
    .option('--name <cluster>', 'kind cluster name', 'netlab')
    .option('-v, --verbose', 'show the output of kind as it runs')
    .action(run(async (options, deps) => {
      await labDown(options, deps);
      return 0;
    }));

  lab.command('status')
    .description('Show the cluster, Calico, kube-proxy, CoreDNS, the netlab pods and the labs.\n'
      + 'Exit code 0 when the cluster exists and every lab is Ready=True, 1 otherwise.')
    .option('--name <cluster>', 'kind cluster name', 'netlab')
    .action(run(async (options, deps) => {
      const status = await labStatus(options, deps);
      const allReady = status.clusterExists && status.labs.length > 0 && status.labs.every((l) => l.ready === 'True');
      return allReady ? 0 : 1;
    }));

  return lab;
}
