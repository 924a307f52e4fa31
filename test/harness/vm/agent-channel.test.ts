// The host side of the VM exec channel against a stand-in agent on a Unix socket (no QEMU needed):
// answers matched by id in any order, and every failure named with the node and the command.
// The stand-in speaks harness/vm/agent's JSON-lines protocol; the real agent is exercised by the
// integration suites that boot the VM.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { commandText, ExecChannelError, ExecError, ExecTimeoutError, outputOf } from '../../../src/observe/exec.ts';
import { AgentChannel } from '../../../harness/vm/agent-channel.ts';

interface Request {
  id: number;
  op: string;
  argv?: string[];
  stdin?: string;
  timeoutMs?: number;
}

type Reply = (request: Request, send: (answer: object) => void, socket: net.Socket) => void;

let dir: string;
let server: net.Server | null = null;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-agent-test-'));
});

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
  rmSync(dir, { recursive: true, force: true });
});

/** A stand-in agent: hands each request line to `reply`. */
async function fakeAgent(reply: Reply): Promise<string> {
  const socketPath = path.join(dir, 'exec.sock');
  server = net.createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const request = JSON.parse(buffer.slice(0, newline)) as Request;
        buffer = buffer.slice(newline + 1);
        reply(request, (answer) => socket.write(`${JSON.stringify({ id: request.id, ...answer })}\n`), socket);
      }
    });
  });
  await new Promise<void>((resolve) => server!.listen(socketPath, resolve));
  return socketPath;
}

const connect = (socketPath: string) => AgentChannel.connect(socketPath, 'node-a', () => true, 2_000);

test('answers are matched to their requests by id, whatever order they come back in', async () => {
  const socketPath = await fakeAgent((req, send) => {
    // the first command answers last
    setTimeout(() => send({ stdout: `ran ${req.argv!.join(' ')}`, stderr: '', exitCode: req.argv!.length }), req.argv![0] === 'slow' ? 50 : 0);
  });
  const channel = await connect(socketPath);
  const [slow, fast] = await Promise.all([channel.run(['slow', 'x']), channel.run(['fast'])]);
  expect(slow).toEqual({ stdout: 'ran slow x', stderr: '', exitCode: 2 });
  expect(fast).toEqual({ stdout: 'ran fast', stderr: '', exitCode: 1 });
  channel.close();
});

test('stdin and the timeout travel with the request', async () => {
  const seen: Request[] = [];
  const socketPath = await fakeAgent((req, send) => {
    seen.push(req);
    send({ stdout: '', stderr: '', exitCode: 0 });
  });
  const channel = await connect(socketPath);
  await channel.run(['sh', '-c', 'cat > /f'], { stdin: 'data\n', timeoutMs: 1234 });
  expect(seen).toEqual([{ id: 1, op: 'exec', argv: ['sh', '-c', 'cat > /f'], stdin: 'data\n', timeoutMs: 1234 }]);
  channel.close();
});

test('waitForAgent ignores late answers to earlier pings and returns the guest clock', async () => {
  let pings = 0;
  const socketPath = await fakeAgent((req, send) => {
    pings++;
    if (pings === 2) {
      send({ exitCode: 0, guestTimeMs: 41, id: 1 }); // a late answer to the first ping, given up on
      send({ exitCode: 0, guestTimeMs: 42 });
    }
  });
  const channel = await connect(socketPath);
  await expect(channel.waitForAgent(5_000, () => true)).resolves.toEqual({ guestTimeMs: 42 });
  expect(pings).toBe(2);
  channel.close();
});

test('a command the agent killed for its timeout rejects with ExecTimeoutError naming node and command', async () => {
  const socketPath = await fakeAgent((req, send) => send({ exitCode: -1, timedOut: true, error: `killed after ${req.timeoutMs}ms` }));
  const channel = await connect(socketPath);
  const failure = channel.run(['sleep', '60'], { timeoutMs: 500 });
  await expect(failure).rejects.toBeInstanceOf(ExecTimeoutError);
  await expect(failure).rejects.toThrow('`sleep 60` on node node-a: timed out after 500 ms');
  channel.close();
});

test('a command that could not start rejects with the agent\'s reason', async () => {
  const socketPath = await fakeAgent((_req, send) => send({ exitCode: -1, error: 'exec: "nope": executable file not found in $PATH' }));
  const channel = await connect(socketPath);
  await expect(channel.run(['nope'])).rejects.toThrow(new ExecError('node-a', ['nope'], 'exec: "nope": executable file not found in $PATH'));
  channel.close();
});

test('a channel that closes fails the pending command and every later one with ExecChannelError', async () => {
  const socketPath = await fakeAgent((_req, _send, socket) => socket.destroy());
  const channel = await connect(socketPath);
  const pending = channel.run(['ipvsadm', '-Ln']);
  await expect(pending).rejects.toBeInstanceOf(ExecChannelError);
  await expect(pending).rejects.toThrow('`ipvsadm -Ln` on node node-a: the exec channel closed');
  await expect(channel.run(['route', '-n'])).rejects.toThrow('`route -n` on node node-a: the exec channel closed');
});

test('an agent that never answers: the host gives up after the command timeout plus a grace period', async () => {
  const socketPath = await fakeAgent(() => {});
  const channel = await connect(socketPath);
  const started = Date.now();
  await expect(channel.run(['true'], { timeoutMs: 10 })).rejects.toThrow(/`true` on node node-a: no answer from the guest agent within 5010 ms/);
  expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
  channel.close();
}, 10_000);

test('connect gives up when QEMU is gone', async () => {
  await expect(AgentChannel.connect(path.join(dir, 'missing.sock'), 'node-a', () => false, 2_000)).rejects.toThrow(/QEMU exited before its exec socket/);
});

test('outputOf returns stdout of a successful command and turns a non-zero exit into an ExecError with stderr', async () => {
  const socketPath = await fakeAgent((req, send) =>
    req.argv![0] === 'ok' ? send({ stdout: 'fine\n', stderr: '', exitCode: 0 }) : send({ stdout: '', stderr: 'ipvsadm: permission denied\n', exitCode: 2 }),
  );
  const channel = await connect(socketPath);
  const exec = { exec: (_node: string, argv: string[]) => channel.run(argv) };
  await expect(outputOf(exec, 'node-a', ['ok'])).resolves.toBe('fine\n');
  await expect(outputOf(exec, 'node-a', ['ipvsadm', '-Ln'])).rejects.toThrow('`ipvsadm -Ln` on node node-a: exit code 2: ipvsadm: permission denied');
  channel.close();
});

test('commandText quotes only the arguments a shell would need quoted', () => {
  expect(commandText(['ip', 'route', 'add', '10.244.1.0/24', 'via', '10.0.2.16'])).toBe('ip route add 10.244.1.0/24 via 10.0.2.16');
  expect(commandText(['sh', '-c', "kill $(cat /run/x.pid) && echo 'ok'"])).toBe(`sh -c 'kill $(cat /run/x.pid) && echo '\\''ok'\\'''`);
  expect(commandText(['echo', ''])).toBe("echo ''");
});
