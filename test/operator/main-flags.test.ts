// The operator's flags as a user meets them: --help lists the DNS timeout with its variable, and a bad
// duration stops the process with a message naming the flag and the value, before it touches any cluster.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const main = path.resolve(import.meta.dirname, '../../src/operator/main.ts');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1', ...env } });

describe('netlab operator flags', () => {
  test('--help teaches --dns-timeout, its variable and its default', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--dns-timeout DURATION +how long to wait for each DNS answer from CoreDNS \[NETLAB_DNS_TIMEOUT\]; default 2s\./);
  });

  test.each([
    [['--dns-timeout', '0s'], {}, '--dns-timeout must be a duration such as 2s or 30s, got "0s"'],
    [[], { NETLAB_DNS_TIMEOUT: 'soon' }, '--dns-timeout must be a duration such as 2s or 30s, got "soon"'],
  ])('%j %j is refused with exit code 2', (args, env, message) => {
    const r = run(args, env);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`netlab operator: ${message}`);
  });
});
