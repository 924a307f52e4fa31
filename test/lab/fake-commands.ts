// A recording fake of docker, kind and kubectl for the lab orchestration tests. It keeps a tiny model of
// the world (is there a cluster, is Calico installed, which images are on the nodes) so that a second
// `lab up` sees what the first one did. The outputs imitate the real tools' text (kind v0.33.0,
// kubectl 1.37, Docker 28); they are written by hand, not captured.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CALICO, sha256Hex } from '../../src/lab/calico.ts';
import type { LabDeps, LabOptions } from '../../src/lab/lab.ts';
import { type CommandResult, type CommandRunner, formatCommand, type RunOptions } from '../../src/lab/runner.ts';

export interface FakeWorld {
  cluster: boolean;
  /** kube-proxy's mode in the cluster: what kind was given when it created it */
  proxyMode: string;
  calico: boolean;
  imagesOnNodes: Set<string>;
  workloads: boolean;
  /** how many `get networklabs` polls answer before every lab has a Ready condition */
  pollsBeforeReport: number;
}

export function freshWorld(): FakeWorld {
  return { cluster: false, proxyMode: '', calico: false, imagesOnNodes: new Set(), workloads: false, pollsBeforeReport: 1 };
}

/** A lab exactly as a first successful `lab up` leaves it. */
export function builtWorld(): FakeWorld {
  return { cluster: true, proxyMode: 'ipvs', calico: true, imagesOnNodes: new Set(['netlab-operator:dev', 'netlab-probe:dev']), workloads: true, pollsBeforeReport: 0 };
}

const ok = (stdout = '', stderr = ''): CommandResult => ({ code: 0, stdout, stderr });
const fail = (code: number, stderr: string): CommandResult => ({ code, stdout: '', stderr });

function networkLabList(reported: boolean): string {
  const lab = (namespace: string, name: string) => ({
    apiVersion: 'netlab.dev/v1alpha1',
    kind: 'NetworkLab',
    metadata: { namespace, name, generation: 1 },
    ...(reported ? { status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'AllVerified', observedGeneration: 1 }] } } : {}),
  });
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [lab('default', 'seed-walkthrough'), lab('netlab-samples', 'session-affinity')] });
}

/** One scripted answer: the first override whose pattern matches the command line wins over the world. */
export type Override = [RegExp, CommandResult];

export class RecordingRunner implements CommandRunner {
  readonly calls: string[] = [];
  /** standard input given to a call, by the call's line */
  readonly inputs = new Map<string, string>();
  private polls = 0;
  readonly world: FakeWorld;
  private readonly overrides: Override[];

  constructor(world: FakeWorld, overrides: Override[] = []) {
    this.world = world;
    this.overrides = overrides;
  }

  async run(cmd: string, args: string[], opts?: RunOptions): Promise<CommandResult> {
    const line = formatCommand(cmd, args);
    this.calls.push(line);
    if (opts?.input !== undefined) this.inputs.set(line, opts.input);
    const scripted = this.overrides.find(([pattern]) => pattern.test(line));
    return scripted ? scripted[1] : this.answer(line, opts?.input);
  }

  private answer(line: string, input?: string): CommandResult {
    const w = this.world;
    if (line.startsWith('docker info')) return ok('28.2.2\n');
    if (line === 'kind version') return ok('kind v0.33.0 go1.26.8 linux/amd64\n');
    if (line === 'kubectl version --client -o json') return ok(JSON.stringify({ clientVersion: { gitVersion: 'v1.37.0' }, kustomizeVersion: 'v5.7.1' }));
    if (line === 'kind get clusters') return w.cluster ? ok('netlab\n') : ok('', 'No kind clusters found.\n');
    if (line.startsWith('kind create cluster')) {
      w.cluster = true;
      // from stdin (`--config -`) or kind-config.yaml, whose mode is IPVS
      w.proxyMode = line.endsWith('--config -') ? (parse(input ?? '') as { networking: { kubeProxyMode: string } }).networking.kubeProxyMode : 'ipvs';
      return ok('', 'Creating cluster "netlab" ...\nSet kubectl context to "kind-netlab"\n');
    }
    if (line.endsWith('-n kube-system get configmap kube-proxy -o json')) {
      // as kubeadm writes it (abridged to the keys netlab reads)
      const config = `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nipvs:\n  scheduler: rr\nmode: ${w.proxyMode}\n`;
      return ok(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'kube-system', name: 'kube-proxy' }, data: { 'config.conf': config } }));
    }
    if (line.startsWith('kind delete cluster')) {
      w.cluster = false;
      return ok('', 'Deleting cluster "netlab" ...\n');
    }
    if (line.includes('get daemonset/calico-node deployment/calico-kube-controllers')) {
      return w.calico ? ok('daemonset.apps/calico-node\ndeployment.apps/calico-kube-controllers\n') : fail(1, 'Error from server (NotFound): daemonsets.apps "calico-node" not found\n');
    }
    if (/ apply -k \S*calico/.test(line)) {
      w.calico = true;
      return ok('daemonset.apps/calico-node created\n');
    }
    const load = /^kind load docker-image (\S+)/.exec(line);
    if (load) {
      const image = load[1]!;
      if (w.imagesOnNodes.has(image)) return ok('', `Image: "${image}" with ID "sha256:1111" found to be already present on all nodes.\n`);
      w.imagesOnNodes.add(image);
      return ok('', `Image: "${image}" with ID "sha256:2222" not yet present on node "netlab-worker", loading...\n`);
    }
    if (line.includes('get deployment.apps/netlab-operator daemonset.apps/netlab-probe -o name')) {
      return ok(w.workloads ? 'deployment.apps/netlab-operator\ndaemonset.apps/netlab-probe\n' : '');
    }
    if (line.endsWith('apply -k manifests')) {
      w.workloads = true;
      return ok('deployment.apps/netlab-operator created\n');
    }
    if (line.endsWith('get networklabs -A -o json')) {
      this.polls++;
      return ok(networkLabList(this.polls > w.pollsBeforeReport));
    }
    if (line.endsWith('get nlab -A')) {
      return ok('NAMESPACE        NAME               ROUTES   PROXY   SERVICES   DNS    READY   AGE\ndefault          seed-walkthrough   True     ipvs    True       True   True    2m\n');
    }
    return ok();
  }
}

/** Fake bytes standing in for the Calico manifest, and a release whose checksum is theirs. */
export const FAKE_MANIFEST = new TextEncoder().encode('# stands in for calico.yaml in tests\n');
export const FAKE_RELEASE = { ...CALICO, sha256: sha256Hex(FAKE_MANIFEST) };

export interface Harness {
  options: LabOptions;
  deps: LabDeps;
  runner: RecordingRunner;
  output: string[];
  downloads: string[];
}

const cacheDirs: string[] = [];

/** Removes the cache folders the harnesses made (call from afterAll). */
export function removeHarnessDirs(): void {
  for (const dir of cacheDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function labHarness(world: FakeWorld, overrides: Override[] = []): Harness {
  const runner = new RecordingRunner(world, overrides);
  const output: string[] = [];
  const downloads: string[] = [];
  let clock = 0;
  const options: LabOptions = {
    clusterName: 'netlab',
    projectRoot: new URL('../../', import.meta.url).pathname.replace(/\/$/, ''),
    cacheDir: mkdtempSync(join(tmpdir(), 'netlab-lab-test-')),
    waitSeconds: 600,
    calico: FAKE_RELEASE,
    proxyMode: 'ipvs',
  };
  cacheDirs.push(options.cacheDir);
  const timedRunner: CommandRunner = {
    async run(cmd, args, opts) {
      clock += 1500; // every command "takes" 1.5 s, so progress shows non-zero times
      return runner.run(cmd, args, opts);
    },
  };
  const deps: LabDeps = {
    runner: timedRunner,
    out: (line) => output.push(line),
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    download: async (url) => {
      downloads.push(url);
      return FAKE_MANIFEST;
    },
  };
  return { options, deps, runner, output, downloads };
}
