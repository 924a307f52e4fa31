// Stops the control plane jest-global-setup.ts started (a reused one from `harness up` is left running).
export default async function globalTeardown(): Promise<void> {
  await globalThis.netlabControlPlane?.stop();
  globalThis.netlabControlPlane = undefined;
}
