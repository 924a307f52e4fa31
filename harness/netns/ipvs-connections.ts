// `ipvsadm -Lnc`, the kernel's IPVS connection table, beside a trace's Service hop: the hook for the proof on
// the real nodes that a real connection from a pod to a Service lands on a backend netlab listed. Run
// `ipvsadm -Lnc` on the source node (through the node VM's or the probe's NodeExec) after opening the
// connection, and check it with connectionsThrough.
import type { ServiceHop } from '../../src/trace/types.ts';

export interface IpvsConnection {
  protocol: string;
  state: string;
  source: string;
  /** the frontend: "address:port" */
  virtual: string;
  /** the real server IPVS picked: "address:port" */
  destination: string;
}

/**
 * Parses `ipvsadm -Lnc`: a title line, a header (`pro expire state source virtual destination`), then one
 * connection per line, e.g. `TCP 14:59  ESTABLISHED 10.244.1.141:40732 10.96.0.10:53      10.244.0.137:53`.
 * Throws naming the line it cannot read.
 */
export function parseIpvsadmLnc(text: string): IpvsConnection[] {
  const connections: IpvsConnection[] = [];
  text.split('\n').forEach((line, index) => {
    if (!line.trim() || line.startsWith('IPVS connection entries') || /^pro\s+expire\s+state/.test(line)) return;
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 6 || !/^\d+:\d\d$/.test(fields[1]!)) throw new Error(`ipvsadm -Lnc line ${index + 1}: cannot read ${JSON.stringify(line)}`);
    const [protocol, , state, source, virtual, destination] = fields as [string, string, string, string, string, string];
    connections.push({ protocol, state, source, virtual, destination });
  });
  return connections;
}

/** The connections through the hop's frontend, split by whether they landed on a backend the hop lists. */
export function connectionsThrough(hop: ServiceHop, connections: IpvsConnection[]): { listed: IpvsConnection[]; unlisted: IpvsConnection[] } {
  const frontend = `${hop.frontend.address}:${hop.frontend.port}`;
  const backends = new Set(hop.backends.map((b) => `${b.address}:${b.port}`));
  const through = connections.filter((c) => c.protocol === hop.frontend.protocol && c.virtual === frontend);
  return { listed: through.filter((c) => backends.has(c.destination)), unlisted: through.filter((c) => !backends.has(c.destination)) };
}
