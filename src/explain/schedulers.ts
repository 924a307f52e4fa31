// What each IPVS scheduler does, in the words a teacher would use.
export const SCHEDULERS: Record<string, string> = {
  rr: 'round-robin: each new connection goes to the next real server in turn',
  wrr: 'weighted round-robin: like rr, but a server with a higher weight gets proportionally more connections',
  lc: 'least-connection: each new connection goes to the server with the fewest active connections',
  wlc: 'weighted least-connection: fewest connections relative to weight',
  lblc: 'locality-based least-connection: keeps a destination IP on the same server unless it is overloaded',
  lblcr: 'locality-based least-connection with replication: like lblc, with a set of servers per destination',
  dh: 'destination hashing: the server is chosen by a hash of the destination address',
  sh: 'source hashing: the server is chosen by a hash of the client address, so one client keeps its server',
  sed: 'shortest expected delay: the server with the smallest (active connections + 1) / weight',
  nq: 'never queue: an idle server if there is one, otherwise shortest expected delay',
  mh: 'Maglev hashing: consistent hashing of the client address over a lookup table',
};

export function describeScheduler(name: string | null): string {
  if (!name) return 'no scheduler shown in this listing';
  return SCHEDULERS[name] ?? `scheduler "${name}" (not one kube-proxy offers)`;
}
