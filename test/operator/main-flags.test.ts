// The operator's flags as a user meets them: --help lists the DNS timeout and the leader election timings with
// their variables, and a bad duration (or timings in the wrong order) stops the process with a message naming
// the flag and the value, before it touches any cluster.
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

  test('--help teaches the three leader election timings, their variables and defaults', () => {
    const text = run(['--help']).stdout.replace(/\s+/g, ' ');
    expect(text).toContain('--leader-elect-lease-duration DURATION how long a standby waits, after the Lease was last renewed, before it takes over [NETLAB_LEADER_ELECT_LEASE_DURATION]; default 15s');
    expect(text).toContain('[NETLAB_LEADER_ELECT_RENEW_DEADLINE]; default 10s. Below the lease duration');
    expect(text).toContain('[NETLAB_LEADER_ELECT_RETRY_PERIOD]; default 2s. Below the renew deadline.');
  });

  test.each([
    [['--dns-timeout', '0s'], {}, '--dns-timeout must be a duration such as 2s or 30s, got "0s"'],
    [[], { NETLAB_DNS_TIMEOUT: 'soon' }, '--dns-timeout must be a duration such as 2s or 30s, got "soon"'],
    [[], { NETLAB_LEADER_ELECT_LEASE_DURATION: '15' }, '--leader-elect-lease-duration must be a duration such as 15s or 1m, got "15"'],
    [['--leader-elect-retry-period', '20s'], {}, 'leader election needs --leader-elect-lease-duration > --leader-elect-renew-deadline > --leader-elect-retry-period, got 15s, 10s, 20s'],
    [['--leader-elect-lease-duration', '10s'], { NETLAB_LEADER_ELECT_RENEW_DEADLINE: '45s' }, 'leader election needs --leader-elect-lease-duration > --leader-elect-renew-deadline > --leader-elect-retry-period, got 10s, 45s, 2s'],
  ])('%j %j is refused with exit code 2', (args, env, message) => {
    const r = run(args, env);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`netlab operator: ${message}`);
  });
});
