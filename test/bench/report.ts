// Renders BENCHMARKS.md from the measured results. Every number and every conclusion below is
// computed from the results passed in; nothing here is a pre-written figure.
import type { BlobMemoryResult } from './blob-memory.js';
import type { CipherResult } from './blob-cipher.js';
import { RUNTIME_COMMAND } from './server-process.js';
import type { SizeResult } from './sync-pages.js';
import { ITEMS_PER_COMMIT, PAGE_LIMIT, RUNS, WARMUPS } from './sync-pages.js';
import { count, mib, ms, ratio, sizeLabel, table } from './util.js';

export interface Environment {
  date: string;
  node: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  command: string;
  loadBefore: number[];
  loadAfter: number[];
}

/** The band within which this report calls a ratio "flat" on a shared, noisy machine. */
export const FLAT_BAND = 1.5;

const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
const mb = (bytes: number) => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(0)} kB` : `${(bytes / 1e6).toFixed(bytes < 10e6 ? 1 : 0)} MB`);

function syncSection(results: SizeResult[], seconds: number): string {
  const smallest = results[0]!;
  const largest = results[results.length - 1]!;
  const cursorNames = smallest.cursors.map((c) => c.cursor);
  const cell = (median: number, p95: number) => `${ms(median)} / ${ms(p95)}`;
  const rows: (string | number)[][] = results.map((r) => [
    count(r.items),
    count(r.noiseItems),
    mb(r.dbBytes),
    `${r.loadSeconds.toFixed(r.loadSeconds < 1 ? 2 : 1)} s`,
    ...r.cursors.map((c) => cell(c.medianMs, c.p95Ms)),
    cell(r.http.medianMs, r.http.p95Ms),
  ]);
  const ratioOf = (r: SizeResult) => [
    ...r.cursors.map((c, i) => c.medianMs / smallest.cursors[i]!.medianMs),
    r.http.medianMs / smallest.http.medianMs,
  ];
  const p95RatioOf = (r: SizeResult) => [
    ...r.cursors.map((c, i) => c.p95Ms / smallest.cursors[i]!.p95Ms),
    r.http.p95Ms / smallest.http.p95Ms,
  ];
  for (const r of results.slice(1)) {
    const medians = ratioOf(r);
    const p95s = p95RatioOf(r);
    rows.push([
      `**${count(r.items)} ÷ ${count(smallest.items)}**`,
      '',
      '',
      '',
      ...medians.map((m, i) => `**${ratio(m)}** / ${ratio(p95s[i]!)}`),
    ]);
  }
  const header = [
    'Items in account',
    'Noise items (other account)',
    'DB file',
    'Load time',
    ...cursorNames.map((c) => `${c}: median / p95 (ms)`),
    'HTTP, middle: median / p95 (ms)',
  ];

  const bigRatios = ratioOf(largest);
  const worst = Math.max(...bigRatios);
  const [rStart, rMiddle, rEnd] = bigRatios;
  const rHttp = bigRatios[bigRatios.length - 1]!;
  const verdict =
    worst <= FLAT_BAND
      ? `Every median ratio is within ${FLAT_BAND}×, so on this run the cost of a page did not grow with the size of the account.`
      : `The largest median ratio is ${ratio(worst)}, above the ${FLAT_BAND}× band: on this run the cost of a page did grow with the size of the account (by the largest factor at the cursor above).`;

  const pageRows = results.flatMap((r) => r.cursors.map((c) => c.rows));
  const allMore = results.every((r) => r.cursors.every((c) => c.hasMore));

  // The plans of every statement one page ran, captured from better-sqlite3 at the largest size.
  const plans = largest.plans;
  const itemPlans = plans.filter((p) => /from "items"/.test(p.sql));
  const indexesUsed = [...new Set(plans.flatMap((p) => p.plan.flatMap((line) => [...line.matchAll(/USING (?:COVERING )?INDEX (\w+)/g)].map((m) => m[1]!))))];
  const scans = plans.filter((p) => p.plan.some((line) => /^SCAN\b/.test(line)));
  const sorts = plans.filter((p) => p.plan.some((line) => /TEMP B-TREE/.test(line)));
  const itemsUseIndex = itemPlans.length > 0 && itemPlans.every((p) => p.plan.some((line) => line.includes('items_changes')));
  // A blob lookup must go by its key: an index on another column still reads every matching row.
  const blobPlans = plans.filter((p) => /from "blobs"/.test(p.sql));
  const blobsByKey = blobPlans.every((p) => p.plan.some((line) => /\(account_id=\? AND id=\?\)/.test(line)));
  const planSentence = [
    itemsUseIndex
      ? `${itemPlans.length === 1 ? "The page's items query is" : `All ${itemPlans.length} items queries of the page are`} answered by the \`items_changes\` index (account_id, change_seq, id), in the order the page asks.`
      : `Not every items query of the page used the \`items_changes\` index: see the plans below.`,
    blobsByKey
      ? 'Blob sizes and hashes are looked up by their primary key (account_id, id).'
      : 'A blob lookup of the page did not use the primary key (account_id, id): see the plans below.',
    scans.length === 0 ? 'No statement of the page scans a table' : `${scans.length} statement(s) of the page scan a table`,
    sorts.length === 0 ? 'and none needs a temporary sort.' : `and ${sorts.length} need a temporary sort.`,
    `Indexes used: ${indexesUsed.map((i) => `\`${i}\``).join(', ')}.`,
  ].join(' ');

  const planBlock = plans
    .map((p) => `${p.sql.replace(/\(\?(, \?)+\)/, '(?, …)')}\n  → ${p.plan.join('\n  → ')}`)
    .join('\n\n');

  return `## 1. Delta sync: cost of one page against the size of the account

Target: *the cost of a page does not grow with the size of the account (index-backed)*.

For each size, a fresh SQLite file was created with the project's migrations (\`openSqlite\`), an
account was signed up and logged in through the real app, and its items were written straight
into the file: commits of ${ITEMS_PER_COMMIT} items sharing one sequence number, wrapped keys of
96 base64url characters, encrypted metadata of about 300, one item in four referring to a
committed blob. A second account got a tenth as many items, interleaved with the first, so the
index has to separate the accounts. Each page is \`changesSince(deps, accountId, since,
${PAGE_LIMIT})\` through the real service. The HTTP column is
\`GET /v1/sync/changes?since=…&limit=${PAGE_LIMIT}\` with a bearer session through \`app.request()\`
at the middle cursor (auth, validation, JSON; ${mb(largest.http.bytes)} per response). All sizes
were loaded first and then timed side by side: each round ran every size's three cursors and its
HTTP page once, in a freshly shuffled order, ${WARMUPS} warm-up rounds then ${RUNS} timed rounds, so
a noisy moment (or a garbage collection) lands on every column alike. Every timed page held
${Math.min(...pageRows)}–${Math.max(...pageRows)} rows${allMore ? ' and had more to come' : ''}.
Section time: ${seconds.toFixed(0)} s.

${table(header, rows)}

A page at ${count(largest.items)} items took ${ratio(rStart!)} (start), ${ratio(rMiddle!)} (middle) and ${ratio(rEnd!)} (near end) the median time of the same page at ${count(smallest.items)} items, and ${ratio(rHttp)} through HTTP, for an account ${count(largest.items / smallest.items)} times larger; pooling the three cursors (${RUNS * smallest.cursors.length} pages per size), the ratio is ${ratio(largest.pooledMedianMs / smallest.pooledMedianMs)}. ${verdict}

${planSentence} \`EXPLAIN QUERY PLAN\` of each statement one page ran at ${count(largest.items)} items, captured from better-sqlite3 as the service executed it:

\`\`\`text
${planBlock}
\`\`\`
`;
}

function blobSection(result: BlobMemoryResult, seconds: number): string {
  const base = result.baselineRss;
  const rows: (string | number)[][] = [
    ['idle (baseline)', '—', '—', '—', mib(base), '—', '—', `${result.baselineSamples} over 1 s`],
    ...result.transfers.map((t) => [
      t.direction,
      sizeLabel(t.bytes),
      t.seconds.toFixed(2),
      t.mbPerSecond.toFixed(0),
      mib(t.peakRss),
      t.kernelPeakRss === undefined ? 'n/a' : mib(t.kernelPeakRss),
      `${t.peakRss >= base ? '+' : ''}${mib(t.peakRss - base)}`,
      `${t.samples} (${t.meanIntervalMs.toFixed(0)} ms)`,
    ]),
  ];
  const uploads = result.transfers.filter((t) => t.direction === 'upload');
  const small = uploads[0]!;
  const big = uploads[uploads.length - 1]!;
  const download = result.transfers.find((t) => t.direction === 'download')!;
  const peakRatio = big.peakRss / small.peakRss;
  const growthSmall = small.peakRss - base;
  const growthBig = big.peakRss - base;
  const verdict =
    peakRatio <= FLAT_BAND
      ? `within the ${FLAT_BAND}× band, so server memory stayed flat whatever the blob size`
      : `above the ${FLAT_BAND}× band, so server memory grew with the blob size`;

  const [follow, error] = [
    result.clientControls.find((c) => c.redirect === 'follow')!,
    result.clientControls.find((c) => c.redirect === 'error')!,
  ];
  const growth = (c: typeof follow) => c.clientPeakRss - c.clientBaselineRss;
  const clientRows = result.clientControls.map((c) => [
    `\`${c.redirect}\`${c.redirect === 'follow' ? " (fetch's default)" : ' (what the SDK sends)'}`,
    sizeLabel(c.bytes),
    c.mbPerSecond.toFixed(0),
    mib(c.clientBaselineRss),
    mib(c.clientPeakRss),
    `+${mib(growth(c))}`,
    mib(c.serverPeakRss),
  ]);
  const clientGrew = growth(follow) > follow.bytes / 2;
  const clientSentence = clientGrew
    ? `With fetch's default \`redirect: 'follow'\` the client process grew by ${mib(growth(follow))} MiB for a ${sizeLabel(follow.bytes)} upload, against ${mib(growth(error))} MiB with \`redirect: 'error'\`. That is how fetch is specified: to be able to replay the body after a redirect, Node's fetch (undici ${process.versions.undici ?? '?'}) clones the request, teeing a streamed body, and the branch that is never read keeps every chunk until the request is done. That is why the SDK (src/client/api.ts) sends every request with \`redirect: 'error'\`: with it, a Node client does not hold the blob while uploading it; the server is unaffected either way.`
    : `The client process grew by ${mib(growth(follow))} MiB with fetch's default \`redirect: 'follow'\` and by ${mib(growth(error))} MiB with \`redirect: 'error'\` for a ${sizeLabel(follow.bytes)} upload, so on this run the client did not hold the body either.`;

  return `## 2. Server memory against blob size

Target: *server memory stays flat whatever the blob size*.

The real server (\`${RUNTIME_COMMAND.built}\` as \`npm start\` runs it, embedded file blob store, \`LOG_LEVEL=warn\`)
ran as a child process in a temporary data folder. An account was signed up and logged in over
HTTP with the SDK (\`createApiClient\`), then blobs were sent with \`POST /v1/blobs\` as streams
generated on the fly (a seeded pseudo-random 1 MiB block, each copy stamped with its index);
their SHA-256 was computed in a first pass over the same generator. The memory measured is
${result.serverPidNote}: VmRSS from /proc every 50 ms on a separate thread, and the kernel's own
peak mark (VmHWM), reset before each transfer. The 1 GiB blob was then downloaded with
\`GET /v1/blobs/{id}\`, hashed and dropped as it arrived (it matched). Throughput is in decimal
MB/s, client and server sharing the 2 cores. Section time: ${seconds.toFixed(0)} s.

${table(
  ['Transfer', 'Size', 'Time (s)', 'MB/s', 'Server peak RSS, sampled (MiB)', 'Server VmHWM (MiB)', 'Peak − baseline (MiB)', 'Samples (mean interval)'],
  rows,
)}

Peak server RSS while uploading ${sizeLabel(big.bytes)} was ${mib(big.peakRss)} MiB, ${ratio(peakRatio)} the peak while uploading ${sizeLabel(small.bytes)} (${mib(small.peakRss)} MiB) for a blob ${big.bytes / small.bytes} times larger — ${verdict}; above the idle baseline of ${mib(base)} MiB that is +${mib(growthBig)} MiB against +${mib(growthSmall)} MiB. Downloading ${sizeLabel(download.bytes)} peaked at ${mib(download.peakRss)} MiB.

### The client side

During the ${sizeLabel(big.bytes)} upload above, the benchmark's own process — the SDK client —
peaked at ${mib(big.clientPeakRss)} MiB of RSS, against ${mib(big.peakRss)} MiB for the server. To see
what the client holds, the same SDK upload of ${sizeLabel(follow.bytes)} was repeated from a fresh
client process (test/bench/upload-client.ts), once with fetch's default \`redirect: 'follow'\` forced
and once with \`redirect: 'error'\`, which the SDK sends; nothing else differs between the two runs:

${table(['Client fetch redirect', 'Size', 'MB/s', 'Client RSS before (MiB)', 'Client peak RSS (MiB)', 'Client growth (MiB)', 'Server peak RSS (MiB)'], clientRows)}

${clientSentence}
`;
}

function cipherSection(result: CipherResult, seconds: number): string {
  const spread = (r: [number, number]) => `${r[0].toFixed(0)}–${r[1].toFixed(0)}`;
  const rows = (['encrypt', 'decrypt'] as const).map((direction) => [
    direction,
    result[direction].noble.toFixed(0),
    spread(result[`${direction}Range`].noble),
    result[direction].native.toFixed(0),
    spread(result[`${direction}Range`].native),
    `**${ratio(result[direction].native / result[direction].noble)}**`,
  ]);
  const enc = result.encrypt.native / result.encrypt.noble;
  const dec = result.decrypt.native / result.decrypt.noble;
  return `## 3. Blob encryption throughput: \`nobleChunkCipher\` against \`nativeChunkCipher\`

${sizeLabel(result.bytes)} of plaintext through \`createEncryptStream\` (chunk size ${sizeLabel(result.chunkSize)}), fed in
${result.sliceBytes / 1024} KiB slices, and back through \`createDecryptStream\` in slices of the same size, with each
cipher; ${result.rounds} rounds alternating which cipher goes first, after an untimed 4 MiB warm-up, output written into
arrays allocated once. Figures are the median over the rounds, in decimal MB/s of plaintext. Every ciphertext was
compared byte for byte with the first one (same key and nonce prefix) and every decryption with the plaintext: ${result.identicalCiphertext ? 'all identical' : 'MISMATCH'}.
Section time: ${seconds.toFixed(0)} s.

${table(['Direction', 'noble, median (MB/s)', 'noble, slowest–fastest round', 'native, median (MB/s)', 'native, slowest–fastest round', 'native ÷ noble (medians)'], rows)}

The native cipher was ${ratio(enc)} as fast as the pure-JavaScript one for encryption and ${ratio(dec)} for decryption, and both produced byte-identical ciphertext.
`;
}

export function renderReport(input: {
  env: Environment;
  totalSeconds: number;
  sync: { results: SizeResult[]; seconds: number };
  blobs: { result: BlobMemoryResult; seconds: number };
  cipher: { result: CipherResult; seconds: number };
}): string {
  const { env } = input;
  return `# Benchmarks

Generated by \`${env.command}\` (test/bench/run.ts); overwritten on every run. Everything runs on the
real parts — SQLite files with the project's migrations, the real service and app, the real server
process — and every figure and every sentence of conclusion below was computed from this one run.
The machine is a shared, noisy box, so read the **ratios** (measured side by side in the same run)
rather than the absolute times, which move from run to run. Speed and memory targets are checked
here, never in the timed unit tests.

| | |
| --- | --- |
| Date | ${env.date} |
| Node | ${env.node} |
| CPU | ${env.cpu} × ${env.cores} |
| Memory | ${env.memoryGiB.toFixed(1)} GiB |
| OS | ${env.os} |
| Command | \`${env.command}\` |
| Load average (1/5/15 min) at start / end | ${load(env.loadBefore)} — ${load(env.loadAfter)} |
| Total runtime | ${input.totalSeconds.toFixed(0)} s |

${syncSection(input.sync.results, input.sync.seconds)}
${blobSection(input.blobs.result, input.blobs.seconds)}
${cipherSection(input.cipher.result, input.cipher.seconds)}`;
}

/**
 * BENCHMARKS.md with one section replaced (or added at the end): the section is everything from
 * its own `## N.` heading to the next `## ` heading. For a section run alone (`--only soak`), so
 * the rest of the file keeps the figures of the last whole run.
 */
export function spliceSection(markdown: string, section: string): string {
  const heading = section.trimStart().match(/^## \d+\./)![0];
  const start = markdown.indexOf(`\n${heading}`);
  if (start < 0) {
    // A section measured for the first time goes before the first one numbered after it.
    const number = Number(heading.slice(3, -1));
    const later = [...markdown.matchAll(/\n## (\d+)\./g)].find((m) => Number(m[1]) > number);
    if (!later) return `${markdown.trimEnd()}\n${section}`;
    return `${markdown.slice(0, later.index)}\n${section.trim()}\n${markdown.slice(later.index)}`;
  }
  const next = markdown.indexOf('\n## ', start + 1);
  return `${markdown.slice(0, start)}\n${section.trim()}\n${next < 0 ? '' : markdown.slice(next)}`;
}
