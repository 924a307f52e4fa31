// Whether the conformance suite can run here: it needs a container engine, found the way testcontainers
// finds one (DOCKER_HOST, ~/.testcontainers.properties, the Docker socket, rootless sockets).
import { getContainerRuntimeClient } from 'testcontainers';

export type EngineCheck = { available: true; description: string } | { available: false; reason: string };

/** The runtime lookup, replaceable in tests. It throws when no engine answers. */
export type EngineProbe = () => Promise<{ info: { containerRuntime: { host: string; operatingSystem: string; serverVersion: number | string } } }>;

export async function detectContainerEngine(probe: EngineProbe = getContainerRuntimeClient): Promise<EngineCheck> {
  try {
    const { info } = await probe();
    const engine = info.containerRuntime;
    return { available: true, description: `${engine.operatingSystem}, engine ${engine.serverVersion}, at ${engine.host}` };
  } catch (e) {
    return { available: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

/** The single line the suite prints when it skips. */
export function skipLine(reason: string): string {
  return `conformance suite skipped: no container engine reachable (${reason}); it runs on any machine or CI runner with Docker, kind and kubectl`;
}

export type ProviderName = 'kind' | 'k3s';

/**
 * The kind of cluster the suite builds: NETLAB_CONFORMANCE_PROVIDER when set, otherwise kind where its binary
 * runs (the lab users get), else k3s (it needs nothing but the engine and kubectl).
 */
export function chooseProvider(requested: string | undefined, kindRuns: boolean): ProviderName {
  if (requested === 'kind' || requested === 'k3s') return requested;
  if (requested) throw new Error(`NETLAB_CONFORMANCE_PROVIDER: unknown provider "${requested}"; choose kind or k3s`);
  return kindRuns ? 'kind' : 'k3s';
}
