// The real CommandRunner, with real child processes (the Node binary running this test).
import { createProcessRunner, formatCommand, NOT_FOUND, TIMED_OUT } from '../../src/lab/runner.ts';

const node = process.execPath;

describe('createProcessRunner (real processes)', () => {
  test('captures stdout, stderr and the exit code, and feeds stdin', async () => {
    const runner = createProcessRunner(process.cwd());
    const script = 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{process.stdout.write(s.toUpperCase());process.stderr.write("warn\\n");process.exit(3)})';
    expect(await runner.run(node, ['-e', script], { input: 'hello' })).toEqual({ code: 3, stdout: 'HELLO', stderr: 'warn\n' });
  });

  test('a program that is not installed resolves with 127 and names it', async () => {
    const runner = createProcessRunner(process.cwd());
    expect(await runner.run('netlab-no-such-program', ['--version'])).toEqual({ code: NOT_FOUND, stdout: '', stderr: 'netlab-no-such-program: command not found' });
  });

  test('a command that outlives its timeout is stopped and resolves with 124', async () => {
    const runner = createProcessRunner(process.cwd());
    const started = Date.now();
    const result = await runner.run(node, ['-e', 'setTimeout(() => {}, 60000)'], { timeoutMs: 200 });
    expect(result.code).toBe(TIMED_OUT);
    expect(result.stderr).toMatch(/timed out after 200 ms/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('with an echo, output is relayed line by line while the command runs, and still captured', async () => {
    const echoed: string[] = [];
    const runner = createProcessRunner(process.cwd(), (line) => echoed.push(line));
    const result = await runner.run(node, ['-e', 'process.stdout.write("one\\ntw"); setTimeout(() => process.stdout.write("o\\nthree\\n"), 50)']);
    expect(result.stdout).toBe('one\ntwo\nthree\n');
    expect(echoed).toEqual(['    one', '    two', '    three']);
  });

  test('runs in the given working directory', async () => {
    const runner = createProcessRunner('/');
    expect((await runner.run(node, ['-e', 'process.stdout.write(process.cwd())'])).stdout).toBe('/');
  });
});

describe('formatCommand', () => {
  test('quotes only what a shell would split or expand', () => {
    expect(formatCommand('kubectl', ['get', 'nlab', '-A'])).toBe('kubectl get nlab -A');
    expect(formatCommand('docker', ['info', '--format', '{{.ServerVersion}}'])).toBe('docker info --format {{.ServerVersion}}');
    expect(formatCommand('sh', ['-c', "echo 'a b'"])).toBe(`sh -c 'echo '\\''a b'\\'''`);
  });
});
