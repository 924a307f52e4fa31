// The -Lnc reader of the real-node hook. The listing below imitates ipvsadm 1.31's `ipvsadm -Lnc` layout
// (its print_conn format); no capture of it exists here yet (this machine's kernel has no IPVS).
import { loadSnapshotDir } from '../../src/snapshot/load.ts';
import { traceFlow } from '../../src/trace/trace.ts';
import type { ServiceHop } from '../../src/trace/types.ts';
import { connectionsThrough, parseIpvsadmLnc } from '../../harness/netns/ipvs-connections.ts';

const LISTING = `IPVS connection entries
pro expire state       source             virtual            destination
TCP 14:59  ESTABLISHED 10.244.1.141:40732 10.96.0.10:53      10.244.0.137:53
UDP 04:58  UDP         10.244.1.141:51500 10.96.0.10:53      10.244.0.138:53
TCP 01:58  FIN_WAIT    10.244.1.141:40740 10.96.0.10:53      10.244.0.139:53
TCP 14:59  ESTABLISHED 10.244.1.141:38000 10.96.0.1:443      10.130.29.80:6443
`;

test('connections through a Service hop\'s frontend, on a listed backend or not', async () => {
  const snapshot = await loadSnapshotDir(new URL('../../examples/seed/snapshot', import.meta.url).pathname);
  const hop = traceFlow(snapshot, null, { from: 'default/rpc-75d9b7d7c9-x7m4q', to: '10.96.0.10:53', protocol: 'TCP' }).hops.find((h) => h.kind === 'service') as ServiceHop;
  const { listed, unlisted } = connectionsThrough(hop, parseIpvsadmLnc(LISTING));
  expect(listed.map((c) => c.destination)).toEqual(['10.244.0.137:53']);
  expect(unlisted.map((c) => c.destination)).toEqual(['10.244.0.139:53']);
});

test('a line that is not a connection is refused with its number', () => {
  expect(() => parseIpvsadmLnc('IPVS connection entries\nTCP garbage\n')).toThrow('ipvsadm -Lnc line 2: cannot read "TCP garbage"');
});
