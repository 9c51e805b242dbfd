import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { proveIdentity } from '../account.js';
import { type ApiClient, HomingApiError } from '../api.js';
import { ArchiveRejectedError } from '../export/archive.js';
import { openExport } from '../export/open-folder.js';
import { formatBytes } from './progress.js';
import { readSecret } from './prompt.js';

// `homing export` downloads the account's archive; `homing open` turns one into plain files,
// offline. See docs/OPERATIONS.md, "Exporting an account".

/** The server wants a password proof from the last 5 minutes; a little less, for clock skew. */
const FRESH_MS = 4 * 60_000;

function byteProgress(label: string, out: NodeJS.WriteStream = process.stderr) {
  let last = 0;
  return {
    update(bytes: number) {
      const now = Date.now();
      if (now - last < 500) return;
      last = now;
      out.write(out.isTTY ? `\r${label} ${formatBytes(bytes)}\u001b[K` : `${label} ${formatBytes(bytes)}\n`);
    },
    done(bytes: number) {
      out.write(`${out.isTTY ? '\r' : ''}${label} ${formatBytes(bytes)}, done${out.isTTY ? '\u001b[K' : ''}\n`);
    },
  };
}

async function reauthenticate(api: ApiClient, email: string) {
  const password = await readSecret('Password (exporting everything needs it again)', 'HOMING_PASSWORD');
  await api.reauthenticate(await proveIdentity(api, { email, password }));
}

/**
 * Downloads the archive into `out` (through a temporary name, so a broken download never leaves
 * a file that looks finished). Proves the password first unless this session did recently, so the
 * request is not spent on a refusal: exports are limited to a few a day.
 */
export async function runExport(api: ApiClient, input: { email: string; out?: string }) {
  const out = input.out ?? `homing-export-${new Date().toISOString().slice(0, 10)}.zip`;
  const session = await api.currentSession();
  if (session.reauthenticatedAt === null || Date.now() - session.reauthenticatedAt > FRESH_MS) await reauthenticate(api, input.email);
  let body: ReadableStream<Uint8Array>;
  try {
    body = await api.exportArchive();
  } catch (err) {
    if (!(err instanceof HomingApiError && err.code === 'reauthentication_required')) throw err;
    await reauthenticate(api, input.email);
    body = await api.exportArchive();
  }
  const progress = byteProgress('export');
  let bytes = 0;
  const counted = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        progress.update((bytes += chunk.length));
        controller.enqueue(chunk);
      },
    }),
  );
  const temp = `${out}.partial`;
  try {
    await pipeline(Readable.fromWeb(counted as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(temp, { mode: 0o600 }));
    await rename(temp, out);
  } catch (err) {
    await rm(temp, { force: true });
    throw new Error(`the export broke off after ${formatBytes(bytes)} (${(err as Error).message}); nothing was kept, try again`);
  }
  progress.done(bytes);
  console.log(`exported to ${out} (${formatBytes(bytes)}); it holds your e-mail and phone number in the clear: keep it private`);
}

/** Checks an archive against its manifest and writes its contents as plain files; needs no server. */
export async function runOpen(input: { file: string; dir: string }) {
  const password = await readSecret('Password', 'HOMING_PASSWORD');
  const verify = byteProgress('checked');
  const write = byteProgress('decrypted');
  let verified = 0;
  let written = 0;
  let report;
  try {
    report = await openExport({
      file: input.file,
      dir: input.dir,
      password,
      onProgress: (phase, bytes) => (phase === 'verify' ? verify.update((verified = bytes)) : write.update((written = bytes))),
    });
  } catch (err) {
    if (err instanceof ArchiveRejectedError) throw new Error(`${err.message}; nothing was written`);
    throw err;
  }
  verify.done(verified);
  write.done(written);
  console.log(`opened ${input.file} into ${input.dir}: ${report.written.length} files written, ${report.locations} locations, ${report.skipped.length} skipped`);
  // JSON.stringify: names come from the archive, and their control characters must not reach the terminal raw.
  for (const { what, reason } of report.skipped) console.log(`  skipped ${what}: ${JSON.stringify(reason)}`);
  if (report.skipped.length > 0) throw new Error(`${report.skipped.length} could not be opened (listed above); the rest was written`);
}
