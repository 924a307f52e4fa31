// What `netlab lab up` needs on the user's machine, and how each tool reports its version.
// Parsing is pure; checkPrerequisites() runs the three commands and names everything missing at once.
import { NOT_FOUND, type CommandRunner, type CommandResult, formatCommand } from './runner.ts';

export interface Version {
  major: number;
  minor: number;
  patch: number;
}

export interface ToolRequirement {
  tool: 'docker' | 'kind' | 'kubectl';
  /** the command whose output gives the version; for docker it also proves the daemon answers */
  args: string[];
  minimum: Version;
  why: string;
  install: string;
  parse(stdout: string): Version | null;
}

export function parseVersion(text: string): Version | null {
  const m = /v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

export function versionAtLeast(v: Version, min: Version): boolean {
  if (v.major !== min.major) return v.major > min.major;
  if (v.minor !== min.minor) return v.minor > min.minor;
  return v.patch >= min.patch;
}

export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** `kubectl version --client -o json` prints {"clientVersion": {"gitVersion": "v1.37.0", ...}, ...}. */
function parseKubectlVersion(stdout: string): Version | null {
  try {
    const doc = JSON.parse(stdout) as { clientVersion?: { gitVersion?: unknown } };
    const git = doc.clientVersion?.gitVersion;
    return typeof git === 'string' ? parseVersion(git) : null;
  } catch {
    return null;
  }
}

export const REQUIREMENTS: ToolRequirement[] = [
  {
    tool: 'docker',
    args: ['info', '--format', '{{.ServerVersion}}'],
    // kind starts every node container with --cgroupns=private, a flag Docker added in 20.10.
    minimum: { major: 20, minor: 10, patch: 0 },
    why: 'kind runs each Kubernetes node as a Docker container',
    install: 'install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop, start it, and make sure `docker info` works for your user',
    parse: parseVersion,
  },
  {
    tool: 'kind',
    args: ['version'],
    // kind-config.yaml pins the node image published with kind v0.33.0; node images are built for one kind release.
    minimum: { major: 0, minor: 33, patch: 0 },
    why: 'kind creates the lab cluster from kind-config.yaml',
    install: 'go install sigs.k8s.io/kind@v0.33.0 (or a release binary: https://kind.sigs.k8s.io/docs/user/quick-start/#installation)',
    parse: parseVersion,
  },
  {
    tool: 'kubectl',
    args: ['version', '--client', '-o', 'json'],
    // kubectl supports one minor version of skew either way; the lab runs Kubernetes 1.37.
    minimum: { major: 1, minor: 36, patch: 0 },
    why: 'kubectl applies the manifests and waits for them',
    install: 'install kubectl 1.36 or newer (https://kubernetes.io/docs/tasks/tools/#kubectl)',
    parse: parseKubectlVersion,
  },
];

export interface ToolStatus {
  tool: ToolRequirement['tool'];
  version: Version | null;
  /** null when the tool is usable; otherwise what is wrong and how to fix it, in one line */
  problem: string | null;
}

/** Judges one tool from the result of its version command. Pure. */
export function judgeTool(req: ToolRequirement, result: CommandResult): ToolStatus {
  const fix = `: ${req.install}`;
  if (result.code === NOT_FOUND) {
    return { tool: req.tool, version: null, problem: `${req.tool} is not on PATH (${req.why})${fix}` };
  }
  if (result.code !== 0) {
    const said = firstLine(result.stderr) || firstLine(result.stdout) || `exit code ${result.code}`;
    const what = req.tool === 'docker' ? 'the Docker daemon is not reachable' : `\`${formatCommand(req.tool, req.args)}\` failed`;
    return { tool: req.tool, version: null, problem: `${what} (${said})${req.tool === 'docker' ? ': start Docker, or check DOCKER_HOST and your permission on the socket' : fix}` };
  }
  const version = req.parse(result.stdout);
  if (!version) {
    return { tool: req.tool, version: null, problem: `could not read the ${req.tool} version from ${JSON.stringify(firstLine(result.stdout))}${fix}` };
  }
  if (!versionAtLeast(version, req.minimum)) {
    return {
      tool: req.tool,
      version,
      problem: `${req.tool} ${formatVersion(version)} is older than the ${formatVersion(req.minimum)} the lab needs${fix}`,
    };
  }
  return { tool: req.tool, version, problem: null };
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
}

/** Runs every check (not stopping at the first problem) so one run names everything that is missing. */
export async function checkPrerequisites(runner: CommandRunner, tools: ToolRequirement['tool'][]): Promise<ToolStatus[]> {
  const statuses: ToolStatus[] = [];
  for (const req of REQUIREMENTS.filter((r) => tools.includes(r.tool))) {
    statuses.push(judgeTool(req, await runner.run(req.tool, req.args)));
  }
  return statuses;
}
