// The seed example as the page's input, as `netlab ui --snapshot --observed` builds it.
import { fileURLToPath } from 'node:url';
import { offlinePage } from '../../src/cli/commands/ui.ts';
import type { PageInput } from '../../src/web/state.ts';

export const SEED_SNAPSHOT = fileURLToPath(new URL('../../examples/seed/snapshot', import.meta.url));
export const SEED_OBSERVED = fileURLToPath(new URL('../../examples/seed/observed', import.meta.url));

export function seedPage(observed: string | undefined = SEED_OBSERVED): Promise<PageInput> {
  return offlinePage(SEED_SNAPSHOT, observed, { namespace: 'default', dnsPolicy: 'ClusterFirst' });
}
