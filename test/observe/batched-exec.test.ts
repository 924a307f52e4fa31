// batchedNodeExec against a real shell: the inner NodeExec runs argv on this machine (the script is what a
// probe Pod's `sh` would run), and counts the execs it was asked for. The operator puts it in front of the
// probe Pods' exec; test/integration/nodes.test.ts runs that path on the VM cluster.
import { batchedNodeExec, batchScript, splitBatch } from '../../src/observe/batched-exec.ts';
import { ExecChannelError, ExecError, ExecTimeoutError, outputOf, type NodeExec } from '../../src/observe/exec.ts';
import { createProcessRunner } from '../../src/lab/runner.ts';

/** Runs argv here, as the agent of a node would; `execs` lists each call's argv. */
function localExec() {
  const execs: string[][] = [];
  const runner = createProcessRunner(process.cwd());
  const exec: NodeExec = {
    async exec(_node, argv) {
      execs.push(argv);
      const { stdout, stderr, code } = await runner.run(argv[0]!, argv.slice(1));
      return { stdout, stderr, exitCode: code };
    },
  };
  return { exec, execs };
}

const sh = (script: string) => ['sh', '-c', script];

test('commands asked of a node in one turn run in one exec, each with its own stdout, stderr and exit status', async () => {
  const local = localExec();
  const batched = batchedNodeExec(local.exec);
  const [a, b, c, d] = await Promise.all([
    batched.exec('node-1', ['printf', 'Kernel IP routing table\\n0.0.0.0 10.0.0.1\\n']),
    batched.exec('node-1', sh("printf 'no newline at the end'; echo 'a warning' >&2")),
    batched.exec('node-1', sh('echo "Can\'t initialize ipvs" >&2; exit 2')),
    batched.exec('node-1', ['printf', '']),
  ]);
  expect(local.execs).toHaveLength(1);
  expect(local.execs[0]![0]).toBe('sh');
  expect(a).toEqual({ stdout: 'Kernel IP routing table\n0.0.0.0 10.0.0.1\n', stderr: '', exitCode: 0 });
  expect(b).toEqual({ stdout: 'no newline at the end', stderr: 'a warning\n', exitCode: 0 });
  expect(c).toEqual({ stdout: '', stderr: "Can't initialize ipvs\n", exitCode: 2 });
  expect(d).toEqual({ stdout: '', stderr: '', exitCode: 0 });
});

test('arguments with quotes and spaces reach the command as they were given', async () => {
  const local = localExec();
  const batched = batchedNodeExec(local.exec);
  const args = ["it's", 'two words', '$HOME', '`date`', ''];
  const [printed] = await Promise.all([batched.exec('node-1', ['printf', '[%s]', ...args]), batched.exec('node-1', ['true'])]);
  expect(local.execs).toHaveLength(1);
  expect(printed!.stdout).toBe(args.map((a) => `[${a}]`).join(''));
});

test('each node gets its own exec; a lone command goes as it is, without a shell', async () => {
  const local = localExec();
  const batched = batchedNodeExec(local.exec);
  await Promise.all([batched.exec('node-1', ['echo', '1a']), batched.exec('node-2', ['echo', '2a']), batched.exec('node-1', ['echo', '1b'])]);
  expect(local.execs.map((argv) => argv[0])).toEqual(['sh', 'echo']);
  await batched.exec('node-1', ['echo', 'later']);
  expect(local.execs.at(-1)).toEqual(['echo', 'later']);
});

test('a failed command keeps outputOf\'s message, naming itself and the node', async () => {
  const batched = batchedNodeExec(localExec().exec);
  const [ok, failed] = await Promise.allSettled([outputOf(batched, 'node-3', ['echo', 'fine']), outputOf(batched, 'node-3', sh('echo nope >&2; exit 4'))]);
  expect(ok).toEqual({ status: 'fulfilled', value: 'fine\n' });
  expect(failed.status === 'rejected' && (failed.reason as Error).message).toBe("`sh -c 'echo nope >&2; exit 4'` on node node-3: exit code 4: nope");
});

test('a timeout or a broken connection of the batch fails each command with the same kind of error, naming it', async () => {
  for (const failure of [(argv: string[]) => new ExecTimeoutError('node-1', argv, 500), (argv: string[]) => new ExecChannelError('node-1', argv, 'no ready netlab-probe pod on the node')]) {
    const inner: NodeExec = { exec: async (_node, argv) => Promise.reject(failure(argv)) };
    const batched = batchedNodeExec(inner);
    const [route, ipvs] = await Promise.allSettled([batched.exec('node-1', ['route', '-n'], { timeoutMs: 500 }), batched.exec('node-1', ['ipvsadm', '-Ln'], { timeoutMs: 500 })]);
    const errors = [route, ipvs].map((r) => (r.status === 'rejected' ? (r.reason as Error) : null));
    expect(errors.map((e) => e?.constructor)).toEqual([failure(['x']).constructor, failure(['x']).constructor]);
    expect(errors.map((e) => e?.message)).toEqual([failure(['route', '-n']).message, failure(['ipvsadm', '-Ln']).message]);
  }
});

test('the batch gets the longest timeout its commands allow, and none when one of them sets none', async () => {
  const seen: (number | undefined)[] = [];
  const inner: NodeExec = {
    exec: async (node, argv, options) => {
      seen.push(options?.timeoutMs);
      return localExec().exec.exec(node, argv);
    },
  };
  const batched = batchedNodeExec(inner);
  await Promise.all([batched.exec('n', ['true'], { timeoutMs: 5_000 }), batched.exec('n', ['true'], { timeoutMs: 60_000 })]);
  await Promise.all([batched.exec('n', ['true'], { timeoutMs: 5_000 }), batched.exec('n', ['true'])]);
  expect(seen).toEqual([60_000, undefined]);
});

test('a probe without a shell: the commands run one per exec, on that node from then on', async () => {
  const execs: string[] = [];
  // FAKE probe with no `sh`, as the exec API reports a program missing from the image
  const inner: NodeExec = {
    exec: async (node, argv) => {
      execs.push(`${node}: ${argv[0]}`);
      if (argv[0] === 'sh') throw new ExecError(node, argv, 'exec failed: OCI runtime exec failed: exec: "sh": executable file not found in $PATH');
      return { stdout: `${argv.join(' ')}\n`, stderr: '', exitCode: 0 };
    },
  };
  const batched = batchedNodeExec(inner);
  const first = await Promise.all([batched.exec('node-1', ['route', '-n']), batched.exec('node-1', ['ipvsadm', '-Ln'])]);
  expect(first.map((r) => r.stdout)).toEqual(['route -n\n', 'ipvsadm -Ln\n']);
  await Promise.all([batched.exec('node-1', ['route', '-n']), batched.exec('node-1', ['ipvsadm', '-Ln'])]);
  expect(execs).toEqual(['node-1: sh', 'node-1: route', 'node-1: ipvsadm', 'node-1: route', 'node-1: ipvsadm']);
});

test('a script that fails where the commands alone fail too (a probe Pod on its way out) is tried again at the next check', async () => {
  const execs: string[] = [];
  let podGone = true;
  // FAKE probe Pod that is being replaced: every exec fails until the new one runs
  const inner: NodeExec = {
    exec: async (node, argv) => {
      execs.push(argv[0]!);
      if (podGone) throw new ExecError(node, argv, 'exec failed: container not found ("probe")');
      return localExec().exec.exec(node, argv);
    },
  };
  const batched = batchedNodeExec(inner);
  const failed = await Promise.allSettled([batched.exec('node-2', ['echo', 'a']), batched.exec('node-2', ['echo', 'b'])]);
  expect(failed.map((r) => r.status === 'rejected' && (r.reason as Error).message)).toEqual([
    '`echo a` on node node-2: exec failed: container not found ("probe")',
    '`echo b` on node node-2: exec failed: container not found ("probe")',
  ]);
  podGone = false;
  const later = await Promise.all([batched.exec('node-2', ['echo', 'a']), batched.exec('node-2', ['echo', 'b'])]);
  expect(later.map((r) => r.stdout)).toEqual(['a\n', 'b\n']);
  expect(execs).toEqual(['sh', 'echo', 'echo', 'sh']);
});

test('splitBatch refuses a script that did not run every command to its end', () => {
  const script = batchScript([['true'], ['true']]);
  expect(script[0]).toBe('sh');
  const mark = (i: number) => /printf '\\n%s %d %d\\n' '([^']+)'/.exec(script[2]!)![1] + ` ${i}`;
  const whole = { stdout: `a\n${mark(0)} 0\nb\n${mark(1)} 3\n`, stderr: `\n${mark(0)}\n\n${mark(1)}\n`, exitCode: 0 };
  expect(splitBatch(whole, 2)).toEqual([
    { stdout: 'a', stderr: '', exitCode: 0 },
    { stdout: 'b', stderr: '', exitCode: 3 },
  ]);
  const killed = { stdout: `a\n${mark(0)} 0\nb`, stderr: `\n${mark(0)}\n`, exitCode: 137 };
  expect(splitBatch(killed, 2)).toBeNull();
  expect(splitBatch({ stdout: '', stderr: 'sh: not found', exitCode: 127 }, 2)).toBeNull();
});
