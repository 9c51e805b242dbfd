// A fresh client process for one streamed upload through the SDK, reporting its own peak RSS.
// Run by blob-memory.ts to compare the SDK's fetch as shipped with one told not to follow
// redirects, each in a process with no history. Input comes from the environment:
//   BENCH_URL, BENCH_TOKEN (a bearer session), BENCH_SIZE (bytes), BENCH_SEED, BENCH_REDIRECT ('follow' | 'error').
// Prints one JSON line: { seconds, baselineRss, peakRss, meanIntervalMs, blobId }.
import { performance } from 'node:perf_hooks';
import { createApiClient } from '../../src/client/api.js';
import { patternSha256, patternStream } from './pattern.js';
import { type RssSamples, sampleRss } from './server-process.js';

async function main() {
  const { BENCH_URL, BENCH_TOKEN, BENCH_SIZE, BENCH_SEED, BENCH_REDIRECT } = process.env;
  if (!BENCH_URL || !BENCH_TOKEN || !BENCH_SIZE || !BENCH_SEED) throw new Error('BENCH_URL, BENCH_TOKEN, BENCH_SIZE and BENCH_SEED are required');
  const size = Number(BENCH_SIZE);
  const seed = Number(BENCH_SEED);
  const redirect: RequestRedirect = BENCH_REDIRECT === 'error' ? 'error' : 'follow';
  const api = createApiClient({
    baseUrl: BENCH_URL,
    sessionToken: BENCH_TOKEN,
    // Forces the mode under test over whatever the SDK asks for (it sends 'error').
    fetch: (input: string, init: RequestInit) => fetch(input, { ...init, redirect }),
  });
  const sha256 = patternSha256(seed, size);
  const baselineRss = process.memoryUsage.rss();
  const sampler = await sampleRss([process.pid], 50);
  const t0 = performance.now();
  const blob = await api.uploadBlob(patternStream(seed, size), size, sha256);
  const seconds = (performance.now() - t0) / 1000;
  const [own] = (await sampler.stop()) as [RssSamples];
  if (blob.size !== size || blob.sha256 !== sha256) throw new Error(`upload came back as ${JSON.stringify(blob)}`);
  process.stdout.write(`${JSON.stringify({ seconds, baselineRss, peakRss: own.peak, meanIntervalMs: own.meanIntervalMs, blobId: blob.blobId })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`upload-client: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
