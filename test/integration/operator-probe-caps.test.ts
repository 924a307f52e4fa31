// Why the netlab-probe DaemonSet holds exactly one capability, NET_ADMIN, checked on the real Debian
// kernel of the harness VM: the kernel refuses IPVS reads and nf_tables reads (the netlink families
// `ipvsadm -Ln`, `nft list table ip kube-proxy` and iptables-nft's `iptables-save` use) to a process without
// CAP_NET_ADMIN, whatever other capability it has, and NET_ADMIN alone is enough; `route -n` needs nothing. The host's util-linux `setpriv` (copied into the guest with its one library;
// the guest's busybox setpriv cannot change users) runs the commands as UID 65534 with chosen capabilities.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { outputOf } from '../../src/observe/exec.ts';
import { describeVm } from '../harness/require-vm.ts';
import { startNodeVm, type NodeVm } from '../../harness/vm/vm.ts';

const NODE = 'netlab-caps-node';

/** The host's setpriv and its libraries (from ldd), for copying into the guest. */
function setprivFiles(): { binary: string; libraries: string[] } {
  const binary = execFileSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).trim();
  const libraries = execFileSync('ldd', [binary], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /=> (\/\S+libcap-ng\S*)/.exec(line)?.[1])
    .filter((lib): lib is string => lib !== undefined);
  return { binary, libraries };
}

// A rule of each kind kube-proxy writes, loaded by the test (the commands' wording, and the modules, are what
// test/integration/kube-proxy-modes.test.ts saw kube-proxy use in this VM).
const NFT_TABLE = 'table ip kube-proxy {\n  chain services {\n    ip daddr 10.96.0.10 tcp dport 53 counter accept\n  }\n}\n';
const IPTABLES_RULES = '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp --dport 53 -j RETURN\nCOMMIT\n';

describeVm('the probe needs CAP_NET_ADMIN for ipvsadm -Ln, nft and iptables-save, and nothing else (real kernel)', () => {
  let vm: NodeVm;
  const asNobody = (caps: string, command: string) =>
    `LD_LIBRARY_PATH=/tmp/lib /tmp/setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all${caps} --ambient-caps=-all${caps} --bounding-set=-all${caps} sh -c '${command}'`;
  const run = async (command: string) => {
    const result = await vm.run(['sh', '-c', command]);
    return { ...result, output: `${result.stdout}${result.stderr}` };
  };

  beforeAll(async () => {
    vm = await startNodeVm({ nodeName: NODE });
    const { binary, libraries } = setprivFiles();
    for (const [host, guest] of [[binary, '/tmp/setpriv'], ...libraries.map((lib) => [lib, `/tmp/lib/${lib.split('/').pop()}`])] as const) {
      // base64: the exec channel carries text
      await vm.writeFile(`${guest}.b64`, readFileSync(host).toString('base64'));
      await outputOf(vm, NODE, ['sh', '-c', `base64 -d ${guest}.b64 > ${guest} && chmod 755 ${guest}`]);
    }
    await outputOf(vm, NODE, ['sh', '-c', 'modprobe ip_vs && ipvsadm -A -t 10.96.0.10:53 -s rr && ipvsadm -a -t 10.96.0.10:53 -r 10.244.0.5:53 -m']);
    await vm.writeFile('/tmp/kube-proxy.nft', NFT_TABLE);
    await vm.writeFile('/tmp/kube-proxy.iptables', IPTABLES_RULES);
    await outputOf(vm, NODE, ['sh', '-c', 'nft -f /tmp/kube-proxy.nft && iptables-restore < /tmp/kube-proxy.iptables']);
  }, 180_000);

  afterAll(async () => {
    await vm?.stop();
  });

  test('without capabilities: ipvsadm -Ln, nft and iptables-save are refused, route -n works', async () => {
    const ipvs = await run(asNobody('', 'ipvsadm -Ln'));
    expect(ipvs.exitCode).not.toBe(0);
    expect(ipvs.output).toContain("Can't initialize ipvs: Permission denied");
    // the tools' words, as nft 1.0.6 and iptables-nft 1.8.9 print them on this project's machine (kernel 6.18)
    const nft = await run(asNobody('', 'nft list table ip kube-proxy'));
    expect(nft.exitCode).toBe(1);
    expect(nft.output).toContain('Operation not permitted');
    const save = await run(asNobody('', 'iptables-save'));
    expect(save.exitCode).toBe(4);
    expect(save.output).toContain('Could not fetch rule set generation id: Permission denied');
    const route = await run(asNobody('', 'route -n'));
    expect(route.exitCode).toBe(0);
    expect(route.stdout).toContain('Kernel IP routing table');
  }, 60_000);

  test('with NET_ADMIN alone: ipvsadm -Ln lists the table', async () => {
    const ipvs = await run(asNobody(',+net_admin', 'grep CapEff /proc/self/status; ipvsadm -Ln'));
    expect(ipvs.exitCode).toBe(0);
    expect(ipvs.stdout).toContain('CapEff:\t0000000000001000'); // bit 12, CAP_NET_ADMIN, and nothing else
    expect(ipvs.stdout).toContain('TCP  10.96.0.10:53 rr');
    expect(ipvs.stdout).toMatch(/-> 10\.244\.0\.5:53 +Masq/);
  }, 60_000);

  test('with NET_ADMIN alone: nft lists the kube-proxy table and iptables-save (nf_tables backend) the rules', async () => {
    const nft = await run(asNobody(',+net_admin', 'nft list table ip kube-proxy'));
    expect(nft.exitCode).toBe(0);
    expect(nft.stdout).toContain('ip daddr 10.96.0.10 tcp dport 53 counter packets 0 bytes 0 accept');
    const save = await run(asNobody(',+net_admin', 'iptables-save'));
    expect(save.exitCode).toBe(0);
    expect(save.stdout).toMatch(/^# Generated by iptables-save v1\.8\.\d+ \(nf_tables\)/);
    expect(save.stdout).toContain('-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp --dport 53 -j RETURN');
  }, 60_000);

  test('another network capability (NET_RAW) is not enough', async () => {
    const ipvs = await run(asNobody(',+net_raw', 'ipvsadm -Ln'));
    expect(ipvs.exitCode).not.toBe(0);
    expect(ipvs.output).toContain('Permission denied');
    expect((await run(asNobody(',+net_raw', 'nft list table ip kube-proxy'))).exitCode).toBe(1);
    expect((await run(asNobody(',+net_raw', 'iptables-save'))).exitCode).toBe(4);
  }, 60_000);
});
