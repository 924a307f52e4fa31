// `netlab lab up|down|status` on the command line: the options, and the orchestration (lab.ts) in its real
// environment (environment.ts). Both are loaded when a lab command runs, not when netlab starts.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CLUSTER, DEFAULT_PROXY_MODE, DEFAULT_WAIT_SECONDS, PROXY_MODES } from './defaults.ts';
import type { LabCommandOptions, LabEnvironment } from './environment.ts';
import type { LabDeps, LabOptions } from './lab.ts';

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('give a whole number of seconds, e.g. 600');
  return n;
}

type LabModule = typeof import('./lab.ts');

/**
 * Adds `lab up`, `lab down` and `lab status` to the program. Exit codes go through `setExitCode`:
 * 0 when the command did what it says, 1 when a step failed (its message names the step and how to retry).
 * Without `env`, the real environment is used.
 */
export function registerLabCommands(program: Command, setExitCode: (code: number) => void, env?: LabEnvironment): Command {
  const lab = program.command('lab')
    .summary('A local kind cluster for learning, with netlab installed.')
    .description('A local kind cluster for learning: 3 nodes, Calico in IPIP mode, kube-proxy in IPVS mode (or nftables or '
      + 'iptables mode: lab up --proxy-mode), the netlab operator and its sample labs. It needs Docker, kind (0.33 or newer) '
      + 'and kubectl (1.36 or newer).');

  const run = (action: (lab: LabModule, options: LabOptions, deps: LabDeps) => Promise<number>) => async (opts: LabCommandOptions) => {
    const [labModule, environment] = await Promise.all([
      import('./lab.ts'),
      env ?? import('./environment.ts').then((m) => m.REAL_ENVIRONMENT),
    ]);
    const options = environment.options(opts);
    try {
      setExitCode(await action(labModule, options, environment.deps(options, opts.verbose ?? false)));
    } catch (e) {
      if (!(e instanceof labModule.LabError)) throw e;
      process.stderr.write(`${e.message}\n`);
      setExitCode(1);
    }
  };

  lab.command('up')
    .summary('Create or repair the lab cluster and wait until every lab reports.')
    .description('Create the cluster (or finish a half-made one), install Calico, build and load the images, install the '
      + 'CRD, the operator and the sample labs, and wait until every lab reports. Running it again fixes what is missing.\n'
      + 'kube-proxy\'s mode (--proxy-mode) is chosen when the cluster is created; the labs check whichever it is:\n'
      + '  ipvs: an IPVS virtual server per Service port (ipvsadm -Ln); the article\'s.\n'
      + '  nftables: maps and a chain per Service port (nft list table ip kube-proxy).\n'
      + '  iptables: KUBE-SVC-/KUBE-SEP- chains (iptables-save); most clusters\' mode.')
    .option('--name <cluster>', 'The kind cluster\'s name (kubectl context kind-<name>).', DEFAULT_CLUSTER)
    .option('--wait-timeout <seconds>', 'The longest wait for any one thing to become ready.', positiveSeconds, DEFAULT_WAIT_SECONDS)
    .addOption(new Option('--proxy-mode <mode>', 'kube-proxy\'s mode in a new cluster (see above).').choices(PROXY_MODES).default(DEFAULT_PROXY_MODE))
    .option('-v, --verbose', 'Show the output of every docker, kind and kubectl command as it runs.')
    .action(run(async (labModule, options, deps) => {
      await labModule.labUp(options, deps);
      return 0;
    }));

  lab.command('down')
    .summary('Delete the lab cluster.')
    .description('Delete the kind cluster, and with it everything lab up installed.')
    .option('--name <cluster>', 'The kind cluster\'s name.', DEFAULT_CLUSTER)
    .option('-v, --verbose', 'Show the output of kind as it runs.')
    .action(run(async (labModule, options, deps) => {
      await labModule.labDown(options, deps);
      return 0;
    }));

  lab.command('status')
    .summary('Show where the lab cluster and its labs stand.')
    .description('Show the cluster, Calico, kube-proxy, CoreDNS, the netlab pods and the labs. '
      + 'The exit code is 0 when the cluster exists and every lab is Ready=True, 1 otherwise.')
    .option('--name <cluster>', 'The kind cluster\'s name.', DEFAULT_CLUSTER)
    .action(run(async (labModule, options, deps) => {
      const status = await labModule.labStatus(options, deps);
      const allReady = status.clusterExists && status.labs.length > 0 && status.labs.every((l) => l.ready === 'True');
      return allReady ? 0 : 1;
    }));

  return lab;
}
