// Unit tests of `netlab lab up|down|status` with docker, kind and kubectl replaced by a recording fake
// (test/lab/fake-commands.ts): they prove the order of the commands, what is skipped on a second run, and
// the messages; not that the real tools behave as imitated (that is the conformance suite's job).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { CALICO } from '../../src/lab/calico.ts';
import { registerLabCommands } from '../../src/lab/commands.ts';
import { labOptions } from '../../src/lab/environment.ts';
import { kindConfigFor, LabError, labDown, labStatus, labUp, readLabStates } from '../../src/lab/lab.ts';
import { NOT_FOUND } from '../../src/lab/runner.ts';
import { FAKE_MANIFEST, builtWorld, freshWorld, labHarness, removeHarnessDirs } from './fake-commands.ts';

const CTX = 'kubectl --context kind-netlab';

afterAll(removeHarnessDirs);

async function failure(promise: Promise<unknown>): Promise<LabError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof LabError) return e;
    throw e;
  }
  throw new Error('expected the lab command to fail');
}

describe('orchestration (recording fake commands): lab up', () => {
  test('a first run issues exactly this command sequence and ends with the labs table', async () => {
    const h = labHarness(freshWorld());
    await labUp(h.options, h.deps);
    const calicoDir = join(h.options.cacheDir, 'calico', 'v3.32.1');
    expect(h.runner.calls).toEqual([
      'docker info --format {{.ServerVersion}}',
      'kind version',
      'kubectl version --client -o json',
      'kind get clusters',
      'kind create cluster --name netlab --config kind-config.yaml',
      `${CTX} -n kube-system get daemonset/calico-node deployment/calico-kube-controllers -o name`,
      `${CTX} apply -k ${calicoDir}`,
      `${CTX} -n kube-system rollout status daemonset/calico-node --timeout=600s`,
      `${CTX} -n kube-system rollout status deployment/calico-kube-controllers --timeout=600s`,
      `${CTX} wait --for=condition=Ready nodes --all --timeout=600s`,
      `${CTX} -n kube-system rollout status deployment/coredns --timeout=600s`,
      'docker build -t netlab-operator:dev -f Dockerfile .',
      'docker build -t netlab-probe:dev -f Dockerfile.probe .',
      'kind load docker-image netlab-operator:dev --name netlab',
      'kind load docker-image netlab-probe:dev --name netlab',
      `${CTX} apply -k crds`,
      `${CTX} wait --for=condition=Established crd/networklabs.netlab.dev --timeout=600s`,
      `${CTX} -n netlab-system get deployment.apps/netlab-operator daemonset.apps/netlab-probe -o name --ignore-not-found`,
      `${CTX} apply -k manifests`,
      `${CTX} -n netlab-system rollout status deployment.apps/netlab-operator --timeout=600s`,
      `${CTX} -n netlab-system rollout status daemonset.apps/netlab-probe --timeout=600s`,
      `${CTX} get networklabs -A -o json`,
      `${CTX} get networklabs -A -o json`,
      `${CTX} get nlab -A`,
    ]);
    // the Calico manifest was fetched once from the pinned URL, and applied from the checked copy
    expect(h.downloads).toEqual([CALICO.manifestUrl]);
    expect(readFileSync(join(calicoDir, 'calico.yaml'))).toEqual(Buffer.from(FAKE_MANIFEST));
    expect(readFileSync(join(calicoDir, 'kustomization.yaml'), 'utf8')).toMatch(/resources:\n {2}- calico\.yaml\npatches:\n {2}- path: calico-node-ippool\.yaml/);
    expect(existsSync(join(calicoDir, 'calico-node-ippool.yaml'))).toBe(true);
  });

  test('progress names every step with its number, time and the running total', async () => {
    const h = labHarness(freshWorld());
    await labUp(h.options, h.deps);
    const finished = h.output.filter((l) => /^\[\d\/9\] .*: .* in \d/.test(l));
    expect(finished.map((l) => l.replace(/ in .*/, ''))).toEqual([
      '[1/9] Check prerequisites: docker 28.2.2, kind 0.33.0, kubectl 1.37.0',
      '[2/9] Create the kind cluster "netlab": created (kubectl context kind-netlab, kube-proxy mode ipvs)',
      '[3/9] Install Calico v3.32.1: applied',
      '[4/9] Wait for Calico, the nodes and CoreDNS: ready',
      '[5/9] Build the operator and probe images: built',
      '[6/9] Load the images into the kind nodes: loaded netlab-operator:dev, netlab-probe:dev',
      '[7/9] Install the NetworkLab CRD: established',
      '[8/9] Install the operator, the probe and the sample labs: running',
      '[9/9] Wait for every sample lab to report: 2 labs reported',
    ]);
    // each command takes 1.5 s on the fake clock: step 2 ran two commands
    expect(finished[1]).toMatch(/ in 3\.0s \(total 7\.5s\)$/);
    expect(h.output).toContain('      0/2 reported: default/seed-walkthrough waiting, netlab-samples/session-affinity waiting');
    expect(h.output).toContain('      2/2 reported: default/seed-walkthrough Ready=True (AllVerified), netlab-samples/session-affinity Ready=True (AllVerified)');
    expect(h.output.join('\n')).toMatch(/seed-walkthrough {3}True {5}ipvs {4}True/);
    expect(h.output.join('\n')).toContain('kubectl describe nlab -n default seed-walkthrough');
  });

  test.each([
    ['docker is not installed', /^docker info/, { code: NOT_FOUND, stdout: '', stderr: 'docker: command not found' }, /docker is not on PATH \(kind runs each Kubernetes node as a Docker container\): install Docker Engine/],
    ['the Docker daemon is down', /^docker info/, { code: 1, stdout: '', stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n' }, /the Docker daemon is not reachable \(Cannot connect to the Docker daemon at unix:\/\/\/var\/run\/docker\.sock\. Is the docker daemon running\?\): start Docker/],
    ['Docker is too old', /^docker info/, { code: 0, stdout: '19.03.15\n', stderr: '' }, /docker 19\.3\.15 is older than the 20\.10\.0 the lab needs/],
    ['kind is not installed', /^kind version/, { code: NOT_FOUND, stdout: '', stderr: 'kind: command not found' }, /kind is not on PATH \(kind creates the lab cluster from kind-config\.yaml\): go install sigs\.k8s\.io\/kind@v0\.33\.0/],
    ['kind is too old', /^kind version/, { code: 0, stdout: 'kind v0.29.0 go1.24.2 linux/amd64\n', stderr: '' }, /kind 0\.29\.0 is older than the 0\.33\.0 the lab needs/],
    ['kubectl is not installed', /^kubectl version/, { code: NOT_FOUND, stdout: '', stderr: 'kubectl: command not found' }, /kubectl is not on PATH \(kubectl applies the manifests and waits for them\): install kubectl 1\.36 or newer/],
    ['kubectl is too old', /^kubectl version/, { code: 0, stdout: '{"clientVersion":{"gitVersion":"v1.34.2"}}', stderr: '' }, /kubectl 1\.34\.2 is older than the 1\.36\.0 the lab needs/],
  ])('%s: lab up names it, says how to get it, and runs no cluster command', async (_name, pattern, result, message) => {
    const h = labHarness(freshWorld(), [[pattern, result]]);
    const err = await failure(labUp(h.options, h.deps));
    expect(err.step).toBe('Check prerequisites');
    expect(err.message).toMatch(/^netlab lab up failed at step 1\/9 "Check prerequisites"/);
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/retry: install or start what is listed above/);
    expect(h.runner.calls).toEqual(['docker info --format {{.ServerVersion}}', 'kind version', 'kubectl version --client -o json']);
  });

  test('everything missing at once is named in one run', async () => {
    const missing = { code: NOT_FOUND, stdout: '', stderr: 'command not found' };
    const h = labHarness(freshWorld(), [[/^docker /, missing], [/^kind /, missing], [/^kubectl /, missing]]);
    const err = await failure(labUp(h.options, h.deps));
    expect(err.message.match(/ is not on PATH/g)).toHaveLength(3);
  });

  test('a failing step stops the run with the step, the command, its output and a retry hint', async () => {
    const timeout = { code: 1, stdout: 'Waiting for daemon set "calico-node" rollout to finish: 1 of 3 updated pods are available...\n', stderr: 'error: timed out waiting for the condition\n' };
    const h = labHarness(freshWorld(), [[/rollout status daemonset\/calico-node/, timeout]]);
    const err = await failure(labUp(h.options, h.deps));
    expect(err.step).toBe('Wait for Calico, the nodes and CoreDNS');
    expect(err.message).toMatch(/^netlab lab up failed at step 4\/9 "Wait for Calico, the nodes and CoreDNS" \(after \d+\.\ds\):/);
    expect(err.message).toContain('`kubectl --context kind-netlab -n kube-system rollout status daemonset/calico-node --timeout=600s` exited with code 1');
    expect(err.message).toContain('| error: timed out waiting for the condition');
    expect(err.message).toContain('retry: `kubectl --context kind-netlab -n kube-system get pods -o wide` shows what is not ready');
    // nothing after the failing command ran
    expect(h.runner.calls.at(-1)).toMatch(/rollout status daemonset\/calico-node/);
    expect(h.runner.calls.some((c) => c.startsWith('docker build'))).toBe(false);
  });

  test('retry hints name the cluster when it is not the default one', async () => {
    const h = labHarness(freshWorld(), [[/^kind create cluster/, { code: 1, stdout: '', stderr: 'ERROR: failed to create cluster: node(s) already exist for a cluster with the name "demo"\n' }]]);
    h.options.clusterName = 'demo';
    const err = await failure(labUp(h.options, h.deps));
    expect(err.message).toContain('| ERROR: failed to create cluster: node(s) already exist');
    expect(err.retry).toBe('run `netlab lab up --name demo` again; if the cluster was left half-created, run `netlab lab down --name demo` first');
  });

  test('a Calico manifest with the wrong checksum is not applied', async () => {
    const h = labHarness(freshWorld());
    h.options.calico = { ...h.options.calico, sha256: '0'.repeat(64) };
    const err = await failure(labUp(h.options, h.deps));
    expect(err.step).toBe('Install Calico v3.32.1');
    expect(err.message).toMatch(/has SHA-256 [0-9a-f]{64}, not the recorded 0{64}: .*Nothing was applied/);
    expect(h.runner.calls.some((c) => c.includes('apply -k'))).toBe(false);
  });

  test('a second run on a built lab skips creation and Calico, loads nothing, restarts nothing', async () => {
    const h = labHarness(builtWorld());
    await labUp(h.options, h.deps);
    expect(h.runner.calls.filter((c) => /^kind (create|export|load)|apply -k|rollout restart|configmap kube-proxy/.test(c))).toEqual([
      'kind export kubeconfig --name netlab',
      `${CTX} -n kube-system get configmap kube-proxy -o json`,
      'kind load docker-image netlab-operator:dev --name netlab',
      'kind load docker-image netlab-probe:dev --name netlab',
      `${CTX} apply -k crds`,
      `${CTX} apply -k manifests`,
    ]);
    expect(h.downloads).toEqual([]);
    expect(h.output).toEqual(expect.arrayContaining([
      expect.stringMatching(/^\[2\/9\] Create the kind cluster "netlab": already exists \(kubectl context kind-netlab, kube-proxy mode ipvs\)/),
      expect.stringMatching(/^\[3\/9\] Install Calico v3\.32\.1: already installed/),
      expect.stringMatching(/^\[6\/9\] Load the images into the kind nodes: already on every node/),
    ]));
  });

  test('a run after a half-made lab fixes only what is missing: Calico from the cache, a rebuilt image restarted', async () => {
    const first = labHarness(freshWorld());
    await labUp(first.options, first.deps); // fills the Calico cache
    const world = builtWorld();
    world.calico = false; // someone deleted Calico
    world.imagesOnNodes.delete('netlab-probe:dev'); // and the probe image changed
    const h = labHarness(world);
    h.options.cacheDir = first.options.cacheDir;
    await labUp(h.options, h.deps);
    expect(h.downloads).toEqual([]);
    expect(h.runner.calls.filter((c) => /kind create|apply -k \S*calico|rollout restart/.test(c))).toEqual([
      `${CTX} apply -k ${join(h.options.cacheDir, 'calico', 'v3.32.1')}`,
      `${CTX} -n netlab-system rollout restart daemonset.apps/netlab-probe`,
    ]);
  });

  test('--proxy-mode nftables: kind gets kind-config.yaml with only kubeProxyMode changed, on standard input', async () => {
    const h = labHarness(freshWorld());
    h.options.proxyMode = 'nftables';
    await labUp(h.options, h.deps);
    expect(h.runner.calls).toContain('kind create cluster --name netlab --config -');
    const given = h.runner.inputs.get('kind create cluster --name netlab --config -')!;
    const file = readFileSync(join(h.options.projectRoot, 'kind-config.yaml'), 'utf8');
    expect(given).toBe(kindConfigFor(file, 'nftables'));
    expect(h.runner.world.proxyMode).toBe('nftables');
    expect(h.output).toEqual(expect.arrayContaining([expect.stringMatching(/^\[2\/9\] Create the kind cluster "netlab": created \(kubectl context kind-netlab, kube-proxy mode nftables\)/)]));
  });

  test('the default (IPVS) gives kind the file itself, as before', async () => {
    const h = labHarness(freshWorld());
    await labUp(h.options, h.deps);
    expect(h.runner.calls).toContain('kind create cluster --name netlab --config kind-config.yaml');
    expect(h.runner.inputs.size).toBe(0);
  });

  test('an existing cluster in another mode stops lab up at step 2, naming both modes and what to do', async () => {
    const h = labHarness(builtWorld()); // kube-proxy in IPVS mode
    h.options.proxyMode = 'iptables';
    const err = await failure(labUp(h.options, h.deps));
    expect(err.step).toBe('Create the kind cluster "netlab"');
    expect(err.message).toContain('the cluster "netlab" runs kube-proxy in ipvs mode, not iptables, and kind cannot change the mode of a cluster: `netlab lab down` first, or give another --name');
    expect(err.retry).toContain('netlab lab up --proxy-mode iptables');
    expect(h.runner.calls.some((c) => c.startsWith('kind create') || c.includes('apply -k'))).toBe(false);
  });

  test('labs that never report end the wait with their names', async () => {
    const h = labHarness({ ...freshWorld(), pollsBeforeReport: Number.POSITIVE_INFINITY });
    h.options.waitSeconds = 30;
    const err = await failure(labUp(h.options, h.deps));
    expect(err.step).toBe('Wait for every sample lab to report');
    expect(err.message).toContain('after 30s, still waiting for default/seed-walkthrough, netlab-samples/session-affinity');
    // polled every 5 s until the deadline, not in a busy loop
    const polls = h.runner.calls.filter((c) => c.endsWith('get networklabs -A -o json')).length;
    expect(polls).toBeGreaterThanOrEqual(5);
    expect(polls).toBeLessThanOrEqual(8);
  });
});

describe('orchestration (recording fake commands): lab down and lab status', () => {
  test('lab down deletes an existing cluster', async () => {
    const h = labHarness(builtWorld());
    await labDown(h.options, h.deps);
    expect(h.runner.calls).toEqual(['kind version', 'kind get clusters', 'kind delete cluster --name netlab']);
    expect(h.runner.world.cluster).toBe(false);
  });

  test('lab down with no cluster deletes nothing and says so', async () => {
    const h = labHarness(freshWorld());
    await labDown(h.options, h.deps);
    expect(h.runner.calls).toEqual(['kind version', 'kind get clusters']);
    expect(h.output.at(-1)).toMatch(/^\[2\/2\] Delete the kind cluster "netlab": nothing to delete \(no such cluster\)/);
  });

  test('lab status shows every section of a built lab and returns the labs', async () => {
    const h = labHarness(builtWorld());
    const status = await labStatus(h.options, h.deps);
    expect(status).toEqual({
      clusterExists: true,
      labs: [
        { namespace: 'default', name: 'seed-walkthrough', ready: 'True', reason: 'AllVerified' },
        { namespace: 'netlab-samples', name: 'session-affinity', ready: 'True', reason: 'AllVerified' },
      ],
    });
    expect(h.output.filter((l) => l.endsWith(':'))).toEqual(['Nodes:', 'Calico, kube-proxy and CoreDNS:', 'netlab:', 'Labs:']);
  });

  test('lab status without a cluster says how to make one and runs no kubectl', async () => {
    const h = labHarness(freshWorld());
    expect(await labStatus(h.options, h.deps)).toEqual({ clusterExists: false, labs: [] });
    expect(h.output).toEqual(['No kind cluster named "netlab": `netlab lab up` creates it.']);
    expect(h.runner.calls).toEqual(['kind get clusters']);
  });
});

describe('orchestration (recording fake commands): the lab command line', () => {
  async function runCli(argv: string[], world = freshWorld(), overrides: Parameters<typeof labHarness>[1] = []) {
    const h = labHarness(world, overrides);
    const codes: number[] = [];
    const program = new Command('netlab').exitOverride();
    registerLabCommands(program, (code) => codes.push(code), {
      // the command line's own parsing, with the fake's cache and Calico release
      options: (cli) => ({ ...labOptions(cli), cacheDir: h.options.cacheDir, calico: h.options.calico }),
      deps: () => h.deps,
    });
    const stderr: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => {
      stderr.push(chunk);
      return true;
    }) as typeof process.stderr.write;
    try {
      await program.parseAsync(['node', 'netlab', ...argv]);
    } finally {
      process.stderr.write = write;
    }
    return { h, codes, stderr: stderr.join('') };
  }

  test('`lab up --name demo --wait-timeout 90` reaches the orchestration with those options and exits 0', async () => {
    const { h, codes } = await runCli(['lab', 'up', '--name', 'demo', '--wait-timeout', '90']);
    expect(codes).toEqual([0]);
    expect(h.runner.calls).toContain('kind create cluster --name demo --config kind-config.yaml');
    expect(h.runner.calls).toContain('kubectl --context kind-demo wait --for=condition=Ready nodes --all --timeout=90s');
  });

  test('`lab up --proxy-mode iptables` reaches the orchestration; an unknown mode is a usage error', async () => {
    const { h, codes } = await runCli(['lab', 'up', '--proxy-mode', 'iptables']);
    expect(codes).toEqual([0]);
    expect(h.runner.world.proxyMode).toBe('iptables');
    await expect(runCli(['lab', 'up', '--proxy-mode', 'ebpf'])).rejects.toThrow(/Allowed choices are ipvs, nftables, iptables/);
  });

  test('a failed step prints its message on stderr and exits 1', async () => {
    const { codes, stderr } = await runCli(['lab', 'up'], freshWorld(), [[/^kind version/, { code: NOT_FOUND, stdout: '', stderr: '' }]]);
    expect(codes).toEqual([1]);
    expect(stderr).toMatch(/^netlab lab up failed at step 1\/9 "Check prerequisites"/);
  });

  test('lab status exits 1 when there is no cluster and 0 when every lab is Ready', async () => {
    expect((await runCli(['lab', 'status'])).codes).toEqual([1]);
    expect((await runCli(['lab', 'status'], builtWorld())).codes).toEqual([0]);
  });

  test('a bad --wait-timeout is a usage error', async () => {
    await expect(runCli(['lab', 'up', '--wait-timeout', 'soon'])).rejects.toThrow(/give a whole number of seconds/);
  });
});

describe('readLabStates', () => {
  const lab = (generation: number, status?: object) => JSON.stringify({ items: [{ metadata: { namespace: 'n', name: 'l', generation }, status }] });

  test('a Ready condition for the current generation counts as reported', () => {
    expect(readLabStates(lab(2, { conditions: [{ type: 'Ready', status: 'False', reason: 'RoutesFailed', observedGeneration: 2 }] }))).toEqual([
      { namespace: 'n', name: 'l', ready: 'False', reason: 'RoutesFailed' },
    ]);
  });

  test('a Ready condition for an older generation, or none, is still waiting', () => {
    expect(readLabStates(lab(3, { conditions: [{ type: 'Ready', status: 'True', observedGeneration: 2 }] }))[0]?.ready).toBeNull();
    expect(readLabStates(lab(1, { conditions: [{ type: 'RoutesVerified', status: 'True' }] }))[0]?.ready).toBeNull();
    expect(readLabStates(lab(1))[0]?.ready).toBeNull();
  });

  test('without a per-condition generation, status.observedGeneration decides', () => {
    expect(readLabStates(lab(2, { observedGeneration: 2, conditions: [{ type: 'Ready', status: 'Unknown' }] }))[0]?.ready).toBe('Unknown');
    expect(readLabStates(lab(2, { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] }))[0]?.ready).toBeNull();
  });

  test('output that is not JSON is an error that says what printed it', () => {
    expect(() => readLabStates('error: the server does not have a resource type "networklabs"')).toThrow(/kubectl get networklabs -A -o json printed something that is not JSON/);
  });
});
