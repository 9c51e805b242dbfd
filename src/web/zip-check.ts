import { type ByteSource, readLocalHeader, readZipDirectory, readZipEnd, ZipFormatError } from '../client/export/zip-directory.js';

// What the page checks of a downloaded export before saving it: the ZIP is whole (its end records,
// ZIP64 or not, and its directory are there) and its last entry is the manifest, which lists every
// other entry. A download cut off midway fails here instead of being saved as if complete. The full
// check of every entry's SHA-256 is the SDK's (src/client/export/archive.ts, `homing export
// verify`); it is not bundled into the page because its schemas would quadruple the page's script.
// The ZIP structure reader (zip-directory.ts) imports nothing and is shared with the SDK.

export type { ByteSource };

export interface ExportSummary {
  entries: number;
  exportedAt: number;
}

const MANIFEST = 'manifest.json';

function fail(why: string): never {
  throw new Error(`the downloaded archive is not a whole homing export: ${why}`);
}

export async function checkExportZip(source: ByteSource): Promise<ExportSummary> {
  let count = 0;
  let manifest: { format?: unknown; exportedAt?: unknown; entries?: unknown };
  try {
    const end = await readZipEnd(source);
    let last;
    for await (const entry of readZipDirectory(source, end)) {
      count++;
      last = entry;
    }
    if (!last) fail('its ZIP directory is empty');
    if (last.name !== MANIFEST) fail(`its last entry is not ${MANIFEST}`);
    const { dataOffset } = await readLocalHeader(source, last);
    if (dataOffset + last.size > end.directoryOffset) fail(`the ${MANIFEST} entry is damaged`);
    const text = new TextDecoder().decode(await source.read(dataOffset, last.size));
    try {
      manifest = JSON.parse(text);
    } catch {
      return fail(`${MANIFEST} is not JSON`);
    }
  } catch (err) {
    if (err instanceof ZipFormatError) fail(err.message);
    throw err;
  }
  if (manifest.format !== 'homing-export' || !Array.isArray(manifest.entries) || typeof manifest.exportedAt !== 'number') {
    fail(`${MANIFEST} is not a homing export manifest`);
  }
  if (manifest.entries.length !== count - 1) fail(`${MANIFEST} lists ${manifest.entries.length} entries, the archive holds ${count - 1}`);
  return { entries: manifest.entries.length, exportedAt: manifest.exportedAt };
}
