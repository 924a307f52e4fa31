// For suites that need the real control plane started by jest-global-setup.ts. Without it they skip
// with one line naming what is missing; with NETLAB_REQUIRE_REAL=1 (CI) they fail instead, so a
// machine that should run them cannot pass by skipping. A harness that failed to start always fails.
import { readFileSync } from 'node:fs';
import { findBinaries } from '../../harness/control-plane/binaries.ts';
import type { ControlPlaneInfo } from '../../harness/control-plane/controlplane.ts';
import { HARNESS_ERROR_ENV, HARNESS_INFO_ENV, HARNESS_SKIP_ENV } from './jest-env.ts';

/** The running control plane, or null after printing why the suite skips. Throws when skipping is not allowed. */
export function realComponentsOrSkip(): ControlPlaneInfo | null {
  const error = process.env[HARNESS_ERROR_ENV];
  if (error) throw new Error(`the real-component harness failed to start:\n${error}`);
  const infoFile = process.env[HARNESS_INFO_ENV];
  if (infoFile) return JSON.parse(readFileSync(infoFile, 'utf8')) as ControlPlaneInfo;
  return skipOrFail(missingReason());
}

/** describe() with the running control plane; a skipped describe (one line on stderr) when it is absent. */
export function describeReal(name: string, fn: (info: ControlPlaneInfo) => void): void {
  const info = realComponentsOrSkip();
  if (info) describe(name, () => fn(info));
  else describe.skip(name, () => test('needs the real components', () => {}));
}

/** Prints the one skip line and returns null, or throws when NETLAB_REQUIRE_REAL=1. Other harnesses (the VM) reuse it. */
export function skipOrFail(reason: string): null {
  if (process.env.NETLAB_REQUIRE_REAL === '1') {
    throw new Error(`NETLAB_REQUIRE_REAL=1 but the real components are not available: ${reason}`);
  }
  process.stderr.write(`real-component suites skipped: ${reason}\n`);
  return null;
}

function missingReason(): string {
  const recorded = process.env[HARNESS_SKIP_ENV];
  if (recorded) return recorded;
  const found = findBinaries();
  if (!found.ok) return found.reason;
  return 'the control plane was not started (jest did not run test/harness/jest-global-setup.ts)';
}
