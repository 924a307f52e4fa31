// The models against the real kube-proxy v1.37.2's own output, offline: each capture was read in the node VM
// in the same poll as the snapshot next to it (see test/fixtures/captures/README.md), and the live suite
// (test/integration/kube-proxy-modes.test.ts) found no difference there. Here the same holds without the VM,
// and one line taken out of the real output is exactly one finding.
import { compareIptables, compareNftables } from '../../src/compare/rulesets.ts';
import { expectedIptables } from '../../src/model/services/iptables.ts';
import { expectedNftables } from '../../src/model/services/nftables.ts';
import { parseIptablesSave } from '../../src/parse/iptables-save.ts';
import { parseNftTable } from '../../src/parse/nft.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import { readCapture } from '../fixtures/captures/read.ts';

const snapshotOf = (mode: string) => JSON.parse(readCapture(`vm-kube-proxy-${mode}-final-snapshot.json`)) as ClusterSnapshot;
const keys = (findings: { kind: string; key: string }[]) => findings.map((f) => `${f.kind} ${f.key}`);

describe('the models against the real kube-proxy v1.37.2', () => {
  test('nftables mode: no findings; a line of a Service chain removed is one finding', () => {
    const text = readCapture('vm-kube-proxy-nftables-final.txt');
    const model = expectedNftables(snapshotOf('nftables'), 'netlab-nftables-node');
    expect(compareNftables(model, parseNftTable(text)).findings).toEqual([]);
    const lines = text.split('\n');
    const dnat = lines.findIndex((l) => l.includes('dnat ip to numgen random mod'));
    const table = parseNftTable([...lines.slice(0, dnat), ...lines.slice(dnat + 1)].join('\n'));
    expect(keys(compareNftables(model, table).findings)).toEqual([expect.stringMatching(/^missing service-[A-Z2-7]{8}-\S+: meta l4proto \w+ dnat ip to numgen random mod \d map \{ .* \}$/)]);
  });

  test('iptables mode: no findings; a KUBE-SEP DNAT rule removed is one finding', () => {
    const text = readCapture('vm-kube-proxy-iptables-final.txt');
    const model = expectedIptables(snapshotOf('iptables'), 'netlab-iptables-node');
    expect(compareIptables(model, parseIptablesSave(text)).findings).toEqual([]);
    const lines = text.split('\n');
    const dnat = lines.findIndex((l) => l.includes('-j DNAT --to-destination'));
    const findings = compareIptables(model, parseIptablesSave([...lines.slice(0, dnat), ...lines.slice(dnat + 1)].join('\n'))).findings;
    expect(keys(findings)).toEqual([`missing nat ${lines[dnat]}`]);
  });
});
