// Starts ONE control plane shared by the integration suites. jest runs this only when a test of the
// integration project is selected (see jest.config.js), so unit-only runs pay nothing.
import path from 'node:path';
import { findBinaries } from '../../harness/control-plane/binaries.ts';
import { startControlPlane } from '../../harness/control-plane/controlplane.ts';
import type { ControlPlane } from '../../harness/control-plane/controlplane.ts';
import { HARNESS_ERROR_ENV, HARNESS_INFO_ENV, HARNESS_SKIP_ENV } from './jest-env.ts';

declare global {
  // handed to jest-global-teardown.ts, which runs in the same process
  var netlabControlPlane: ControlPlane | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (process.env[HARNESS_INFO_ENV]) {
    process.stderr.write(`\nnetlab harness: using the running control plane described in ${process.env[HARNESS_INFO_ENV]}\n`);
    return;
  }
  const found = findBinaries();
  if (!found.ok) {
    process.env[HARNESS_SKIP_ENV] = found.reason;
    return;
  }
  process.stderr.write('\n');
  try {
    globalThis.netlabControlPlane = await startControlPlane({ binaries: found.paths });
    process.env[HARNESS_INFO_ENV] = path.join(globalThis.netlabControlPlane.dir, 'info.json');
  } catch (err) {
    // Recorded, not thrown: the suites that need it fail with this message, the others still run.
    process.env[HARNESS_ERROR_ENV] = (err as Error).message;
  }
}
