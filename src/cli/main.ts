#!/usr/bin/env node
// netlab's command line. Each command is a thin shell around the pure core (snapshot -> model -> compare
// -> explain -> report); exit codes: 0 everything matches, 1 findings, 2 usage or input errors.
import { Command, CommanderError, Option } from 'commander';
import { ParseError } from '../parse/types.ts';
import { SnapshotError } from '../snapshot/fields.ts';
import { ObservationError } from '../observe/files.ts';
import { offlineCheckCommand } from './commands/check.ts';
import { demoCommand } from './commands/demo.ts';
import { expectCommand } from './commands/expect.ts';
import { explainCommand } from './commands/explain.ts';
import { parseCommand } from './commands/parse.ts';
import { liveCheckCommand, liveExplainCommand } from './commands/live.ts';
import { traceCommand } from './commands/trace.ts';
import { registerLabCommands } from '../lab/commands.ts';
import { EXIT, FORMATS, UsageError } from './io.ts';

const formatOption = () => new Option('--format <format>', 'which tool\'s output: route (`route -n`), ipvsadm (`ipvsadm -Ln`), resolv (/etc/resolv.conf)').choices(FORMATS).makeOptionMandatory();
const namespaceOption = () => new Option('--namespace <ns>', 'namespace of the pod whose resolv.conf is checked').default('default');
const dnsPolicyOption = () => new Option('--dns-policy <policy>', 'dnsPolicy of that pod').choices(['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None']).default('ClusterFirst');

export function buildProgram(): Command {
  const program = new Command('netlab')
    .description('See and check how a packet finds a pod in Kubernetes: the routes Calico programs on each node (`route -n`),\n'
      + 'the virtual servers kube-proxy programs in IPVS mode (`ipvsadm -Ln`), the answers CoreDNS must give, and the\n'
      + 'resolv.conf a pod gets. netlab computes what each must be from the cluster\'s objects, compares it with what the\n'
      + 'node really shows, and explains every line in plain words.')
    .version('0.1.0')
    .exitOverride() // before the subcommands, which inherit it: usage errors become exit code 2, not 1
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `
Where to start:
  netlab demo                          the whole check on a built-in 3-node cluster, then with injected faults
  route -n | netlab explain - --format route
                                       what each line of your node's routing table means
  netlab check --snapshot snap/ --observed obs/
                                       check a cluster you captured (see \`netlab check --help\`)

Exit codes: 0 everything matches, 1 findings, 2 usage or input error.`);

  program.command('demo')
    .description('Run the whole pipeline on the built-in example (the cluster of the source article), then inject faults\n(a stale real server, a missing tunnel route, a wrong scheduler, a wrong ndots) and show the findings.')
    .option('--no-explain', 'print the tables without the explanation under each line')
    .action(async (opts) => exit(await demoCommand(opts)));

  program.command('check')
    .description('Check a cluster against the model. Two ways:\n'
      + '  offline: --snapshot DIR --observed DIR   captured files (below), no cluster needed\n'
      + '  live:    [--lab NAME | --all]           the current kubeconfig context, observed through the\n'
      + '                                          netlab-probe DaemonSet (routes and IPVS of every node)')
    .option('--snapshot <dir>', 'offline: folder of `kubectl get ... -o yaml` files (see below)')
    .option('--observed <dir>', 'offline: folder with <node>/route-n.txt, <node>/ipvsadm-Ln.txt, and optionally resolv.conf and dns.json')
    .option('--lab <name>', 'live: check as this NetworkLab says (its checks and node selector)')
    .option('--all', 'live: check every NetworkLab in the cluster')
    .option('--lab-namespace <ns>', 'live: namespace of --lab', 'default')
    .option('--kubeconfig <path>', 'live: kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--layers <list>', 'offline: comma-separated layers to check: routes,ipvs,dns,resolvconf (default all)')
    .option('--node <name...>', 'offline: only these nodes (default: every node folder in --observed)')
    .addOption(namespaceOption())
    .addOption(dnsPolicyOption())
    .option('--json', 'print the report as JSON (findings, counts, annotated lines)')
    .option('--no-explain', 'print the tables without explanations')
    .addHelpText('after', `
Capturing a cluster for the offline check (any kubectl context):
  mkdir snap && kubectl get nodes,pods,services,endpointslices,namespaces -A -o yaml > snap/cluster.yaml
  kubectl -n kube-system get configmap kube-proxy coredns -o yaml > snap/config.yaml
  kubectl get ippools.crd.projectcalico.org,ipamblocks.crd.projectcalico.org -o yaml > snap/calico.yaml   # if Calico
Capturing a node (for each node, in a folder named after it):
  mkdir -p obs/NODE && ssh NODE route -n > obs/NODE/route-n.txt && ssh NODE ipvsadm -Ln > obs/NODE/ipvsadm-Ln.txt
  kubectl exec POD -- cat /etc/resolv.conf > obs/resolv.conf      # with --namespace of that pod

The live check needs netlab installed in the cluster (kubectl apply -k manifests/, or netlab lab up);
DNS and resolv.conf are checked by the operator from inside the cluster: kubectl get nlab.

Exit codes: 0 everything matches, 1 findings, 2 usage or input error (no cluster, no CRD, no probe).`)
    .action(async (opts) => {
      if (opts.snapshot || opts.observed) {
        if (!opts.snapshot || !opts.observed) throw new UsageError('the offline check needs both --snapshot DIR and --observed DIR');
        if (opts.lab || opts.all) throw new UsageError('--lab/--all check a live cluster; --snapshot/--observed check captured files: choose one');
        return exit(await offlineCheckCommand(opts));
      }
      exit(await liveCheckCommand({ ...opts, labNamespace: opts.labNamespace }));
    });

  program.command('expect')
    .description('Print what the model expects on a node, in the tool\'s own text format, to diff against the real command:\n  diff <(netlab expect --snapshot snap --node n1 --format ipvsadm) <(ssh n1 ipvsadm -Ln)\nFor route, only the rows the CNI owns are printed (not the default route or host subnets).')
    .requiredOption('--snapshot <dir>', 'folder of `kubectl get ... -o yaml` files')
    .option('--node <name>', 'the node (required for route and ipvsadm)')
    .addOption(formatOption())
    .addOption(namespaceOption())
    .addOption(dnsPolicyOption())
    .action(async (opts) => exit(await expectCommand(opts)));

  program.command('explain')
    .argument('[file]', 'the output to explain; - or nothing reads standard input')
    .description('Annotate real output line by line. With --snapshot, every line is also checked against the model\nand lines that should be there but are not are added.')
    .addOption(formatOption())
    .option('--snapshot <dir>', 'folder of `kubectl get ... -o yaml` files: explain with the cluster\'s objects')
    .option('--node <name>', 'which node the output comes from (guessed from the snapshot when omitted)')
    .option('--live', 'read the output now from --node through the netlab-probe DaemonSet (route or ipvsadm)')
    .option('--kubeconfig <path>', 'with --live: kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .addOption(namespaceOption())
    .addOption(dnsPolicyOption())
    .action(async (file, opts) => {
      if (!opts.live) return exit(await explainCommand(file, opts));
      if (file) throw new UsageError('--live reads the node itself: give no FILE');
      if (!opts.node) throw new UsageError('--live needs --node NAME');
      if (opts.format === 'resolv') throw new UsageError('--live explains route or ipvsadm output of a node');
      exit(await liveExplainCommand(opts));
    });

  program.command('trace')
    .description('Follow one packet from a pod (or a node) to a name or an address, hop by hop: name resolution with the\n'
      + 'search list under ndots, the Service\'s virtual server and its backends, the longest-prefix match on each node\n'
      + '(expected and observed), the tunnel, the veth into the pod, and the reply. Each hop has a verdict:\n'
      + 'OK, BROKEN, NOT OBSERVED (the model\'s answer only) or UNKNOWN (netlab cannot tell).\n'
      + '  offline: --snapshot DIR [--observed DIR]   captured files (as for `netlab check`)\n'
      + '  live:    (no --snapshot)                   the current kubeconfig context; the nodes on the path are\n'
      + '                                             observed through the netlab-probe DaemonSet')
    .requiredOption('--from <pod|node>', 'where the packet starts: NAMESPACE/POD, a pod name, or a node name')
    .requiredOption('--to <dest>', 'where it goes: NAME[:PORT] (resolved as the pod\'s resolver would) or IP:PORT')
    .addOption(new Option('--protocol <protocol>', 'the protocol (default: the first the Service lists)').choices(['TCP', 'UDP', 'SCTP']))
    .option('--endpoint <ip>', 'follow this backend of the Service (default: the first one listed)')
    .option('--snapshot <dir>', 'offline: folder of `kubectl get ... -o yaml` files')
    .option('--observed <dir>', 'offline: folder of captured node output (see `netlab check --help`)')
    .option('--kubeconfig <path>', 'live: kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .addOption(namespaceOption())
    .addOption(dnsPolicyOption())
    .option('--json', 'print the hops as JSON')
    .option('--no-explain', 'print the hops without explanations')
    .addHelpText('after', `
Examples:
  netlab trace --snapshot examples/seed/snapshot --observed examples/seed/observed \\
    --from default/rpc-75d9b7d7c9-2zzrx --to kube-dns.kube-system
  netlab trace --from default/web-0 --to 10.96.0.10:53 --protocol UDP --json

Exit codes: 0 no hop is BROKEN, 1 a hop is BROKEN, 2 usage or input error.`)
    .action(async (opts) => exit(await traceCommand(opts)));

  program.command('parse')
    .argument('<format>', 'route, ipvsadm, resolv or ip-addr (`ip -o addr`)')
    .argument('[file]', 'the output to parse; - or nothing reads standard input')
    .description('Print the parsed structure as JSON. Shapes:\n'
      + '  route:   {"routes":[{"destination","gateway","genmask","flags","metric","ref","use","iface"}]}\n'
      + '  ipvsadm: {"services":[{"protocol","address","port","fwmark","scheduler","persistent","netmask","flags":[],\n'
      + '            "realServers":[{"address","port","forward","weight","activeConn","inactConn"}]}]}\n'
      + '  resolv:  {"nameservers":[],"search":[],"options":{}}\n'
      + '  ip-addr: {"addresses":[{"index","iface","family","address","prefixLength","peer","broadcast","scope","flags":[],"metric","label"}]}\n'
      + 'ipvsadm accepts -Ln, --stats, --rate, a one-service listing and -S -n. Numbers are numbers; a missing value is null.')
    .option('--json', 'print JSON (the default and only output)')
    .action(async (format, file, opts) => exit(await parseCommand(format, file, opts)));

  registerLabCommands(program, exit);
  return program;
}

let exitCode: number = EXIT.ok;
function exit(code: number): void {
  exitCode = code;
}

/** Errors a user can act on are one clear line and exit code 2; anything else is a bug and shows its stack. */
function reportError(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (e instanceof UsageError || e instanceof ParseError || e instanceof SnapshotError || e instanceof ObservationError) {
    process.stderr.write(`netlab: ${e.message}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`netlab: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
  return EXIT.usage;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    return reportError(e);
  }
}

// Run when started directly (`node src/cli/main.ts`, as npm scripts do); bin/netlab.js imports and calls main().
if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv);
}
