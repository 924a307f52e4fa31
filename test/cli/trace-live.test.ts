// The live trace's observation loop, with the nodes "observed" from the seed's captured files: it asks for the
// nodes the path reads, and again when the observed path turns to a node it has not seen.
import { readFileSync } from 'node:fs';
import { traceObserving } from '../../src/cli/commands/trace.ts';
import type { NodeObservation } from '../../src/observation/types.ts';
import { loadSnapshotDir } from '../../src/snapshot/load.ts';
import type { RouteHop } from '../../src/trace/types.ts';

const SEED = new URL('../../examples/seed/', import.meta.url).pathname;
const node1 = { routeN: readFileSync(`${SEED}observed/node-1/route-n.txt`, 'utf8'), ipvsadmLn: readFileSync(`${SEED}observed/node-1/ipvsadm-Ln.txt`, 'utf8') };

test('observes the nodes on the path, once each', async () => {
  const snapshot = await loadSnapshotDir(`${SEED}snapshot`);
  const asked: string[][] = [];
  const observe = async (nodes: string[]): Promise<NodeObservation[]> => {
    asked.push(nodes);
    return nodes.map((node) => (node === 'node-1' ? { node, ...node1 } : { node, routeN: new Error('probe timed out') }));
  };
  const trace = await traceObserving(snapshot, { from: 'default/rpc-75d9b7d7c9-x7m4q', to: 'kube-dns.kube-system' }, observe);
  expect(asked).toEqual([['node-2', 'node-1']]);
  expect((trace.hops.find((h) => h.id === 'route-destination') as RouteHop).verdict).toBe('ok');
  expect(trace.hops.find((h) => h.id === 'route-source')!.reason).toBe('Route -n failed: probe timed out.');
});

test('when the observed route turns elsewhere, the new node is observed too', async () => {
  const snapshot = await loadSnapshotDir(`${SEED}snapshot`);
  const asked: string[][] = [];
  // node-2's table (written in the layout of the real node-1 capture) sends node-1's block to node-3, a stale
  // route: the observed path now reads node-3
  const stale = [
    'Kernel IP routing table',
    'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface',
    '0.0.0.0         10.130.29.1     0.0.0.0         UG    100    0        0 ens32',
    '10.130.29.0     0.0.0.0         255.255.255.0   U     100    0        0 ens32',
    '10.244.0.0      10.130.29.82    255.255.255.0   UG    0      0        0 tunl0',
    '10.244.1.0      0.0.0.0         255.255.255.0   U     0      0        0 *',
    '10.244.1.141    0.0.0.0         255.255.255.255 UH    0      0        0 cali4eac25ec62b',
    '10.244.2.0      10.130.29.82    255.255.255.0   UG    0      0        0 tunl0',
  ].join('\n');
  const observe = async (nodes: string[]): Promise<NodeObservation[]> => {
    asked.push(nodes);
    return nodes.map((node) => ({ node, routeN: node === 'node-2' ? stale : node1.routeN }));
  };
  const trace = await traceObserving(snapshot, { from: 'default/rpc-75d9b7d7c9-x7m4q', to: '10.244.0.137:53' }, observe);
  expect(asked).toEqual([['node-2', 'node-1'], ['node-3']]);
  expect(trace.hops.find((h) => h.id === 'route-source')).toMatchObject({ verdict: 'broken', observed: { gateway: '10.130.29.82' } });
});
