// The conformance suite's skip path, covered by the ordinary unit run (the suite itself is excluded from
// `npm test`): no container engine means one line and skipped tests, never a failure.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { detectContainerEngine, skipLine } from '../conformance/engine.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Where an engine answers, running the suite file below would start the whole conformance run.
const engine = await detectContainerEngine();
const noEngine = engine.available ? null : engine.reason;

describe('conformance suite without a container engine', () => {
  test('an engine lookup that fails becomes a skip with its reason, in one line', async () => {
    const check = await detectContainerEngine(async () => {
      throw new Error('Could not find a working container runtime strategy');
    });
    expect(check).toEqual({ available: false, reason: 'Could not find a working container runtime strategy' });
    const line = skipLine('Could not find a working container runtime strategy');
    expect(line).not.toContain('\n');
    expect(line).toMatch(/^conformance suite skipped: no container engine reachable \(Could not find a working container runtime strategy\); it runs on any machine or CI runner with Docker/);
  });

  test('an engine that answers is described, and the suite runs', async () => {
    const check = await detectContainerEngine(async () => ({ info: { containerRuntime: { host: 'localhost', operatingSystem: 'Docker Desktop', serverVersion: '28.2.2' } } }));
    expect(check).toEqual({ available: true, description: 'Docker Desktop, engine 28.2.2, at localhost' });
  });

  // The real suite file, run the way `npm run test:conformance` runs it, where no engine answers.
  (noEngine === null ? test.skip : test)('npm run test:conformance here prints one skip line, skips every test and exits 0', () => {
    const run = spawnSync(process.execPath, ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--config', 'jest.conformance.config.js'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    const output = `${run.stdout}${run.stderr}`;
    expect(run.status).toBe(0);
    expect(output.split('\n').filter((l) => l.startsWith('conformance suite skipped:'))).toEqual([skipLine(String(noEngine))]);
    expect(output).toMatch(/Tests: +\d+ skipped, \d+ total/);
    expect(output).not.toMatch(/passed|failed/);
  });
});
