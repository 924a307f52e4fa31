import { detectCni } from '../../../src/model/routes/index.ts';
import { makeBlock, makeNode, makePool, makeSnapshot } from '../builders.ts';

const flannel = { kubeSubnetManager: true, backendType: 'vxlan', publicIP: '10.0.0.1', vni: 1, vtepMAC: '5a:1c:9e:3f:20:01' };

describe('detectCni: which CNI the snapshot shows', () => {
  test('Calico by its pools, blocks and node annotations', () => {
    const snapshot = makeSnapshot({ nodes: [makeNode('a', '10.0.0.1')], ipPools: [makePool('10.244.0.0/16')], ipamBlocks: [makeBlock('10.244.0.0/26', 'a')] });
    expect(detectCni(snapshot)).toEqual({ cni: 'calico', evidence: 'Calico (1 IP pool, 1 IPAM block, projectcalico.org annotations on 1 node)' });
  });

  test('Flannel by its node annotations', () => {
    const snapshot = makeSnapshot({ nodes: [makeNode('a', '10.0.0.1', { calico: {}, flannel }), makeNode('b', '10.0.0.2', { calico: {} })] });
    expect(detectCni(snapshot)).toEqual({ cni: 'flannel', evidence: 'Flannel (flannel.alpha.coreos.com annotations on 1 of 2 nodes)' });
  });

  test('both: Calico when its IPAM blocks exist, else Canal (flannel between nodes, Calico\'s CNI plugin on them)', () => {
    const nodes = [makeNode('a', '10.0.0.1', { flannel })];
    expect(detectCni(makeSnapshot({ nodes, ipamBlocks: [makeBlock('10.244.0.0/26', 'a')] })).cni).toBe('calico');
    expect(detectCni(makeSnapshot({ nodes, ipPools: [makePool('10.244.0.0/16')] }))).toEqual({
      cni: 'canal',
      evidence: 'Flannel (flannel.alpha.coreos.com annotations on 1 of 1 node) with Calico (1 IP pool, projectcalico.org annotations on 1 node) but no IPAM blocks: Canal, where flannel routes between nodes and Calico\'s CNI plugin wires the pods',
    });
  });

  test('neither: Calico\'s stock manifest is assumed, and the evidence says so', () => {
    expect(detectCni(makeSnapshot({ nodes: [makeNode('a', '10.0.0.1', { calico: {} })] }))).toEqual({
      cni: 'calico',
      evidence: 'no CNI recognised (no Calico objects or annotations, no Flannel annotations): assuming Calico\'s stock manifest over the nodes\' podCIDRs',
    });
  });
});
