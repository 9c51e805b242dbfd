// Section 2: the server's memory while blobs of growing size stream through it.
// The real server process on the embedded file store, reached over HTTP with the SDK; bodies are
// generated as they are sent and the downloaded bytes are hashed and dropped as they arrive.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { logIn, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { patternSha256, patternStream } from './pattern.js';
import {
  cleanUpOnInterrupt,
  freePort,
  REPO,
  type RssSamples,
  type RunningServer,
  resetPeak,
  sampleRss,
  benchServerEnv,
  startServer,
  statusBytes,
} from './server-process.js';
import { BENCH_KDF } from './sync-pages.js';
import { GiB, mbPerSecond, median, MiB, mib, progress, sizeLabel } from './util.js';
import { digest } from '../adapters/streams.js';

export const UPLOAD_SIZES = [16 * MiB, 256 * MiB, 1 * GiB];
export const SAMPLE_INTERVAL_MS = 50;

export interface TransferResult {
  direction: 'upload' | 'download';
  bytes: number;
  seconds: number;
  mbPerSecond: number;
  /** Highest VmRSS sampled every SAMPLE_INTERVAL_MS during the transfer. */
  peakRss: number;
  /** The kernel's own peak mark (VmHWM), reset just before the transfer; undefined if it could not be reset. */
  kernelPeakRss?: number;
  samples: number;
  meanIntervalMs: number;
  /** Peak RSS of this benchmark process (the client side), for context. */
  clientPeakRss: number;
}

/** One upload from a fresh client process, to see what the client side holds. */
export interface ClientControl {
  redirect: 'follow' | 'error';
  bytes: number;
  seconds: number;
  mbPerSecond: number;
  clientBaselineRss: number;
  clientPeakRss: number;
  serverPeakRss: number;
}

export interface BlobMemoryResult {
  baselineRss: number;
  baselineSamples: number;
  transfers: TransferResult[];
  clientControls: ClientControl[];
  serverPidNote: string;
}

export const CONTROL_SIZE = 256 * MiB;

/** Runs test/bench/upload-client.ts in its own process and returns what it printed. */
async function runUploadClient(env: Record<string, string>) {
  const child = spawn(`${REPO}node_modules/.bin/tsx`, [`${REPO}test/bench/upload-client.ts`], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? REPO, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  child.stderr.on('data', (c: Buffer) => (err = (err + c).slice(-5000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`upload-client exited with ${code}: ${err}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as {
    seconds: number;
    baselineRss: number;
    peakRss: number;
    meanIntervalMs: number;
    blobId: string;
  };
}

async function measure<T>(pid: number, work: () => Promise<T>) {
  const kernelPeakReset = resetPeak(pid);
  const sampler = await sampleRss([pid, process.pid], SAMPLE_INTERVAL_MS);
  const t0 = performance.now();
  let value: T;
  try {
    value = await work();
  } catch (error) {
    await sampler.stop(); // so the sampling thread does not keep the process alive
    throw error;
  }
  const seconds = (performance.now() - t0) / 1000;
  const [server, client] = (await sampler.stop()) as [RssSamples, RssSamples];
  const kernelPeakRss = kernelPeakReset ? statusBytes(pid, 'VmHWM') : undefined;
  return {
    value,
    seconds,
    peakRss: server.peak,
    kernelPeakRss,
    samples: server.samples.length,
    meanIntervalMs: server.meanIntervalMs,
    clientPeakRss: client.peak,
  };
}

export async function benchBlobMemory(): Promise<BlobMemoryResult> {
  const dir = mkdtempSync(join(tmpdir(), 'homing-bench-blobs-'));
  const port = await freePort();
  let server: RunningServer | undefined;
  const unregister = cleanUpOnInterrupt(dir, () => server);
  try {
    progress(`  blobs: starting the built server (dist/node.js) on port ${port}`);
    server = await startServer(benchServerEnv(port, dir), dir);
    const pid = server.pid;
    const serverPidNote =
      pid === server.child.pid
        ? `pid ${pid} (the process started)`
        : `pid ${pid}, the Node process the wrapper started (the wrapper, pid ${server.child.pid}, is not counted)`;
    progress(`  blobs: server up; measuring ${serverPidNote}`);

    const api = createApiClient({ baseUrl: server.url });
    const email = `bench.blobs.${Date.now()}@example.org`;
    const password = 'correct horse battery staple';
    await signUp(api, { birthYear: 1990, email, password, kdf: BENCH_KDF });
    const { response } = await logIn(api, { email, password, label: 'bench' });
    const token = response.session.token!;

    // Baseline: the idle server after start-up and one login, sampled for a second.
    const idle = await sampleRss([pid], SAMPLE_INTERVAL_MS);
    await new Promise((r) => setTimeout(r, 1000));
    const [baseline] = (await idle.stop()) as [RssSamples];
    const baselineRss = median(baseline.samples);
    progress(`  blobs: baseline RSS ${mib(baselineRss)} MiB`);

    const transfers: TransferResult[] = [];
    let largest: { blobId: string; size: number; sha256: string } | undefined;
    for (const [i, size] of UPLOAD_SIZES.entries()) {
      const seed = 0x5eed + i;
      progress(`  blobs: hashing ${sizeLabel(size)} of pattern (first pass)`);
      const sha256 = patternSha256(seed, size);
      progress(`  blobs: uploading ${sizeLabel(size)}`);
      const step = Math.max(size / 4, 64 * MiB);
      let nextReport = step;
      const body = patternStream(seed, size, (sent) => {
        if (sent >= nextReport && sent < size) {
          progress(`  blobs:   ${sizeLabel(sent)} of ${sizeLabel(size)} sent`);
          nextReport += step;
        }
      });
      const m = await measure(pid, () => api.uploadBlob(body, size, sha256));
      if (m.value.size !== size || m.value.sha256 !== sha256) {
        throw new Error(`upload of ${sizeLabel(size)} came back as ${JSON.stringify(m.value)}`);
      }
      largest = { blobId: m.value.blobId, size, sha256 };
      const result = transferResult('upload', size, m);
      transfers.push(result);
      progress(
        `  blobs: ${sizeLabel(size)} up in ${m.seconds.toFixed(1)} s (${result.mbPerSecond.toFixed(0)} MB/s), peak RSS ${mib(m.peakRss)} MiB (${m.samples} samples, client ${mib(m.clientPeakRss)} MiB)`,
      );
    }

    const { blobId, size, sha256 } = largest!;
    progress(`  blobs: downloading ${sizeLabel(size)}`);
    const m = await measure(pid, async () => {
      const { bytes: received, sha256 } = await digest(await api.downloadBlob(blobId));
      return { received, sha256 };
    });
    if (m.value.received !== size || m.value.sha256 !== sha256) {
      throw new Error(`download gave ${m.value.received} bytes with SHA-256 ${m.value.sha256}; expected ${size} and ${sha256}`);
    }
    const download = transferResult('download', size, m);
    transfers.push(download);
    progress(
      `  blobs: ${sizeLabel(size)} down in ${m.seconds.toFixed(1)} s (${download.mbPerSecond.toFixed(0)} MB/s), peak RSS ${mib(m.peakRss)} MiB (${m.samples} samples, client ${mib(m.clientPeakRss)} MiB)`,
    );

    // The client side: the same SDK upload from a fresh process, once as shipped (fetch's
    // default redirect: 'follow') and once with redirect: 'error'.
    const clientControls: ClientControl[] = [];
    for (const [i, redirect] of (['follow', 'error'] as const).entries()) {
      progress(`  blobs: control: ${sizeLabel(CONTROL_SIZE)} from a fresh client process, fetch redirect: '${redirect}'`);
      const c = await measure(pid, () =>
        runUploadClient({
          BENCH_URL: server!.url,
          BENCH_TOKEN: token,
          BENCH_SIZE: String(CONTROL_SIZE),
          BENCH_SEED: String(0xc0de + i),
          BENCH_REDIRECT: redirect,
        }),
      );
      const control: ClientControl = {
        redirect,
        bytes: CONTROL_SIZE,
        seconds: c.value.seconds,
        mbPerSecond: mbPerSecond(CONTROL_SIZE, c.value.seconds * 1000),
        clientBaselineRss: c.value.baselineRss,
        clientPeakRss: c.value.peakRss,
        serverPeakRss: c.peakRss,
      };
      clientControls.push(control);
      progress(
        `  blobs: control '${redirect}': client RSS ${mib(control.clientBaselineRss)} -> peak ${mib(control.clientPeakRss)} MiB, server peak ${mib(control.serverPeakRss)} MiB`,
      );
    }
    return { baselineRss, baselineSamples: baseline.samples.length, transfers, clientControls, serverPidNote };
  } finally {
    progress('  blobs: stopping the server and removing its folder');
    try {
      await server?.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      unregister();
    }
  }
}

function transferResult(
  direction: TransferResult['direction'],
  bytes: number,
  m: Pick<TransferResult, 'seconds' | 'peakRss' | 'kernelPeakRss' | 'samples' | 'meanIntervalMs' | 'clientPeakRss'>,
): TransferResult {
  const { seconds, peakRss, kernelPeakRss, samples, meanIntervalMs, clientPeakRss } = m;
  return { direction, bytes, seconds, mbPerSecond: mbPerSecond(bytes, seconds * 1000), peakRss, kernelPeakRss, samples, meanIntervalMs, clientPeakRss };
}
