// `netlab lab up|down|status`: a kind cluster with Calico (IPIP) and kube-proxy (IPVS by default, or nftables
// or iptables mode), running the netlab operator and its sample labs. Every step first looks at what is already there, so a second `lab up`
// only does what is missing; a failure names its step and how to retry.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import { projectKubeProxyConfig } from '../snapshot/project.ts';
import { type CalicoRelease, type Download, prepareCalicoKustomization } from './calico.ts';
import { DEFAULT_CLUSTER, DEFAULT_PROXY_MODE, type ProxyMode } from './defaults.ts';
import { checkPrerequisites, formatVersion, type ToolRequirement } from './prerequisites.ts';
import { createProgress, formatDuration, type Progress } from './progress.ts';
import { type CommandResult, type CommandRunner, formatCommand, type RunOptions } from './runner.ts';

/** What lab up builds and where it puts it. The names match manifests/operator/. */
export const LAB = {
  kindConfig: 'kind-config.yaml',
  calicoKustomization: 'manifests/calico',
  crdKustomization: 'crds',
  manifests: 'manifests',
  crd: 'networklabs.netlab.dev',
  namespace: 'netlab-system',
  images: [
    // workload: as `kubectl get -o name` prints it (kubectl takes that form everywhere)
    { name: 'netlab-operator:dev', dockerfile: 'Dockerfile', workload: 'deployment.apps/netlab-operator' },
    { name: 'netlab-probe:dev', dockerfile: 'Dockerfile.probe', workload: 'daemonset.apps/netlab-probe' },
  ],
  labPollMs: 5000,
} as const;

export interface LabOptions {
  clusterName: string;
  /** the netlab checkout: kind-config.yaml, the Dockerfiles and manifests/ are read from here */
  projectRoot: string;
  /** where the checked Calico manifest is kept between runs */
  cacheDir: string;
  /** the longest any single wait may take */
  waitSeconds: number;
  calico: CalicoRelease;
  /** kube-proxy's mode in a cluster lab up creates; an existing cluster must already run it */
  proxyMode: ProxyMode;
}

export interface LabDeps {
  /** runs commands in options.projectRoot */
  runner: CommandRunner;
  out: (line: string) => void;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  download: Download;
}

/** A lab command that stopped: which step, why, and what to do next. */
export class LabError extends Error {
  readonly step: string;
  readonly retry: string;
  constructor(step: string, message: string, retry: string) {
    super(`${message}\n  retry: ${retry}`);
    this.name = 'LabError';
    this.step = step;
    this.retry = retry;
  }
}

/** A command that exited non-zero, with the end of its output (the part that usually says why). */
class CommandFailed extends Error {}

function tail(text: string, lines = 15): string {
  const kept = text.split('\n').filter((l) => l.trim() !== '').slice(-lines);
  return kept.length ? `\n${kept.map((l) => `      | ${l}`).join('\n')}` : '';
}

async function must(runner: CommandRunner, cmd: string, args: string[], opts?: RunOptions): Promise<CommandResult> {
  const result = await runner.run(cmd, args, opts);
  if (result.code !== 0) {
    throw new CommandFailed(`\`${formatCommand(cmd, args)}\` exited with code ${result.code}${tail(result.stderr || result.stdout)}`);
  }
  return result;
}

interface Step {
  title: string;
  /** how to retry after this step failed */
  retry: string;
  /** does the work; returns how it ended ("done", "already exists", ...) */
  run(progress: Progress): Promise<string>;
}

async function runSteps(command: string, steps: Step[], deps: LabDeps): Promise<Progress> {
  const progress = createProgress(steps.length, deps.out, deps.now);
  for (const [i, step] of steps.entries()) {
    progress.start(i + 1, step.title);
    try {
      progress.finish(await step.run(progress));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new LabError(step.title, `netlab lab ${command} failed at step ${i + 1}/${steps.length} "${step.title}" (after ${formatDuration(progress.elapsed())}):\n  ${why}`, step.retry);
    }
  }
  return progress;
}

/**
 * The kind configuration for a kube-proxy mode: kind-config.yaml itself for its own mode (IPVS), otherwise the
 * same with networking.kubeProxyMode changed (comments kept; kind reads it from standard input).
 */
export function kindConfigFor(text: string, mode: ProxyMode): string {
  const doc = parseDocument(text);
  const networking = doc.get('networking');
  const pair = isMap(networking) ? networking.items.find((item) => isScalar(item.key) && item.key.value === 'kubeProxyMode') : undefined;
  if (pair === undefined || !isScalar(pair.key) || !isScalar(pair.value)) throw new Error(`${LAB.kindConfig} sets no networking.kubeProxyMode`);
  if (pair.value.value === mode) return text;
  pair.value.value = mode;
  pair.key.commentBefore = ` kube-proxy in ${mode} mode: what the labs' "services" check then follows.`;
  return `# ${LAB.kindConfig} with kube-proxy in ${mode} mode (netlab lab up --proxy-mode ${mode}).\n${doc.toString()}`;
}

/** kube-proxy's mode in the running cluster, from its ConfigMap (as the operator reads it). */
async function runningProxyMode(runner: CommandRunner, options: LabOptions): Promise<string> {
  const source = `kubectl --context ${kubeContext(options)} -n kube-system get configmap kube-proxy -o json`;
  const { stdout } = await must(runner, 'kubectl', kubectlArgs(options, ['-n', 'kube-system', 'get', 'configmap', 'kube-proxy', '-o', 'json']));
  let configMap: unknown;
  try {
    configMap = JSON.parse(stdout);
  } catch (e) {
    throw new Error(`${source} printed something that is not JSON: ${(e as Error).message}`);
  }
  return projectKubeProxyConfig(configMap, source).view.mode;
}

function kubeContext(options: LabOptions): string {
  return `kind-${options.clusterName}`;
}

/** The command a user types to run `verb` on this cluster again (for retry hints). */
function labCommand(verb: 'up' | 'down', options: LabOptions): string {
  const mode = verb === 'up' && options.proxyMode !== DEFAULT_PROXY_MODE ? ` --proxy-mode ${options.proxyMode}` : '';
  return `netlab lab ${verb}${options.clusterName === DEFAULT_CLUSTER ? '' : ` --name ${options.clusterName}`}${mode}`;
}

function kubectlArgs(options: LabOptions, args: string[]): string[] {
  return ['--context', kubeContext(options), ...args];
}

async function clusterExists(deps: LabDeps, options: LabOptions): Promise<boolean> {
  const listed = await must(deps.runner, 'kind', ['get', 'clusters']);
  return listed.stdout.split('\n').map((l) => l.trim()).includes(options.clusterName);
}

function prerequisiteStep(deps: LabDeps, tools: ToolRequirement['tool'][]): Step {
  return {
    title: 'Check prerequisites',
    retry: 'install or start what is listed above, then run the same netlab lab command again',
    async run() {
      const statuses = await checkPrerequisites(deps.runner, tools);
      const problems = statuses.flatMap((s) => (s.problem ? [s.problem] : []));
      if (problems.length) throw new Error(`missing prerequisites:\n${problems.map((p) => `    - ${p}`).join('\n')}`);
      return statuses.map((s) => `${s.tool} ${s.version ? formatVersion(s.version) : '?'}`).join(', ');
    },
  };
}

// ---- lab up -------------------------------------------------------------------------------------------

/** One lab's state as `kubectl get nlab -A -o json` reports it. */
export interface LabState {
  namespace: string;
  name: string;
  /** the Ready condition's status, or null while the operator has not answered the current generation */
  ready: 'True' | 'False' | 'Unknown' | null;
  reason: string | null;
}

interface Condition {
  type?: unknown;
  status?: unknown;
  reason?: unknown;
  observedGeneration?: unknown;
}

interface NetworkLabItem {
  metadata?: { namespace?: unknown; name?: unknown; generation?: unknown };
  status?: { observedGeneration?: unknown; conditions?: Condition[] };
}

/** Reads the labs out of `kubectl get networklabs -A -o json`. A lab has reported once its Ready condition answers its current generation. Pure. */
export function readLabStates(json: string): LabState[] {
  let doc: { items?: NetworkLabItem[] };
  try {
    doc = JSON.parse(json) as { items?: NetworkLabItem[] };
  } catch (e) {
    throw new Error(`kubectl get networklabs -A -o json printed something that is not JSON: ${(e as Error).message}`);
  }
  return (doc.items ?? []).map((item) => {
    const generation = typeof item.metadata?.generation === 'number' ? item.metadata.generation : 0;
    const ready = (item.status?.conditions ?? []).find((c) => c.type === 'Ready');
    const answered = ready?.observedGeneration ?? item.status?.observedGeneration;
    const current = ready !== undefined && (typeof answered !== 'number' || answered >= generation);
    const status = current && (ready.status === 'True' || ready.status === 'False' || ready.status === 'Unknown') ? ready.status : null;
    return {
      namespace: String(item.metadata?.namespace ?? ''),
      name: String(item.metadata?.name ?? ''),
      ready: status,
      reason: status && typeof ready?.reason === 'string' ? ready.reason : null,
    };
  });
}

function describeLabs(labs: LabState[]): string {
  return labs.map((l) => `${l.namespace}/${l.name} ${l.ready ? `Ready=${l.ready}${l.reason ? ` (${l.reason})` : ''}` : 'waiting'}`).join(', ');
}

function upSteps(options: LabOptions, deps: LabDeps): Step[] {
  const { runner } = deps;
  const kubectl = (args: string[]) => must(runner, 'kubectl', kubectlArgs(options, args));
  const wait = `--timeout=${options.waitSeconds}s`;
  const context = kubeContext(options);
  const again = labCommand('up', options);
  const down = labCommand('down', options);
  /** images that `kind load` had to copy onto the nodes in this run: their pods must be restarted */
  const freshImages = new Set<string>();

  return [
    prerequisiteStep(deps, ['docker', 'kind', 'kubectl']),
    {
      title: `Create the kind cluster "${options.clusterName}"`,
      retry: `run \`${again}\` again; if the cluster was left half-created, run \`${down}\` first`,
      async run(progress) {
        if (await clusterExists(deps, options)) {
          // The cluster is there; make sure the kubeconfig still has its context.
          await must(runner, 'kind', ['export', 'kubeconfig', '--name', options.clusterName]);
          // kube-proxy's mode is fixed when kind creates the cluster: a lab in another mode is another cluster.
          const running = await runningProxyMode(runner, options);
          if (running !== options.proxyMode) {
            throw new Error(`the cluster "${options.clusterName}" runs kube-proxy in ${running} mode, not ${options.proxyMode}, and kind cannot change the mode of a cluster: \`${down}\` first, or give another --name`);
          }
          return `already exists (kubectl context ${context}, kube-proxy mode ${running})`;
        }
        const config = kindConfigFor(await readFile(join(options.projectRoot, LAB.kindConfig), 'utf8'), options.proxyMode);
        const fromFile = options.proxyMode === DEFAULT_PROXY_MODE;
        progress.note(`kind create cluster from ${LAB.kindConfig}${fromFile ? '' : ` with kube-proxy in ${options.proxyMode} mode`}: 1 control-plane, 2 workers (a few minutes the first time: it pulls the node image)`);
        await must(runner, 'kind', ['create', 'cluster', '--name', options.clusterName, '--config', fromFile ? LAB.kindConfig : '-'], fromFile ? undefined : { input: config });
        return `created (kubectl context ${context}, kube-proxy mode ${options.proxyMode})`;
      },
    },
    {
      title: `Install Calico ${options.calico.version}`,
      retry: `run \`${again}\` again (the checked manifest is cached, so a retry does not download it again)`,
      async run(progress) {
        const present = await runner.run('kubectl', kubectlArgs(options, ['-n', 'kube-system', 'get', 'daemonset/calico-node', 'deployment/calico-kube-controllers', '-o', 'name']));
        if (present.code === 0) return 'already installed';
        const { dir, downloaded } = await prepareCalicoKustomization({
          kustomizationDir: join(options.projectRoot, LAB.calicoKustomization),
          cacheDir: options.cacheDir,
          release: options.calico,
          download: deps.download,
        });
        progress.note(downloaded ? `downloaded ${options.calico.manifestUrl}, SHA-256 checked` : `using the checked copy in ${dir}`);
        await kubectl(['apply', '-k', dir]);
        return 'applied';
      },
    },
    {
      title: 'Wait for Calico, the nodes and CoreDNS',
      retry: `\`kubectl --context ${context} -n kube-system get pods -o wide\` shows what is not ready (describe it for why); \`${again}\` then waits again`,
      async run(progress) {
        progress.note('calico-node on every node');
        await kubectl(['-n', 'kube-system', 'rollout', 'status', 'daemonset/calico-node', wait]);
        progress.note('calico-kube-controllers');
        await kubectl(['-n', 'kube-system', 'rollout', 'status', 'deployment/calico-kube-controllers', wait]);
        progress.note('every node Ready (it needs the CNI)');
        await kubectl(['wait', '--for=condition=Ready', 'nodes', '--all', wait]);
        progress.note('CoreDNS');
        await kubectl(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', wait]);
        return 'ready';
      },
    },
    {
      title: 'Build the operator and probe images',
      retry: `run the failing \`docker build\` above by hand to see its whole output (or \`${again} --verbose\`), fix it, then \`${again}\``,
      async run(progress) {
        for (const image of LAB.images) {
          progress.note(`docker build -t ${image.name} -f ${image.dockerfile} .`);
          await must(runner, 'docker', ['build', '-t', image.name, '-f', image.dockerfile, '.']);
        }
        return 'built';
      },
    },
    {
      title: 'Load the images into the kind nodes',
      retry: `run \`${again}\` again; \`docker exec ${options.clusterName}-control-plane crictl images\` lists what a node holds`,
      async run() {
        const loaded: string[] = [];
        for (const image of LAB.images) {
          const r = await must(runner, 'kind', ['load', 'docker-image', image.name, '--name', options.clusterName]);
          // kind says "not yet present on node ..., loading" or "... re-tagging" when it copied something.
          if (/not yet present|re-tagging/.test(r.stdout + r.stderr)) {
            freshImages.add(image.name);
            loaded.push(image.name);
          }
        }
        return loaded.length ? `loaded ${loaded.join(', ')}` : 'already on every node';
      },
    },
    {
      title: 'Install the NetworkLab CRD',
      retry: `\`kubectl --context ${context} get crd ${LAB.crd} -o yaml\` shows why it is not established; then \`${again}\``,
      async run() {
        await kubectl(['apply', '-k', LAB.crdKustomization]);
        // The sample labs are NetworkLabs: their kind must be served before they can be applied.
        await kubectl(['wait', '--for=condition=Established', `crd/${LAB.crd}`, wait]);
        return 'established';
      },
    },
    {
      title: 'Install the operator, the probe and the sample labs',
      retry: `\`kubectl --context ${context} -n ${LAB.namespace} get pods\` and the operator's logs (\`kubectl --context ${context} -n ${LAB.namespace} logs deployment/netlab-operator\`) say why; then \`${again}\``,
      async run(progress) {
        const workloads = LAB.images.map((i) => i.workload);
        const before = await kubectl(['-n', LAB.namespace, 'get', ...workloads, '-o', 'name', '--ignore-not-found']);
        const existed = new Set(before.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
        await kubectl(['apply', '-k', LAB.manifests]);
        for (const image of LAB.images) {
          // Same tag, new content: running pods keep the old image until they are replaced.
          if (freshImages.has(image.name) && existed.has(image.workload)) {
            progress.note(`restarting ${image.workload} (new ${image.name})`);
            await kubectl(['-n', LAB.namespace, 'rollout', 'restart', image.workload]);
          }
        }
        for (const workload of workloads) {
          progress.note(`waiting for ${workload}`);
          await kubectl(['-n', LAB.namespace, 'rollout', 'status', workload, wait]);
        }
        return 'running';
      },
    },
    {
      title: 'Wait for every sample lab to report',
      retry: `\`kubectl --context ${context} -n ${LAB.namespace} logs deployment/netlab-operator\` says why a lab has no status; \`${again}\` then waits again`,
      async run(progress) {
        const deadline = deps.now() + options.waitSeconds * 1000;
        let last = '';
        for (;;) {
          const labs = readLabStates((await kubectl(['get', 'networklabs', '-A', '-o', 'json'])).stdout);
          const waiting = labs.filter((l) => l.ready === null);
          const line = labs.length ? `${labs.length - waiting.length}/${labs.length} reported: ${describeLabs(labs)}` : 'no NetworkLab yet';
          if (line !== last) progress.note(line);
          last = line;
          if (labs.length > 0 && waiting.length === 0) return `${labs.length} labs reported`;
          if (deps.now() >= deadline) {
            throw new Error(`after ${options.waitSeconds}s, ${labs.length ? `still waiting for ${waiting.map((l) => `${l.namespace}/${l.name}`).join(', ')}` : 'there is no NetworkLab (were manifests/samples applied?)'}`);
          }
          await deps.sleep(LAB.labPollMs);
        }
      },
    },
  ];
}

export async function labUp(options: LabOptions, deps: LabDeps): Promise<void> {
  const progress = await runSteps('up', upSteps(options, deps), deps);
  const table = await deps.runner.run('kubectl', kubectlArgs(options, ['get', 'nlab', '-A']));
  const context = kubeContext(options);
  deps.out('');
  deps.out(table.code === 0 ? table.stdout.trimEnd() : `(kubectl get nlab -A failed: ${table.stderr.trim()})`);
  deps.out('');
  deps.out(`The lab is up (${formatDuration(progress.elapsed())}). kubectl's current context is now ${context}. Next:`);
  deps.out('  kubectl get nlab -A -w                                  watch the labs (ROUTES, PROXY, SERVICES, DNS, READY)');
  deps.out('  kubectl describe nlab -n default seed-walkthrough       conditions and findings, each explained');
  deps.out(`  kubectl -n ${LAB.namespace} logs deployment/netlab-operator   what the operator checks and when`);
  deps.out(`  kubectl -n ${LAB.namespace} exec ds/netlab-probe -- route -n      a node's routes, as the lab reads them`);
  deps.out('  netlab lab status | netlab lab down');
}

// ---- lab down -----------------------------------------------------------------------------------------

export async function labDown(options: LabOptions, deps: LabDeps): Promise<void> {
  await runSteps('down', [
    prerequisiteStep(deps, ['kind']),
    {
      title: `Delete the kind cluster "${options.clusterName}"`,
      retry: `\`kind delete cluster --name ${options.clusterName}\` by hand; \`docker ps -a --filter label=io.x-k8s.kind.cluster=${options.clusterName}\` lists its node containers`,
      async run() {
        if (!(await clusterExists(deps, options))) return 'nothing to delete (no such cluster)';
        await must(deps.runner, 'kind', ['delete', 'cluster', '--name', options.clusterName]);
        return 'deleted';
      },
    },
  ], deps);
}

// ---- lab status ---------------------------------------------------------------------------------------

export interface LabStatus {
  clusterExists: boolean;
  labs: LabState[];
}

/** Prints what is there, section by section; a failing section is reported and the next one still runs. */
export async function labStatus(options: LabOptions, deps: LabDeps): Promise<LabStatus> {
  const { runner, out } = deps;
  const clusters = await runner.run('kind', ['get', 'clusters']);
  if (clusters.code !== 0) {
    out(`kind get clusters failed (${(clusters.stderr || clusters.stdout).trim()}): is kind installed and Docker running?`);
    return { clusterExists: false, labs: [] };
  }
  if (!clusters.stdout.split('\n').map((l) => l.trim()).includes(options.clusterName)) {
    out(`No kind cluster named "${options.clusterName}": \`${labCommand('up', options)}\` creates it.`);
    return { clusterExists: false, labs: [] };
  }
  out(`kind cluster "${options.clusterName}" (kubectl context ${kubeContext(options)})`);
  const sections: [string, string[]][] = [
    ['Nodes', ['get', 'nodes', '-o', 'wide']],
    ['Calico, kube-proxy and CoreDNS', ['-n', 'kube-system', 'get', 'daemonset/calico-node', 'daemonset/kube-proxy', 'deployment/calico-kube-controllers', 'deployment/coredns']],
    ['netlab', ['-n', LAB.namespace, 'get', 'pods', '-o', 'wide']],
    ['Labs', ['get', 'nlab', '-A']],
  ];
  for (const [heading, args] of sections) {
    const r = await runner.run('kubectl', kubectlArgs(options, args));
    out('');
    out(`${heading}:`);
    out(r.code === 0 ? r.stdout.trimEnd() : `  (${formatCommand('kubectl', kubectlArgs(options, args))} failed: ${(r.stderr || r.stdout).trim()})`);
  }
  const json = await runner.run('kubectl', kubectlArgs(options, ['get', 'networklabs', '-A', '-o', 'json']));
  return { clusterExists: true, labs: json.code === 0 ? readLabStates(json.stdout) : [] };
}
