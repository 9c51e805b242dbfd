import { describe, expect, it } from 'vitest';
import { readArchive, verifyArchive } from '../../src/client/export/archive.js';
import { nodeSha256 } from '../../src/client/export/open-folder.js';
import { readZipEnd } from '../../src/client/export/zip-directory.js';
import type { ZipSource } from '../../src/features/export/zip-writer.js';
import { blobEntryName, EXPORT_ENTRY } from '../../src/protocol/api/export.js';
import { checkExportZip } from '../../src/web/zip-check.js';
import { HEADER, sparseCapture, textEntry, writeExport } from './export-zip-helpers.js';

// An export past 4 GiB, written by the export's own writer and read by the SDK's reader, without
// 4 GiB of memory or disk: a blob of 4 GiB + 1 MiB of zeros is streamed, one 1 MiB buffer over and
// over, and the capture keeps every other chunk but only counts the zero run. Costs the CRC-32 and
// two SHA-256 passes (writer and reader) over 4 GiB: about 20 s on an idle core.

const MiB = 1024 * 1024;
const BIG = 4096 * MiB + MiB;
/** SHA-256 of BIG zero bytes, from coreutils: `head -c 4296015872 /dev/zero | sha256sum`. */
const ZEROS_SHA256 = '829816e339ff597ec3ada4c30fc840d3f2298444169d242952a54bcf3fcd7747';

describe('an archive past 4 GiB', () => {
  it('a 4 GiB + 1 MiB blob and the entries after it (offsets past 32 bits) are written as ZIP64, read, verified against the manifest, and pass the page check; a moved ZIP64 record is refused', async () => {
    const zero = new Uint8Array(MiB);
    const zeros = (async function* () {
      for (let i = 0; i < BIG / MiB; i++) yield zero;
    })();
    const entries: ZipSource[] = [
      textEntry(EXPORT_ENTRY.account, '{"accountId":"acc_zip64"}\n'),
      { name: blobEntryName('huge'), body: zeros },
      textEntry(blobEntryName('after'), 'after the huge one'),
      textEntry(EXPORT_ENTRY.audit, '{"action":"export.downloaded"}\n'),
    ];
    const source = await sparseCapture(writeExport(entries), zero);
    expect(source.size).toBeGreaterThan(BIG);
    expect(source.kept).toBeLessThan(64 * 1024); // the capture held only headers, small entries and the directory

    const end = await readZipEnd(source);
    expect(end).toMatchObject({ zip64: true, entries: 5 });
    expect(end.directoryOffset).toBeGreaterThan(0xffffffff);

    const archive = await readArchive(source);
    expect(archive.names()).toEqual([EXPORT_ENTRY.account, blobEntryName('huge'), blobEntryName('after'), EXPORT_ENTRY.audit, EXPORT_ENTRY.manifest]);
    expect(archive.entry(blobEntryName('huge')).size).toBe(BIG);
    expect(archive.entry(blobEntryName('after')).dataOffset).toBeGreaterThan(0xffffffff);
    expect(await archive.text(blobEntryName('after'))).toBe('after the huge one');

    const manifest = await verifyArchive(archive, nodeSha256);
    expect(manifest.entries[1]).toEqual({ name: blobEntryName('huge'), size: BIG, sha256: ZEROS_SHA256 });
    expect(await checkExportZip(source)).toEqual({ entries: 4, exportedAt: HEADER.exportedAt });

    // The locator points 8 bytes early: the ZIP64 end record is not where it says.
    const locatorOffset = source.size - 22 - 20 + 8;
    const moved = new Uint8Array(8);
    new DataView(moved.buffer).setBigUint64(0, BigInt(end.endOffset - 8), true);
    source.patch(locatorOffset, moved);
    await expect(readArchive(source)).rejects.toThrow(/ZIP64 end record/);
    await expect(checkExportZip(source)).rejects.toThrow(/not a whole homing export: .*ZIP64 end record/);
  }, 300_000);
});
