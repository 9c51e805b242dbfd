import { createHash } from 'node:crypto';
import { makeZip } from 'client-zip';
import { Zip, ZipPassThrough } from 'fflate';
import { describe, expect, it } from 'vitest';
import { ArchiveRejectedError, readArchive, verifyArchive } from '../../src/client/export/archive.js';
import { nodeSha256 } from '../../src/client/export/open-folder.js';
import { readZipEnd } from '../../src/client/export/zip-directory.js';
import { createZipStream, type ZipSource } from '../../src/features/export/zip-writer.js';
import { blobEntryName, EXPORT_ENTRY } from '../../src/protocol/api/export.js';
import { checkExportZip } from '../../src/web/zip-check.js';
import { memorySource } from '../features/export-helpers.js';
import { collect, directoryOf, HEADER, textEntry, writeExport } from './export-zip-helpers.js';

// The export archive past the limits of a ZIP without ZIP64, and the reader's refusal of archives
// laid out in ways the server never writes. The > 4 GiB case is export-zip64-large.test.ts.

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const u8 = (text: string) => new TextEncoder().encode(text);

async function smallExport() {
  return collect(writeExport([textEntry(EXPORT_ENTRY.account, '{"accountId":"acc_zip64"}\n'), textEntry(blobEntryName('b1'), 'first blob'), textEntry(blobEntryName('b2'), 'second blob'), textEntry(EXPORT_ENTRY.audit, '')]));
}

const verify = async (bytes: Uint8Array) => verifyArchive(await readArchive(memorySource(bytes)), nodeSha256);

describe('more entries than 16 bits count', () => {
  it('an export of 70,000 entries is written, read and verified against its manifest, and passes the page check', async () => {
    const N = 70_000;
    function* entries(): Generator<ZipSource> {
      yield textEntry(EXPORT_ENTRY.account, '{}\n');
      for (let i = 0; i < N; i++) yield textEntry(blobEntryName(`b${i}`), String(i % 10));
    }
    const bytes = await collect(writeExport(entries()));
    // The 16-bit count is full, and the ZIP64 end record (which client-zip leaves out in an
    // archive under 4 GiB; zip-writer.ts adds it) holds the real one.
    const short = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 22, 22);
    expect(short.getUint16(10, true)).toBe(0xffff);
    expect(await readZipEnd(memorySource(bytes))).toMatchObject({ zip64: true, entries: N + 2 });

    const archive = await readArchive(memorySource(bytes));
    expect(archive.names()).toHaveLength(N + 2);
    expect(archive.names().at(-1)).toBe(EXPORT_ENTRY.manifest);
    const manifest = await verifyArchive(archive, nodeSha256);
    expect(manifest.entries).toHaveLength(N + 1);
    expect(manifest.entries[N]).toEqual({ name: blobEntryName(`b${N - 1}`), size: 1, sha256: sha256(u8(String((N - 1) % 10))) });
    expect(await archive.text(blobEntryName('b65600'))).toBe('0');
    expect(await checkExportZip(memorySource(bytes))).toEqual({ entries: N + 1, exportedAt: HEADER.exportedAt });
  }, 120_000);

  it('a hidden entry: an end record counting one entry fewer than the directory holds is refused', async () => {
    const bytes = await smallExport();
    const { view, end } = directoryOf(bytes);
    view.setUint16(end + 8, view.getUint16(end + 8, true) - 1, true);
    view.setUint16(end + 10, view.getUint16(end + 10, true) - 1, true);
    await expect(readArchive(memorySource(bytes))).rejects.toThrow(/the ZIP directory holds 5 entries, its end record says 4/);
    await expect(checkExportZip(memorySource(bytes))).rejects.toThrow(/not a whole homing export: the ZIP directory holds 5 entries/);
  });
});

describe('the writer', () => {
  it('client-zip writes the same bytes whether or not each entry\'s size is passed (it counts the size itself)', async () => {
    const lastModified = new Date(HEADER.exportedAt);
    const contents = [u8('x'.repeat(1000)), u8(''), u8('{"a":1}')];
    const stream = (bytes: Uint8Array) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes);
          controller.close();
        },
      });
    const without = await collect(makeZip(contents.map((bytes, i) => ({ name: `e${i}`, lastModified, input: stream(bytes) }))));
    const withSize = await collect(makeZip(contents.map((bytes, i) => ({ name: `e${i}`, lastModified, input: stream(bytes), size: bytes.length }))));
    expect(Buffer.compare(without, withSize)).toBe(0);
    // And a wrong size changes nothing either: the local headers carry no size (a data descriptor follows).
    const lying = await collect(makeZip(contents.map((bytes, i) => ({ name: `e${i}`, lastModified, input: stream(bytes), size: 5_000_000_000 }))));
    expect(Buffer.compare(without, lying)).toBe(0);
  });

  it('the reader reads what client-zip writes for entries given without a size', async () => {
    const bytes = await smallExport();
    const manifest = await verify(bytes);
    expect(manifest.entries.map((e) => e.name)).toEqual([EXPORT_ENTRY.account, blobEntryName('b1'), blobEntryName('b2'), EXPORT_ENTRY.audit]);
    expect(manifest.entries[3]).toEqual({ name: EXPORT_ENTRY.audit, size: 0, sha256: sha256(new Uint8Array(0)) });
  });

  it("a client gone mid-blob cancels the blob's read at its source, and no further entry is listed or opened", async () => {
    let pulls = 0;
    const cancelled: string[] = [];
    let listingStopped = false;
    let listedAfter = 0;
    const endless = (name: string) =>
      new ReadableStream<Uint8Array>({
        pull(controller) {
          pulls++;
          controller.enqueue(new Uint8Array(64 * 1024).fill(pulls & 0xff));
        },
        cancel() {
          cancelled.push(name);
        },
      }, { highWaterMark: 0 });
    async function* sources(): AsyncGenerator<ZipSource> {
      try {
        yield textEntry(EXPORT_ENTRY.account, '{}\n');
        yield { name: blobEntryName('endless'), body: endless('endless') };
        listedAfter++;
        yield { name: blobEntryName('next'), body: endless('next') };
      } finally {
        listingStopped = true;
      }
    }
    const reader = createZipStream(sources(), { mtime: HEADER.exportedAt, sha256: nodeSha256, onWritten: () => undefined }).getReader();
    let received = 0;
    while (received < 1024 * 1024) received += (await reader.read()).value!.length;
    const pullsAtCancel = pulls;
    await reader.cancel('gone');
    await new Promise((r) => setTimeout(r, 20));
    expect(cancelled).toEqual(['endless']);
    expect(listingStopped).toBe(true);
    expect(listedAfter).toBe(0);
    // Pulled, not pushed: at most a chunk or two read ahead of the client.
    expect(pullsAtCancel * 64 * 1024).toBeLessThan(received + 4 * 64 * 1024);
    expect(pulls).toBeLessThanOrEqual(pullsAtCancel + 1);
  });

  it('a source that fails part-way errors the archive: the entry is cut off and no manifest is written', async () => {
    const failing: ZipSource = {
      name: blobEntryName('broken'),
      body: (async function* () {
        yield new Uint8Array(10_000).fill(7);
        throw new Error('the store lost it');
      })(),
    };
    const received: Uint8Array[] = [];
    const reader = writeExport([textEntry(EXPORT_ENTRY.account, '{}\n'), failing, textEntry(EXPORT_ENTRY.audit, '')]).getReader();
    const failure = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return undefined;
        received.push(value);
      }
    })().catch((err: unknown) => err);
    expect(failure).toMatchObject({ message: 'the store lost it' });
    const got = Buffer.concat(received);
    expect(got.includes(Buffer.from(EXPORT_ENTRY.manifest))).toBe(false);
    expect(got.includes(Buffer.from(EXPORT_ENTRY.audit))).toBe(false);
    await expect(readArchive(memorySource(got))).rejects.toBeInstanceOf(ArchiveRejectedError);
  });

  it('an archive the server wrote before ZIP64 (fflate\'s streaming Zip) still reads and verifies', async () => {
    const contents: [string, Uint8Array][] = [[EXPORT_ENTRY.account, u8('{}\n')], [blobEntryName('b1'), new Uint8Array(70_000).fill(3)]];
    const manifest = { format: 'homing-export', version: 1, ...HEADER, entries: contents.map(([name, bytes]) => ({ name, size: bytes.length, sha256: sha256(bytes) })) };
    const chunks: Uint8Array[] = [];
    const zip = new Zip((err, data) => {
      if (err) throw err;
      chunks.push(data);
    });
    for (const [name, bytes] of [...contents, [EXPORT_ENTRY.manifest, u8(JSON.stringify(manifest))] as [string, Uint8Array]]) {
      const file = new ZipPassThrough(name);
      zip.add(file);
      file.push(bytes, true);
    }
    zip.end();
    const bytes = Buffer.concat(chunks);
    expect((await verify(bytes)).entries).toHaveLength(2);
    expect(await checkExportZip(memorySource(bytes))).toEqual({ entries: 2, exportedAt: HEADER.exportedAt });
  });
});

describe('archives laid out as the server never writes them', () => {
  it('two directory records pointing at the same bytes (overlapping entries) are refused', async () => {
    const bytes = await smallExport();
    const { view, records } = directoryOf(bytes);
    view.setUint32(records[2]!.at + 42, records[1]!.localOffset, true);
    await expect(readArchive(memorySource(bytes))).rejects.toThrow(`entry "${blobEntryName('b2')}" does not start where the one before it ends`);
  });

  it('a directory record pointing past bytes slipped in after an entry is refused', async () => {
    const bytes = await smallExport();
    const { view, records } = directoryOf(bytes);
    // The record for b2 now starts a byte late, as if one byte had been inserted before it.
    view.setUint32(records[2]!.at + 42, records[2]!.localOffset + 1, true);
    await expect(readArchive(memorySource(bytes))).rejects.toThrow(ArchiveRejectedError);
  });

  it('a data descriptor with a changed CRC is refused, naming the entry', async () => {
    const bytes = await smallExport();
    const archive = await readArchive(memorySource(bytes));
    const b1 = archive.entry(blobEntryName('b1'));
    bytes[b1.dataOffset + b1.size + 4]! ^= 0xff;
    await expect(readArchive(memorySource(bytes))).rejects.toThrow(`entry "${blobEntryName('b1')}" has a data descriptor that disagrees with the directory`);
  });

  it('a local header naming another entry than its directory record is refused', async () => {
    const bytes = await smallExport();
    const { records } = directoryOf(bytes);
    const local = records[1]!.localOffset;
    bytes[local + 30 + blobEntryName('b').length] = 0x32; // blobs/b1 → blobs/b2
    await expect(readArchive(memorySource(bytes))).rejects.toThrow(`entry "${blobEntryName('b1')}" has a local header that names another entry`);
  });

  it('a full 32-bit size with no ZIP64 extra field to give the real one is refused', async () => {
    const bytes = await smallExport();
    const { view, records } = directoryOf(bytes);
    view.setUint32(records[1]!.at + 20, 0xffffffff, true);
    view.setUint32(records[1]!.at + 24, 0xffffffff, true);
    await expect(readArchive(memorySource(bytes))).rejects.toThrow(`entry "${blobEntryName('b1')}" has a full size or offset and no ZIP64 extra field`);
    await expect(checkExportZip(memorySource(bytes))).rejects.toThrow(/no ZIP64 extra field/);
  });

  it('an end record with a comment or trailing bytes after it is refused (exports end with their end record)', async () => {
    const bytes = await smallExport();
    await expect(readArchive(memorySource(Buffer.concat([bytes, Buffer.from('trailing')])))).rejects.toThrow(/no ZIP end record at its end/);
  });
});
