// DNS observer: sends one real query over UDP or TCP and returns the answer as plain data, in the
// same shape the DNS model produces, so expected and observed answers compare field by field.
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket } from 'dns-packet';
import type { DnsAnswer, DnsQuery, DnsRcode, DnsRecord, DnsType } from '../model/types.ts';

export interface DnsServer {
  host: string;
  port: number;
  transport: 'udp' | 'tcp';
}

export interface DnsProber {
  query(q: DnsQuery, server: DnsServer): Promise<DnsAnswer>;
}

export interface DnsProberOptions {
  /** how long to wait for one response; default 2000 ms. Over UDP the question is sent again at each third of it */
  timeoutMs?: number;
  /** upper bound on queries sent per second, so probing never becomes the server's load; default 50 */
  maxQueriesPerSecond?: number;
  clock?: Clock;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const RECORD_TYPES: ReadonlySet<string> = new Set<DnsType>(['A', 'AAAA', 'SRV', 'CNAME', 'PTR', 'TXT']);
const RCODES: ReadonlySet<string> = new Set<DnsRcode>(['NOERROR', 'NXDOMAIN', 'SERVFAIL', 'REFUSED']);

export function createDnsProber(options: DnsProberOptions = {}): DnsProber {
  const timeoutMs = options.timeoutMs ?? 2000;
  const pace = createRateLimiter(options.maxQueriesPerSecond ?? 50, options.clock ?? realClock);

  async function exchange(q: DnsQuery, server: DnsServer): Promise<DecodedPacket> {
    await pace();
    const id = randomInt(0, 0x10000);
    const request = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: q.type, name: q.name, class: 'IN' }],
    });
    const what = `DNS ${q.type} ${q.name} to ${server.host}:${server.port}/${server.transport}`;
    const raw = await (server.transport === 'udp'
      ? exchangeUdp(request, id, server, timeoutMs, what)
      : exchangeTcp(request, id, server, timeoutMs, what));
    return decodeResponse(raw, what);
  }

  return {
    async query(q, server) {
      let response = await exchange(q, server);
      // A truncated UDP answer is incomplete: ask again over TCP, as a stub resolver does.
      if (server.transport === 'udp' && response.flag_tc) response = await exchange(q, { ...server, transport: 'tcp' });
      return toAnswer(response, `DNS ${q.type} ${q.name} to ${server.host}:${server.port}/${server.transport}`);
    },
  };
}

/** Returns a function that resolves when the next query may be sent: at most `perSecond` evenly spaced starts. */
export function createRateLimiter(perSecond: number, clock: Clock): () => Promise<void> {
  if (!(perSecond > 0)) throw new Error(`DNS prober: maxQueriesPerSecond must be > 0, got ${perSecond}`);
  const interval = 1000 / perSecond;
  let nextSlot = -Infinity;
  return async () => {
    const now = clock.now();
    const slot = Math.max(now, nextSlot);
    nextSlot = slot + interval;
    if (slot > now) await clock.sleep(slot - now);
  };
}

/**
 * One request/response exchange on a socket: settles once, on the first of answer, error or timeout
 * (rejected with `silence`), and always clears the timer and closes the socket.
 */
function exchange(timeoutMs: number, silence: string, close: () => void, run: (finish: (error: Error | null, message?: Buffer) => void) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => finish(new Error(silence)), timeoutMs);
    function finish(error: Error | null, message?: Buffer): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      close();
      if (error) reject(error);
      else resolve(message!);
    }
    run(finish);
  });
}

/**
 * A UDP question is sent this many times, evenly spaced within the timeout, as stub resolvers retransmit
 * (glibc's attempts, dig's +tries=3): one datagram lost on a busy node must not leave a layer Unknown. The
 * copies share the id, so whichever answer comes first is the answer.
 */
export const UDP_SENDS = 3;

function exchangeUdp(request: Buffer, id: number, server: DnsServer, timeoutMs: number, what: string): Promise<Buffer> {
  const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
  let closed = false;
  let resend: NodeJS.Timeout | undefined;
  const close = () => {
    closed = true;
    clearInterval(resend);
    socket.close();
  };
  return exchange(timeoutMs, `${what}: no response within ${timeoutMs} ms (asked ${UDP_SENDS} times)`, close, (finish) => {
    socket.on('error', (err) => finish(new Error(`${what}: ${err.message}`)));
    socket.on('message', (message) => {
      // Ignore stray datagrams whose id is not ours (a late answer to an earlier query, or spoofing).
      if (message.length >= 2 && message.readUInt16BE(0) === id) finish(null, message);
    });
    socket.connect(server.port, server.host, () => {
      if (closed) return;
      let sent = 1;
      socket.send(request);
      resend = setInterval(() => {
        if (++sent >= UDP_SENDS) clearInterval(resend);
        socket.send(request);
      }, timeoutMs / UDP_SENDS);
    });
  });
}

function exchangeTcp(request: Buffer, id: number, server: DnsServer, timeoutMs: number, what: string): Promise<Buffer> {
  const socket = net.connect({ host: server.host, port: server.port });
  let received = Buffer.alloc(0);
  return exchange(timeoutMs, `${what}: no response within ${timeoutMs} ms`, () => socket.destroy(), (finish) => {
    socket.on('error', (err) => finish(new Error(`${what}: ${err.message}`)));
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(request.length);
      socket.write(Buffer.concat([length, request]));
    });
    // DNS over TCP frames each message with a two-byte length (RFC 1035 §4.2.2).
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length < 2 + length) return;
      const message = received.subarray(2, 2 + length);
      if (message.length < 2 || message.readUInt16BE(0) !== id) {
        finish(new Error(`${what}: response id does not match the query id ${id}`));
      } else finish(null, message);
    });
    socket.on('end', () => finish(new Error(`${what}: connection closed before a full response (${received.length} bytes)`)));
  });
}

function decodeResponse(raw: Buffer, what: string): DecodedPacket {
  try {
    return dnsPacket.decode(raw);
  } catch (err) {
    throw new Error(`${what}: malformed response (${(err as Error).message})`, { cause: err });
  }
}

function toAnswer(response: DecodedPacket, what: string): DnsAnswer {
  // dns-packet decodes the rcode but its type declarations leave it out.
  const rcode = (response as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR';
  if (!RCODES.has(rcode)) throw new Error(`${what}: unexpected rcode ${rcode}`);
  return { rcode: rcode as DnsRcode, answers: (response.answers ?? []).map((a) => toRecord(a, what)) };
}

function toRecord(answer: Answer, what: string): DnsRecord {
  if (!RECORD_TYPES.has(answer.type)) throw new Error(`${what}: answer record of unsupported type ${answer.type}`);
  const name = normalizeName(answer.name);
  switch (answer.type) {
    case 'A':
    case 'AAAA':
      return { name, type: answer.type, data: answer.data };
    case 'CNAME':
    case 'PTR':
      return { name, type: answer.type, data: normalizeName(answer.data) };
    case 'SRV': {
      const { priority = 0, weight = 0, port, target } = answer.data;
      return { name, type: 'SRV', data: `${priority} ${weight} ${port} ${normalizeName(target)}` };
    }
    case 'TXT':
      return { name, type: 'TXT', data: txtData(answer.data) };
    default:
      throw new Error(`${what}: answer record of unsupported type ${answer.type}`);
  }
}

/** One character-string as its text; several as quoted strings separated by spaces (dig's notation). */
function txtData(data: string | Buffer | (string | Buffer)[]): string {
  const parts = (Array.isArray(data) ? data : [data]).map((part) => part.toString());
  return parts.length === 1 ? parts[0]! : parts.map((part) => JSON.stringify(part)).join(' ');
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
