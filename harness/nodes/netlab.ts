// netlab installed on the node cluster the way a user installs it: `kubectl apply -k` of the project's
// manifests, unchanged. The manifests name the images `netlab-operator:dev` and `netlab-probe:dev` with
// `imagePullPolicy: IfNotPresent`, the names the harness imports into every node's containerd, so no
// overlay is needed: what runs is exactly what `kubectl apply -k manifests/` gives a user.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { binDir, PROJECT_ROOT } from '../control-plane/binaries.ts';

const run = promisify(execFile);

export interface NetlabInstall {
  /** what kubectl printed on stderr while applying: the apiserver's warnings (Pod Security's among them) */
  warnings: string[];
  /** milliseconds per step */
  timings: Record<string, number>;
}

/**
 * Applies the CRD, waits until it is Established, then applies manifests/ (operator, RBAC, probe
 * DaemonSet, samples) and waits until both operator replicas and every probe Pod are ready.
 */
export async function installNetlab(kubeconfig: string, log: (line: string) => void, timeoutS = 900): Promise<NetlabInstall> {
  const kubectl = path.join(binDir(), 'kubectl');
  const warnings: string[] = [];
  const timings: Record<string, number> = {};
  const step = async (name: string, args: string[]) => {
    const began = performance.now();
    try {
      const { stdout, stderr } = await run(kubectl, ['--kubeconfig', kubeconfig, ...args], { cwd: PROJECT_ROOT, maxBuffer: 16 << 20 });
      warnings.push(...stderr.split('\n').filter((line) => line.trim()));
      for (const line of stdout.trim().split('\n')) if (line) log(`netlab harness: ${line}`);
    } catch (error) {
      const { stderr, message } = error as { stderr?: string; message: string };
      throw new Error(`installing netlab: kubectl ${args.join(' ')} failed: ${stderr?.trim() || message}`);
    }
    timings[name] = Math.round(performance.now() - began);
  };
  // The CRD first: in one apply, kubectl would reject the sample labs before the CRD is served.
  await step('crd', ['apply', '-k', 'crds']);
  await step('crd established', ['wait', '--for=condition=Established', 'crd/networklabs.netlab.dev', '--timeout=60s']);
  await step('apply', ['apply', '-k', 'manifests']);
  await step('operator ready', ['-n', 'netlab-system', 'rollout', 'status', 'deployment/netlab-operator', `--timeout=${timeoutS}s`]);
  await step('probes ready', ['-n', 'netlab-system', 'rollout', 'status', 'daemonset/netlab-probe', `--timeout=${timeoutS}s`]);
  log(`netlab harness: netlab installed with kubectl apply -k manifests/ (${Object.entries(timings).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ')})`);
  return { warnings, timings };
}
