import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { archiveEtag, type MapArchiveSource } from './map-archive-source.js';

// The map archive as a local file (MAP_ARCHIVE_FILE), on Node. Each request opens the file and
// reads from that handle: an archive the operator replaces by renaming a new file into place is
// served whole from the old one until the request ends, never half old and half new. The ETag
// names the file's size, inode and mtime, so a copy written over the old one gets a new tag too.

export function createFileMapArchive(path: string): MapArchiveSource {
  return {
    setting: 'MAP_ARCHIVE_FILE',
    async open() {
      let handle: FileHandle;
      try {
        handle = await open(path, 'r');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return { unavailable: 'there is no file at MAP_ARCHIVE_FILE' };
        return { unavailable: `the file at MAP_ARCHIVE_FILE cannot be opened (${code ?? 'error'})` };
      }
      const info = await handle.stat().catch(async (error: unknown) => {
        await handle.close();
        throw error;
      });
      if (!info.isFile() || info.size === 0) {
        await handle.close();
        return { unavailable: info.isFile() ? 'the file at MAP_ARCHIVE_FILE is empty' : 'MAP_ARCHIVE_FILE names something that is not a file' };
      }
      const size = info.size;
      return {
        archive: {
          size,
          etag: archiveEtag([size, info.ino, info.mtimeMs], 'strong'),
          async read(range) {
            // autoClose: the handle is closed when the stream ends, errors or is cancelled (a client gone mid-body).
            const stream = handle.createReadStream({ start: range?.start ?? 0, end: Math.min(range?.end ?? size - 1, size - 1), autoClose: true });
            return Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
          },
          close: () => handle.close(),
        },
      };
    },
  };
}
