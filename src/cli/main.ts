#!/usr/bin/env node
// netlab's command line. Each command is a thin shell around the pure core (snapshot -> model -> compare
// -> explain -> report); exit codes: 0 everything matches, 1 findings, 2 usage or input errors.
// Only commander and this file load at start: each command imports its code when it runs, so `--help`,
// `parse` and `explain` do not pay for the Kubernetes client the live commands need.
import { Command, CommanderError, Option } from 'commander';
import { addHelpSections, type HelpSection, terminalWidth, wrapHelpAt } from './help.ts';
import { endQuietlyWhenOutputCloses, EXIT, FORMATS, UsageError } from './io.ts';
import { registerLabCommands } from '../lab/commands.ts';
import { DEFAULT_PROXY_MODE, PROXY_MODES } from '../lab/defaults.ts';

const formatOption = (mandatory = true) => {
  const option = new Option('--format <format>', 'Which tool\'s output: route (`route -n`), ipvsadm (`ipvsadm -Ln`), resolv (/etc/resolv.conf), '
    + 'nft (`nft list table ip kube-proxy`, or `nft list ruleset` for the ip6 table too) or iptables-save (`iptables-save`).').choices(FORMATS);
  return mandatory ? option.makeOptionMandatory() : option;
};
const namespaceOption = () => new Option('--namespace <ns>', 'Namespace of the pod whose resolv.conf is checked.').default('default');
const dnsPolicyOption = () => new Option('--dns-policy <policy>', 'dnsPolicy of that pod.').choices(['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None']).default('ClusterFirst');

/** The sections after the options of `netlab --help` and of some commands' --help. */
export const HELP_AFTER: Record<'netlab' | 'check' | 'expect' | 'explain' | 'trace' | 'ui', HelpSection[]> = {
  netlab: [
    ['Where to start', [
      { command: 'netlab demo', does: 'The whole check on a built-in 3-node cluster, then with injected faults.' },
      { command: 'route -n | netlab explain - --format route', does: 'What each line of your node\'s routing table means.' },
      { command: 'netlab check --snapshot snap/ --observed obs/', does: 'Check a cluster you captured (see `netlab check --help`).' },
    ]],
    ['Exit codes', ['0 everything that was checked matches, 1 findings, 2 usage or input error (input that cannot be read, no cluster, no CRD, no probe).']],
  ],
  check: [
    ['Capturing a cluster for the offline check (any kubectl context)', [
      { command: 'mkdir snap && kubectl get nodes,pods,services,endpointslices,namespaces -A -o yaml > snap/cluster.yaml' },
      { command: 'kubectl -n kube-system get configmap kube-proxy coredns -o yaml > snap/config.yaml' },
      { command: 'kubectl get ippools.crd.projectcalico.org,ipamblocks.crd.projectcalico.org -o yaml > snap/calico.yaml', does: 'If the cluster runs Calico.' },
    ]],
    ['Capturing a node (for each node, in a folder named after it)', [
      { command: 'mkdir -p obs/NODE && ssh NODE route -n > obs/NODE/route-n.txt && ssh NODE ipvsadm -Ln > obs/NODE/ipvsadm-Ln.txt' },
      { command: 'kubectl exec POD -- cat /etc/resolv.conf > obs/resolv.conf', does: 'With --namespace of that pod.' },
    ]],
    ['The live check', [
      'It needs netlab installed in the cluster (kubectl apply -k manifests/, or netlab lab up). DNS and resolv.conf are checked by the operator from inside the cluster: kubectl get nlab.',
    ]],
    ['Exit codes', [
      '0 everything that was checked matches; 1 findings; 2 usage or input error: input that cannot be read or parsed '
        + '(the report then says which layer on which node was not checked, and why), no cluster, no CRD, no probe.',
    ]],
  ],
  expect: [
    ['Examples', [
      { command: 'diff <(netlab expect --snapshot snap --node n1 --format ipvsadm) <(ssh n1 ipvsadm -Ln)' },
      { command: 'netlab expect --snapshot snap --node n1 --format nft > want.nft; ssh n1 nft list table ip kube-proxy > got.nft', does: 'What kube-proxy in nftables mode must program on n1. nft prints set elements in the kernel\'s order, several on a line, and affinity sets with "size 65535": compare with `netlab explain got.nft --format nft --snapshot snap`, which ignores that.' },
      { command: 'diff <(netlab expect --snapshot snap --node n1 --format iptables-save | sort) <(ssh n1 iptables-save | grep -v "^#" | sort)', does: 'iptables mode, sorted: rules of different Services in KUBE-SERVICES come in any order on the node; the node\'s other programs\' chains show up too.' },
    ]],
  ],
  explain: [
    ['Examples', [
      { command: 'route -n | netlab explain - --format route' },
      { command: 'ssh n1 nft list table ip kube-proxy | netlab explain - --format nft', does: 'Every set, element, chain and rule of kube-proxy\'s table in plain words, each named after its Service port.' },
      { command: 'ssh n1 iptables-save | netlab explain - --format iptables-save --snapshot snap --node n1', does: 'The same for iptables mode, checked against the cluster\'s objects: missing and unexpected rules are marked.' },
    ]],
  ],
  trace: [
    ['Examples', [
      { command: 'netlab trace --snapshot examples/seed/snapshot --observed examples/seed/observed --from default/rpc-75d9b7d7c9-2zzrx --to kube-dns.kube-system' },
      { command: 'netlab trace --from default/web-0 --to 10.96.0.10:53 --protocol UDP --json' },
    ]],
    ['Exit codes', ['0 no hop is BROKEN, 1 a hop is BROKEN, 2 usage or input error.']],
  ],
  ui: [
    ['Example', [{ command: 'netlab ui --snapshot examples/seed/snapshot --observed examples/seed/observed', does: 'Then open http://127.0.0.1:7070/.' }]],
  ],
};

export interface ProgramOptions {
  /** help width; default the terminal's (see terminalWidth) */
  width?: number;
  /** where help and usage messages go (tests capture them); default stdout and stderr */
  writeOut?: (text: string) => void;
  writeErr?: (text: string) => void;
}

export function buildProgram(options: ProgramOptions = {}): Command {
  const width = options.width ?? terminalWidth();
  const program = wrapHelpAt(new Command('netlab'), width)
    .description('See and check how a packet finds a pod in Kubernetes: the routes Calico programs on each node (`route -n`), '
      + 'the virtual servers kube-proxy programs in IPVS mode (`ipvsadm -Ln`), the answers CoreDNS must give, and the '
      + 'resolv.conf a pod gets. netlab computes what each must be from the cluster\'s objects, compares it with what the '
      + 'node really shows, and explains every line in plain words.')
    .version('0.1.0', '-V, --version', 'Print the version.')
    .helpOption('-h, --help', 'Show this help.')
    .helpCommand('help [command]', 'Show the help of a command.')
    .exitOverride() // before the subcommands, which inherit it: usage errors become exit code 2, not 1
    .showHelpAfterError('(run with --help for usage)');
  if (options.writeOut || options.writeErr) {
    program.configureOutput({ writeOut: options.writeOut ?? ((s) => process.stdout.write(s)), writeErr: options.writeErr ?? ((s) => process.stderr.write(s)) });
  }
  addHelpSections(program, width, HELP_AFTER.netlab);

  program.command('demo')
    .summary('The whole pipeline on a built-in example, then with faults.')
    .description('Run the whole pipeline on the built-in example (the cluster of the source article), then inject faults '
      + '(a stale real server, a missing tunnel route, a wrong scheduler, a wrong ndots) and show the findings.')
    .option('--no-explain', 'Print the tables without the explanation under each line.')
    .addOption(new Option('--proxy-mode <mode>', 'kube-proxy\'s mode: ipvs (the article\'s, with its real capture), or nftables or iptables '
      + '(the same cluster\'s rules in that mode, from the model: no capture of it exists).').choices(PROXY_MODES).default(DEFAULT_PROXY_MODE))
    .action(async (opts) => exit(await (await import('./commands/demo.ts')).demoCommand(opts)));

  const check = program.command('check')
    .summary('Check a cluster against the model, from captured files or live.')
    .description('Check a cluster against the model, in one of two ways.\n'
      + '  Offline, with --snapshot DIR --observed DIR: captured files (see below); no cluster is needed.\n'
      + '  Live, with --lab NAME, --all or neither: the current kubeconfig context, observed through the netlab-probe '
      + 'DaemonSet (the routes and kube-proxy\'s rules of every node, in the mode it runs).')
    .option('--snapshot <dir>', 'Offline: folder of `kubectl get ... -o yaml` files (see below).')
    .option('--observed <dir>', 'Offline: folder with <node>/route-n.txt, <node>/ipvsadm-Ln.txt, and optionally resolv.conf and dns.json.')
    .option('--lab <name>', 'Live: check as this NetworkLab says (its checks and node selector).')
    .option('--all', 'Live: check every NetworkLab in the cluster.')
    .option('--lab-namespace <ns>', 'Live: namespace of --lab.', 'default')
    .option('--kubeconfig <path>', 'Live: kubeconfig file (default: $KUBECONFIG or ~/.kube/config).')
    .option('--layers <list>', 'Offline: comma-separated layers to check, of routes,ipvs,dns,resolvconf (default all).')
    .option('--node <name...>', 'Offline: only these nodes (default: every node folder in --observed).')
    .addOption(namespaceOption())
    .addOption(dnsPolicyOption())
    .option('--json', 'Print the report as JSON (findings, counts, annotated lines).')
    .option('--no-explain', 'Print the tables without explanations.')
    .action(async (opts) => {
      if (opts.snapshot || opts.observed) {
        if (!opts.snapshot || !opts.observed) throw new UsageError('the offline check needs both --snapshot DIR and --observed DIR');
        if (opts.lab || opts.all) throw new UsageError('--lab/--all check a live cluster; --snapshot/--observed check captured files: choose one');
        return exit(await (await import('./commands/check.ts')).offlineCheckCommand(opts));
      }
      exit(await (await import('./commands/live.ts')).liveCheckCommand({ ...opts, labNamespace: opts.labNamespace }));
    });
  addHelpSections(check, width, HELP_AFTER.check);

  const expect = program.command('expect')
    .summary('What the model expects on a node, in the tool\'s own text format.')
    .description('Print what the model expects on a node, in the tool\'s own text format, to diff against the real command. '
      + 'For route, only the rows the CNI owns are printed (not the default route or host subnets). For nft, kube-proxy\'s '
      + 'table ip kube-proxy, and table ip6 kube-proxy after it when the cluster has IPv6 Services (as `nft list ruleset` '
      + 'prints them); for iptables-save, the chains and rules kube-proxy writes in each table (IPv4: ip6tables-save is not modelled).')
    .requiredOption('--snapshot <dir>', 'Folder of `kubectl get ... -o yaml` files.')
    .option('--node <name>', 'The node (required for all but resolv).')
    .addOption(formatOption())
    .addOption(namespaceOption())
    .addOption(dnsPolicyOption())
    .action(async (opts) => exit(await (await import('./commands/expect.ts')).expectCommand(opts)));
  addHelpSections(expect, width, HELP_AFTER.expect);

  const explain = program.command('explain')
    .summary('Annotate real output line by line.')
    .argument('[file]', 'The output to explain; - or nothing reads standard input.')
    .description('Annotate real output line by line. With --snapshot, every line is also checked against the model, '
      + 'and lines that should be there but are not are added.')
    .addOption(formatOption(false))
    .option('--snapshot <dir>', 'Folder of `kubectl get ... -o yaml` files: explain with the cluster\'s objects.')
    .option('--node <name>', 'Which node the output comes from (guessed from the snapshot when omitted).')
    .option('--live', 'Read the output now from --node through the netlab-probe DaemonSet (route or ipvsadm).')
    .option('--kubeconfig <path>', 'With --live: kubeconfig file (default: $KUBECONFIG or ~/.kube/config).')
    .option('--service <ns/name>', 'Show one Service as kube-proxy programs it in IPVS, nftables and iptables mode, side by side, '
      + 'with the endpoint choice they share once; with --snapshot offline, otherwise from the current kubeconfig context.')
    .option('--no-explain', 'With --service: the lines without their explanations.')
    .addOption(namespaceOption())
    .addOption(dnsPolicyOption())
    .action(async (file, opts) => {
      if (opts.service) {
        if (file) throw new UsageError('--service explains a Service of the cluster: give no FILE');
        return exit(await (await import('./commands/explain-service.ts')).explainServiceCommand(opts));
      }
      if (!opts.format) throw new UsageError(`explain needs --format ${FORMATS.join('|')} (or --service NS/NAME)`);
      if (!opts.live) return exit(await (await import('./commands/explain.ts')).explainCommand(file, opts));
      if (file) throw new UsageError('--live reads the node itself: give no FILE');
      if (!opts.node) throw new UsageError('--live needs --node NAME');
      if (opts.format !== 'route' && opts.format !== 'ipvsadm') throw new UsageError('--live explains route or ipvsadm output of a node');
      exit(await (await import('./commands/live.ts')).liveExplainCommand(opts));
    });
  addHelpSections(explain, width, HELP_AFTER.explain);

  const trace = program.command('trace')
    .summary('Follow one packet from a pod or a node to a name or an address, hop by hop.')
    .description('Follow one packet from a pod (or a node) to a name or an address, hop by hop: name resolution with the '
      + 'search list under ndots, the Service\'s virtual server and its backends, the longest-prefix match on each node '
      + '(expected and observed), the tunnel, the veth into the pod, and the reply. Each hop has a verdict: '
      + 'OK, BROKEN, NOT OBSERVED (the model\'s answer only) or UNKNOWN (netlab cannot tell). Two ways:\n'
      + '  Offline, with --snapshot DIR and optionally --observed DIR: captured files (as for `netlab check`).\n'
      + '  Live, without --snapshot: the current kubeconfig context; the nodes on the path are observed through the '
      + 'netlab-probe DaemonSet.')
    .requiredOption('--from <pod|node>', 'Where the packet starts: NAMESPACE/POD, a pod name, or a node name.')
    .requiredOption('--to <dest>', 'Where it goes: NAME[:PORT] (resolved as the pod\'s resolver would) or IP:PORT.')
    .addOption(new Option('--protocol <protocol>', 'The protocol (default: the first the Service lists).').choices(['TCP', 'UDP', 'SCTP']))
    .option('--endpoint <ip>', 'Follow this backend of the Service (default: the first one listed).')
    .option('--snapshot <dir>', 'Offline: folder of `kubectl get ... -o yaml` files.')
    .option('--observed <dir>', 'Offline: folder of captured node output (see `netlab check --help`).')
    .option('--kubeconfig <path>', 'Live: kubeconfig file (default: $KUBECONFIG or ~/.kube/config).')
    .addOption(namespaceOption())
    .addOption(dnsPolicyOption())
    .option('--json', 'Print the hops as JSON.')
    .option('--no-explain', 'Print the hops without explanations.')
    .action(async (opts) => exit(await (await import('./commands/trace.ts')).traceCommand(opts)));
  addHelpSections(trace, width, HELP_AFTER.trace);

  const ui = program.command('ui')
    .summary('Serve a page on localhost that draws the cluster, the checks, the tables and traces.')
    .description('Serve a page on localhost that draws the cluster (nodes, pod blocks, tunnel addresses, pods, Services), '
      + 'the check\'s results, each node\'s tables with the explanation beside every line, and traces as diagrams whose '
      + 'hops link to the table lines behind them. It loads nothing from elsewhere: it works air-gapped. Two ways:\n'
      + '  Offline, with --snapshot DIR and optionally --observed DIR: captured files (as for `netlab check`).\n'
      + '  Live, without --snapshot: the current kubeconfig context; every node is observed once through the '
      + 'netlab-probe DaemonSet.')
    .option('--snapshot <dir>', 'Offline: folder of `kubectl get ... -o yaml` files.')
    .option('--observed <dir>', 'Offline: folder of captured node output (see `netlab check --help`).')
    .option('--kubeconfig <path>', 'Live: kubeconfig file (default: $KUBECONFIG or ~/.kube/config).')
    .option('--port <port>', 'Port to serve on (0 picks a free one).', '7070')
    .option('--host <address>', 'Address to serve on.', '127.0.0.1')
    .addOption(namespaceOption())
    .addOption(dnsPolicyOption())
    .action(async (opts) => exit(await (await import('./commands/ui.ts')).uiCommand(opts)));
  addHelpSections(ui, width, HELP_AFTER.ui);

  program.command('parse')
    .summary('Print the parsed structure of a tool\'s output as JSON.')
    .argument('<format>', 'route, ipvsadm, resolv, nft (`nft list table` or `nft list ruleset`), iptables-save, or ip-addr (`ip -o addr`).')
    .argument('[file]', 'The output to parse; - or nothing reads standard input.')
    .description('Print the parsed structure as JSON. ipvsadm accepts -Ln, --stats, --rate, a one-service listing and -S -n. '
      + 'Numbers are numbers; a value the tool did not print is null. The shapes are:\n'
      + '  route: {"routes": [{"destination", "gateway", "genmask", "flags", "metric", "ref", "use", "iface"}]}\n'
      + '  ipvsadm: {"services": [{"protocol", "address", "port", "fwmark", "scheduler", "persistent", "netmask", "flags": [], '
      + '"realServers": [{"address", "port", "forward", "weight", "activeConn", "inactConn"}]}]}\n'
      + '  resolv: {"nameservers": [], "search": [], "options": {}}\n'
      + '  nft: {"tables": [{"family", "name", "comment", "sets": [{"kind", "name", "type", "flags": [], "timeout", "comment", '
      + '"elements": [{"key", "comment", "value"}]}], "chains": [{"name", "hook", "comment", "rules": []}]}]}\n'
      + '  iptables-save: {"tables": [{"name", "chains": [{"name", "policy", "rules": []}]}]} (rules as printed after "-A CHAIN"; counters left out)\n'
      + '  ip-addr: {"addresses": [{"index", "iface", "family", "address", "prefixLength", "peer", "broadcast", "scope", "flags": [], "metric", "label"}]}')
    .option('--json', 'Print JSON (the default and only output).')
    .action(async (format, file, opts) => exit(await (await import('./commands/parse.ts')).parseCommand(format, file, opts)));

  registerLabCommands(program, exit);
  return program;
}

let exitCode: number = EXIT.ok;
function exit(code: number): void {
  exitCode = code;
}

/** Errors a user can act on are one clear line and exit code 2; anything else is a bug and shows its stack. */
async function reportError(e: unknown): Promise<number> {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  // Loaded only now: the command that threw has loaded them already, and `--help` need not.
  const [{ ParseError }, { SnapshotError }, { ObservationError }] = await Promise.all([
    import('../parse/types.ts'), import('../snapshot/fields.ts'), import('../observe/files.ts'),
  ]);
  if (e instanceof UsageError || e instanceof ParseError || e instanceof SnapshotError || e instanceof ObservationError) {
    process.stderr.write(`netlab: ${e.message}\n`);
    return EXIT.usage;
  }
  // The API refused a live command's request (RBAC, a missing resource): by name, so that an offline
  // command's error does not load the Kubernetes client to ask.
  if (e instanceof Error && e.name === 'KubeApiError') {
    process.stderr.write(`netlab: the cluster refused: ${e.message}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`netlab: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
  return EXIT.usage;
}

export async function main(argv: string[]): Promise<number> {
  endQuietlyWhenOutputCloses();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    return reportError(e);
  }
}
