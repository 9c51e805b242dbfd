// The ZIP structure of an export, read by range and never held whole: the end records (ZIP64 or
// not), the central directory, and each entry's local header and data descriptor. Shared by the
// SDK's reader (archive.ts) and the page's light check (src/web/zip-check.ts); it imports nothing,
// so the page can carry it.
//
// What the server writes (client-zip): stored entries, each followed by a data descriptor; ZIP64
// fields exactly where a size, an offset, the directory or the entry count passes what the short
// fields hold. The directory is walked by its byte size, and must hold exactly the count the end
// records give. What the server wrote before (fflate, no ZIP64) reads the same way.

export interface ByteSource {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** The bytes are not a ZIP this reader accepts; the message says where. */
export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

const fail = (why: string): never => {
  throw new ZipFormatError(why);
};

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_DESCRIPTOR = 0x08074b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const U16_FULL = 0xffff;
const U32_FULL = 0xffff_ffff;
const ZIP64_EXTRA = 0x0001;
const END_BYTES = 22;
const LOCATOR64_BYTES = 20;
const END64_BYTES = 56;
const DIRECTORY_WINDOW = 1024 * 1024;

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function u64(v: DataView, at: number, what: string): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} is beyond any file this reader opens`);
  return Number(n);
}

export interface ZipEnd {
  entries: number;
  directoryOffset: number;
  directorySize: number;
  /** The end records start here; the directory ends exactly here. */
  endOffset: number;
  zip64: boolean;
}

/**
 * Reads the end record (the last 22 bytes: exports carry no archive comment) and, when the ZIP64
 * locator precedes it, the ZIP64 end record it points at.
 */
export async function readZipEnd(source: ByteSource): Promise<ZipEnd> {
  if (source.size < END_BYTES) fail('the file is too short to be a ZIP');
  const tailLength = Math.min(source.size, END_BYTES + LOCATOR64_BYTES);
  const tail = view(await source.read(source.size - tailLength, tailLength));
  if (tail.byteLength !== tailLength) fail('the file ended early');
  const at = tailLength - END_BYTES;
  if (tail.getUint32(at, true) !== SIG_END || tail.getUint16(at + 20, true) !== 0) fail('no ZIP end record at its end (the download was cut off?)');
  if (tail.getUint16(at + 4, true) !== 0 || tail.getUint16(at + 6, true) !== 0) fail('it claims to span several disks');
  const count16 = tail.getUint16(at + 10, true);
  const size32 = tail.getUint32(at + 12, true);
  const offset32 = tail.getUint32(at + 16, true);
  const endAt = source.size - END_BYTES;

  let end: ZipEnd;
  const locator = at - LOCATOR64_BYTES;
  if (locator >= 0 && tail.getUint32(locator, true) === SIG_LOCATOR64) {
    if (tail.getUint32(locator + 4, true) !== 0 || tail.getUint32(locator + 16, true) > 1) fail('it claims to span several disks');
    const locatorAt = endAt - LOCATOR64_BYTES;
    const recordAt = u64(tail, locator + 8, 'the ZIP64 end record offset');
    if (recordAt + END64_BYTES > locatorAt) fail('the ZIP64 locator points past itself');
    const record = view(await source.read(recordAt, END64_BYTES));
    if (record.byteLength !== END64_BYTES || record.getUint32(0, true) !== SIG_END64) fail('the ZIP64 end record is missing where its locator points');
    if (recordAt + 12 + u64(record, 4, 'the ZIP64 end record size') !== locatorAt) fail('the ZIP64 end record does not end where its locator starts');
    if (record.getUint32(16, true) !== 0 || record.getUint32(20, true) !== 0) fail('it claims to span several disks');
    const entries = u64(record, 32, 'the entry count');
    if (u64(record, 24, 'the entry count') !== entries) fail('the ZIP64 end record counts its entries twice, differently');
    end = {
      entries,
      directorySize: u64(record, 40, 'the directory size'),
      directoryOffset: u64(record, 48, 'the directory offset'),
      endOffset: recordAt,
      zip64: true,
    };
    // The short fields repeat the ZIP64 values, or are full.
    if ((count16 !== U16_FULL && count16 !== end.entries) || (size32 !== U32_FULL && size32 !== end.directorySize) || (offset32 !== U32_FULL && offset32 !== end.directoryOffset)) {
      fail('the ZIP end record and the ZIP64 end record disagree');
    }
  } else {
    if (size32 === U32_FULL || offset32 === U32_FULL) fail('the ZIP end record is full but there is no ZIP64 end record');
    end = { entries: count16, directorySize: size32, directoryOffset: offset32, endOffset: endAt, zip64: false };
  }
  if (end.directoryOffset + end.directorySize !== end.endOffset) fail('the ZIP directory does not end where the end record starts');
  return end;
}

export interface ZipDirectoryEntry {
  name: string;
  nameBytes: Uint8Array;
  compression: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  /** The sizes came from a ZIP64 extra field, so the data descriptor holds them in 8 bytes each. */
  zip64Sizes: boolean;
}

/** Reads [start, start + length) front to back through a window, so a large directory is never one read. */
function windowOver(source: ByteSource, start: number, length: number) {
  const end = start + length;
  let buffer: Uint8Array = new Uint8Array(0);
  let bufferAt = start;
  let at = start;
  return {
    done: () => at >= end,
    async take(n: number): Promise<Uint8Array> {
      if (at + n > end) fail('a damaged ZIP directory');
      if (at + n > bufferAt + buffer.length) {
        const want = Math.min(end - at, Math.max(n, DIRECTORY_WINDOW));
        buffer = await source.read(at, want);
        bufferAt = at;
        if (buffer.length < n) fail('the file ended early');
      }
      const bytes = buffer.subarray(at - bufferAt, at - bufferAt + n);
      at += n;
      return bytes;
    },
  };
}

function zip64Field(extra: Uint8Array, name: string): DataView | undefined {
  const v = view(extra);
  let found: DataView | undefined;
  let at = 0;
  while (at < extra.length) {
    if (at + 4 > extra.length) fail(`entry ${JSON.stringify(name)} has a damaged extra field`);
    const tag = v.getUint16(at, true);
    const length = v.getUint16(at + 2, true);
    if (at + 4 + length > extra.length) fail(`entry ${JSON.stringify(name)} has a damaged extra field`);
    if (tag === ZIP64_EXTRA) found = view(extra.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return found;
}

/**
 * The central directory's entries in order, walked by the directory's byte size. Sizes and offsets
 * a 32-bit field cannot hold come from the entry's ZIP64 extra field, in the order the format
 * fixes (size, compressed size, offset), each present only when its short field is full.
 */
export async function* readZipDirectory(source: ByteSource, end: ZipEnd): AsyncGenerator<ZipDirectoryEntry> {
  const window = windowOver(source, end.directoryOffset, end.directorySize);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let count = 0;
  while (!window.done()) {
    const h = view(await window.take(46));
    if (h.getUint32(0, true) !== SIG_CENTRAL) fail('a damaged ZIP directory');
    const nameLength = h.getUint16(28, true);
    const extraLength = h.getUint16(30, true);
    const commentLength = h.getUint16(32, true);
    const variable = await window.take(nameLength + extraLength + commentLength);
    const nameBytes = variable.slice(0, nameLength);
    let name: string;
    try {
      name = decoder.decode(nameBytes);
    } catch {
      return fail('an entry name is not UTF-8');
    }
    if (h.getUint16(34, true) !== 0) fail(`entry ${JSON.stringify(name)} claims another disk`);
    let size = h.getUint32(24, true);
    let compressedSize = h.getUint32(20, true);
    let localOffset = h.getUint32(42, true);
    const zip64Sizes = size === U32_FULL || compressedSize === U32_FULL;
    if (zip64Sizes || localOffset === U32_FULL) {
      const extra = zip64Field(variable.subarray(nameLength, nameLength + extraLength), name) ?? fail(`entry ${JSON.stringify(name)} has a full size or offset and no ZIP64 extra field`);
      let at = 0;
      const next = (what: string) => {
        if (at + 8 > extra.byteLength) fail(`entry ${JSON.stringify(name)} has a ZIP64 extra field without its ${what}`);
        const value = u64(extra, at, `entry ${JSON.stringify(name)}'s ${what}`);
        at += 8;
        return value;
      };
      if (size === U32_FULL) size = next('size');
      if (compressedSize === U32_FULL) compressedSize = next('compressed size');
      if (localOffset === U32_FULL) localOffset = next('offset');
    }
    count++;
    yield {
      name,
      nameBytes,
      compression: h.getUint16(10, true),
      crc32: h.getUint32(16, true),
      compressedSize,
      size,
      localOffset,
      zip64Sizes,
    };
  }
  if (count !== end.entries) fail(`the ZIP directory holds ${count} entries, its end record says ${end.entries}`);
}

/**
 * Reads an entry's local header: it must name the entry the directory names, be stored and not
 * encrypted. Gives where the entry's bytes start and whether a data descriptor follows them.
 */
export async function readLocalHeader(source: ByteSource, entry: ZipDirectoryEntry) {
  const label = JSON.stringify(entry.name);
  const length = 30 + entry.nameBytes.length;
  const bytes = await source.read(entry.localOffset, length);
  if (bytes.length !== length) fail(`entry ${label} has no local header`);
  const l = view(bytes);
  if (l.getUint32(0, true) !== SIG_LOCAL) fail(`entry ${label} has no local header`);
  const flags = l.getUint16(6, true);
  if (flags & 1) fail(`entry ${label} is encrypted`);
  if (l.getUint16(8, true) !== 0) fail(`entry ${label} is compressed; exports store entries as they are`);
  const local = bytes.subarray(30);
  if (l.getUint16(26, true) !== entry.nameBytes.length || local.some((b, i) => b !== entry.nameBytes[i])) {
    fail(`entry ${label} has a local header that names another entry`);
  }
  // With a data descriptor, the header's CRC and sizes are left zero (they follow the data);
  // without one, they are the directory's.
  const descriptor = (flags & 8) !== 0;
  const [crc32, compressedSize, size] = [l.getUint32(14, true), l.getUint32(18, true), l.getUint32(22, true)];
  const agrees = descriptor
    ? crc32 === 0 && compressedSize === 0 && size === 0
    : !entry.zip64Sizes && crc32 === entry.crc32 && compressedSize === entry.compressedSize && size === entry.size;
  if (!agrees) fail(`entry ${label} has a local header that disagrees with the directory`);
  return { dataOffset: entry.localOffset + length + l.getUint16(28, true), descriptor };
}

/** Checks the data descriptor after an entry's bytes repeats the directory's CRC and sizes; returns where it ends. */
export async function readDataDescriptor(source: ByteSource, entry: ZipDirectoryEntry, dataEnd: number) {
  const length = entry.zip64Sizes ? 24 : 16;
  const bytes = await source.read(dataEnd, length);
  const disagrees = () => fail(`entry ${JSON.stringify(entry.name)} has a data descriptor that disagrees with the directory`);
  if (bytes.length !== length) disagrees();
  const d = view(bytes);
  const sizes = entry.zip64Sizes ? [u64(d, 8, 'a size'), u64(d, 16, 'a size')] : [d.getUint32(8, true), d.getUint32(12, true)];
  if (d.getUint32(0, true) !== SIG_DESCRIPTOR || d.getUint32(4, true) !== entry.crc32 || sizes[0] !== entry.compressedSize || sizes[1] !== entry.size) disagrees();
  return dataEnd + length;
}
