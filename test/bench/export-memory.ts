// Section 7: the server's memory while it streams an account's export (GET /v1/account/export).
// The real built server on the embedded file store; two accounts filled over HTTP with blobs of
// 4 MiB (64 MiB and 1 GiB in all); each exported once while the server's RSS is sampled, the body
// counted and dropped as it arrives. Constant memory means the 1 GiB export peaks about where the
// 64 MiB one does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { patternSha256, patternStream } from './pattern.js';
import { benchServerEnv, cleanUpOnInterrupt, freePort, RUNTIME_COMMAND, type RssSamples, type RunningServer, resetPeak, sampleRss, startServer, statusBytes } from './server-process.js';
import { BENCH_KDF } from './sync-pages.js';
import { GiB, mbPerSecond, median, MiB, mib, progress, ratio, sizeLabel, table } from './util.js';

export const EXPORT_SIZES = [64 * MiB, 1 * GiB];
const BLOB_SIZE = 4 * MiB;
const SAMPLE_INTERVAL_MS = 50;
/** Peak RSS exporting 1 GiB over peak RSS exporting 64 MiB may be at most this. */
export const EXPORT_RSS_CEILING = 1.3;

export interface ExportRun {
  accountBytes: number;
  blobs: number;
  archiveBytes: number;
  fillSeconds: number;
  seconds: number;
  mbPerSecond: number;
  peakRss: number;
  kernelPeakRss?: number;
  samples: number;
}

export interface ExportMemoryResult {
  baselineRss: number;
  runs: ExportRun[];
}

async function fill(url: string, size: number, seedBase: number) {
  const api = createApiClient({ baseUrl: url });
  const email = `bench.export.${size}.${Date.now()}@example.org`;
  const password = 'correct horse battery staple';
  await signUp(api, { birthYear: 1990, email, password, kdf: BENCH_KDF });
  await logIn(api, { email, password, label: 'bench fill' });
  const blobs = size / BLOB_SIZE;
  for (let i = 0; i < blobs; i++) {
    const seed = seedBase + i;
    await api.uploadBlob(patternStream(seed, BLOB_SIZE), BLOB_SIZE, patternSha256(seed, BLOB_SIZE));
    if ((i + 1) % 64 === 0) progress(`  export: ${sizeLabel((i + 1) * BLOB_SIZE)} of ${sizeLabel(size)} uploaded`);
  }
  return { email, password, blobs };
}

async function exportOnce(url: string, pid: number, account: { email: string; password: string }) {
  // A fresh login: the export wants a password proof from the last 5 minutes.
  const api = createApiClient({ baseUrl: url });
  await logIn(api, { email: account.email, password: account.password, label: 'bench export' });
  const kernelPeakReset = resetPeak(pid);
  const sampler = await sampleRss([pid], SAMPLE_INTERVAL_MS);
  const t0 = performance.now();
  let bytes = 0;
  try {
    const reader = (await api.exportArchive()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
    }
  } catch (err) {
    await sampler.stop();
    throw err;
  }
  const ms = performance.now() - t0;
  const [server] = (await sampler.stop()) as [RssSamples];
  return { bytes, ms, peakRss: server.peak, samples: server.samples.length, kernelPeakRss: kernelPeakReset ? statusBytes(pid, 'VmHWM') : undefined };
}

export async function benchExportMemory(): Promise<ExportMemoryResult> {
  const dir = mkdtempSync(join(tmpdir(), 'homing-bench-export-'));
  const port = await freePort();
  let server: RunningServer | undefined;
  const unregister = cleanUpOnInterrupt(dir, () => server);
  try {
    progress(`  export: starting the built server on port ${port}`);
    server = await startServer(benchServerEnv(port, dir), dir);
    const accounts = [];
    for (const [i, size] of EXPORT_SIZES.entries()) {
      progress(`  export: filling an account with ${sizeLabel(size)} of ${sizeLabel(BLOB_SIZE)} blobs`);
      const t0 = performance.now();
      const account = await fill(server.url, size, 0x1000 * (i + 1));
      accounts.push({ size, account, fillSeconds: (performance.now() - t0) / 1000 });
    }
    const idle = await sampleRss([server.pid], SAMPLE_INTERVAL_MS);
    await new Promise((r) => setTimeout(r, 1000));
    const [baseline] = (await idle.stop()) as [RssSamples];
    const baselineRss = median(baseline.samples);
    progress(`  export: idle RSS after filling ${mib(baselineRss)} MiB`);

    const runs: ExportRun[] = [];
    // The small account first: a peak reached later can only be higher, never hidden by an earlier one.
    for (const { size, account, fillSeconds } of accounts) {
      progress(`  export: exporting the ${sizeLabel(size)} account`);
      const m = await exportOnce(server.url, server.pid, account);
      if (m.bytes < size) throw new Error(`the ${sizeLabel(size)} export gave only ${m.bytes} bytes`);
      const run = {
        accountBytes: size,
        blobs: account.blobs,
        archiveBytes: m.bytes,
        fillSeconds,
        seconds: m.ms / 1000,
        mbPerSecond: mbPerSecond(m.bytes, m.ms),
        peakRss: m.peakRss,
        kernelPeakRss: m.kernelPeakRss,
        samples: m.samples,
      };
      runs.push(run);
      progress(`  export: ${sizeLabel(size)} → ${mib(m.bytes)} MiB in ${run.seconds.toFixed(1)} s (${run.mbPerSecond.toFixed(0)} MB/s), peak RSS ${mib(m.peakRss)} MiB`);
    }
    return { baselineRss, runs };
  } finally {
    await server?.stop();
    unregister();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function renderExportMemory(r: ExportMemoryResult, seconds: number, measuredBy = ''): string {
  const [small, large] = r.runs as [ExportRun, ExportRun];
  const peakRatio = large.peakRss / small.peakRss;
  const verdict = peakRatio <= EXPORT_RSS_CEILING ? 'met' : '**not met**';
  const rows = r.runs.map((run) => [
    sizeLabel(run.accountBytes),
    String(run.blobs),
    mib(run.archiveBytes),
    run.seconds.toFixed(1),
    run.mbPerSecond.toFixed(0),
    mib(run.peakRss),
    run.kernelPeakRss === undefined ? '—' : mib(run.kernelPeakRss),
    String(run.samples),
  ]);
  return `
## 7. Export: server memory at 64 MiB and 1 GiB

Target: *constant server memory whatever the account's size*: the peak RSS while exporting a 1 GiB account at
most ${EXPORT_RSS_CEILING}× the peak exporting a 64 MiB one. The real server (\`${RUNTIME_COMMAND.built}\`, embedded SQLite
and file blob store, \`LOG_LEVEL=warn\`) held two accounts filled over HTTP with ${sizeLabel(BLOB_SIZE)} blobs; each was exported once
with \`GET /v1/account/export\` on loopback, the body counted and dropped as it arrived, the server's VmRSS sampled every
${SAMPLE_INTERVAL_MS} ms (the kernel's VmHWM, reset before each export, beside it). The small account went first.
${measuredBy}

Idle RSS after filling: ${mib(r.baselineRss)} MiB. Section time ${seconds.toFixed(0)} s.

${table(['account', 'blobs', 'archive MiB', 'seconds', 'MB/s', 'peak RSS MiB', 'VmHWM MiB', 'samples'], rows)}

Peak at 1 GiB over peak at 64 MiB: **${ratio(peakRatio)}** (ceiling ${EXPORT_RSS_CEILING}×): ${verdict}.
`;
}
