// A deterministic tar writer and a small reader, enough for OCI image layers and image-layout archives.
// Writer: ustar headers, entries sorted by path, every parent directory present, mtime fixed at 0, owner
// names empty; a PAX extended header only when a path or link target is longer than ustar's 100 bytes or
// the entry carries extended attributes (file capabilities). The same entries give the same bytes.
import { createReadStream, readFileSync, statSync } from 'node:fs';

export type Owner = { uid: number; gid: number };

/** One entry; `path` is relative to the root, without a leading or trailing slash. */
export type TarEntry =
  | ({ type: 'dir'; path: string; mode: number } & Owner)
  | ({ type: 'symlink'; path: string; target: string } & Owner)
  | ({ type: 'file'; path: string; mode: number; xattrs?: Record<string, Buffer> } & Owner & FileData);

/** A file's bytes: a host file read while writing, or content given inline. */
export type FileData = { source: string; content?: never } | { content: Buffer | string; source?: never };

const BLOCK = 512;
const ROOT: Owner = { uid: 0, gid: 0 };

/** The entries in tar order, with missing parent directories added (0755, root); throws on a clash. */
export function normalizeEntries(entries: readonly TarEntry[]): TarEntry[] {
  const byPath = new Map<string, TarEntry>();
  for (const entry of entries) {
    if (!entry.path || entry.path.startsWith('/') || entry.path.endsWith('/') || entry.path.split('/').includes('..')) {
      throw new Error(`tar entry path ${JSON.stringify(entry.path)} must be relative, without a trailing slash or ".."`);
    }
    if (byPath.has(entry.path)) throw new Error(`tar entry ${entry.path} is listed twice`);
    byPath.set(entry.path, entry);
  }
  for (const entry of [...byPath.values()]) {
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const existing = byPath.get(parent);
      if (!existing) byPath.set(parent, { type: 'dir', path: parent, mode: 0o755, ...ROOT });
      else if (existing.type !== 'dir') throw new Error(`tar entry ${entry.path} is under ${parent}, which is a ${existing.type}`);
    }
  }
  return [...byPath.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/** The archive as a stream of chunks (headers, file contents, padding, the two closing zero blocks). */
export async function* tarChunks(entries: readonly TarEntry[]): AsyncGenerator<Buffer> {
  for (const entry of normalizeEntries(entries)) {
    const size = entry.type === 'file' ? fileSize(entry) : 0;
    yield* headerBlocks(entry, size);
    if (entry.type !== 'file') continue;
    let written = 0;
    if (entry.source === undefined) {
      const content = Buffer.from(entry.content);
      written = content.length;
      yield content;
    } else {
      for await (const chunk of fileChunks(entry.source)) {
        written += chunk.length;
        yield chunk;
      }
    }
    if (written !== size) throw new Error(`${entry.source} changed size while it was being archived (${size} → ${written} bytes)`);
    yield padding(size);
  }
  yield Buffer.alloc(2 * BLOCK);
}

/** A host file's bytes: read at once when small (a stream per file costs more than the read), else streamed. */
export async function* fileChunks(file: string): AsyncGenerator<Buffer> {
  if (statSync(file).size < 8 * 2 ** 20) yield readFileSync(file);
  else for await (const chunk of createReadStream(file)) yield chunk as Buffer;
}

function fileSize(entry: TarEntry & { type: 'file' }): number {
  return entry.source === undefined ? Buffer.byteLength(entry.content) : statSync(entry.source).size;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

function headerBlocks(entry: TarEntry, size: number): Buffer[] {
  const name = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const linkname = entry.type === 'symlink' ? entry.target : '';
  const pax: [string, Buffer][] = [];
  if (Buffer.byteLength(name) > 100) pax.push(['path', Buffer.from(name)]);
  if (Buffer.byteLength(linkname) > 100) pax.push(['linkpath', Buffer.from(linkname)]);
  if (entry.type === 'file') {
    for (const [key, value] of Object.entries(entry.xattrs ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      pax.push([`SCHILY.xattr.${key}`, value]);
    }
  }
  const mode = entry.type === 'symlink' ? 0o777 : entry.mode;
  const typeflag = { file: '0', dir: '5', symlink: '2' }[entry.type];
  const main = ustarHeader({ name, linkname, mode, uid: entry.uid, gid: entry.gid, size, typeflag });
  if (pax.length === 0) return [main];
  const records = Buffer.concat(pax.map(([key, value]) => paxRecord(key, value)));
  const paxName = `PaxHeaders/${name.replace(/\/$/, '').split('/').pop()!}`.slice(0, 100);
  const paxHeader = ustarHeader({ name: paxName, linkname: '', mode: 0o644, ...ROOT, size: records.length, typeflag: 'x' });
  return [paxHeader, records, padding(records.length), main];
}

/** "<length> <key>=<value>\n", where the length counts its own digits. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

type HeaderFields = Owner & { name: string; linkname: string; mode: number; size: number; typeflag: string };

function ustarHeader(h: HeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  // Too-long names and links went into the PAX header; ustar keeps their first 100 bytes.
  block.write(h.name.slice(0, 100), 0, 100, 'utf8');
  writeOctal(block, 100, 8, h.mode & 0o7777);
  writeOctal(block, 108, 8, h.uid);
  writeOctal(block, 116, 8, h.gid);
  writeOctal(block, 124, 12, h.size);
  writeOctal(block, 136, 12, 0); // mtime: fixed, so a rebuild is byte-identical
  block.write(h.typeflag, 156, 1, 'ascii');
  block.write(h.linkname.slice(0, 100), 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'ascii');
  block.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  let sum = 0;
  for (const byte of block) sum += byte;
  writeOctal(block, 148, 7, sum);
  return block;
}

function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new Error(`tar header field at ${offset} cannot hold ${value}`);
  block.write(digits.padStart(width - 1, '0'), offset, width - 1, 'ascii');
}

/** One entry read back by readTar. */
export type ReadEntry = Owner & {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  mtime: number;
  target: string;
  content: Buffer;
  pax: Record<string, Buffer>;
};

/** Parses a whole tar archive (ustar, PAX path/linkpath/xattr records); for tests and verification. */
export function readTar(archive: Buffer): ReadEntry[] {
  const entries: ReadEntry[] = [];
  let pax: Record<string, Buffer> = {};
  for (let offset = 0; offset + BLOCK <= archive.length; ) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const size = readOctal(header, 124, 12);
    const typeflag = String.fromCharCode(header[156]!);
    const content = archive.subarray(offset + BLOCK, offset + BLOCK + size);
    offset += BLOCK + size + ((BLOCK - (size % BLOCK)) % BLOCK);
    if (typeflag === 'x') {
      pax = parsePax(content);
      continue;
    }
    const prefix = readString(header, 345, 155);
    const name = pax.path?.toString('utf8') ?? (prefix ? `${prefix}/` : '') + readString(header, 0, 100);
    entries.push({
      path: name.replace(/\/$/, ''),
      type: typeflag === '0' || typeflag === '\0' ? 'file' : typeflag === '5' ? 'dir' : typeflag === '2' ? 'symlink' : 'other',
      mode: readOctal(header, 100, 8),
      uid: readOctal(header, 108, 8),
      gid: readOctal(header, 116, 8),
      mtime: readOctal(header, 136, 12),
      target: pax.linkpath?.toString('utf8') ?? readString(header, 157, 100),
      content,
      pax,
    });
    pax = {};
  }
  return entries;
}

function parsePax(records: Buffer): Record<string, Buffer> {
  const result: Record<string, Buffer> = {};
  for (let offset = 0; offset < records.length; ) {
    const space = records.indexOf(0x20, offset);
    const length = Number(records.subarray(offset, space).toString('ascii'));
    const record = records.subarray(space + 1, offset + length - 1); // without the trailing newline
    const equals = record.indexOf(0x3d);
    result[record.subarray(0, equals).toString('utf8')] = Buffer.from(record.subarray(equals + 1));
    offset += length;
  }
  return result;
}

function readString(block: Buffer, offset: number, width: number): string {
  const field = block.subarray(offset, offset + width);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? width : end).toString('utf8');
}

function readOctal(block: Buffer, offset: number, width: number): number {
  return parseInt(readString(block, offset, width).trim() || '0', 8);
}
