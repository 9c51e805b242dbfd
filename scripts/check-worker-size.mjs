// The Worker's upload size, by part, against its target (npm run check:worker; the bench's
// section 12 imports measureWorker). Runs `wrangler deploy --dry-run`, which bundles src/worker.ts
// exactly as a deploy would, then reads what it wrote:
//   total and gzip   as wrangler counts them: every module of the upload, concatenated, gzipped
//   parts            each input file's bytes in the bundle (esbuild's metafile, via --metafile),
//                    grouped into packages and our own code; a part's gzip is its own text cut out
//                    of the bundle along the source map and gzipped alone (so parts sum to a little
//                    more than the whole, which compresses across them)
// Fails (exit 1) when the gzip size is above TARGET_GZIP_KIB: Cloudflare's own limits are far
// higher, but every KiB is parsed on each cold start of an isolate.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const TARGET_GZIP_KIB = 350;

/** Which part of the bundle an input belongs to; the first pattern that matches names it. */
const PARTS = [
  ['zod locales', /node_modules\/zod\/(v4\/)?locales\//],
  ['zod', /node_modules\/zod\//],
  ['OpenAPI (@asteasolutions/zod-to-openapi, @hono/zod-*)', /node_modules\/(@asteasolutions\/zod-to-openapi|@hono\/zod-)/],
  ['AWS SDK (@aws-sdk, @smithy, …)', /node_modules\/(@aws-sdk|@smithy|@aws-crypto|fast-xml-parser|strnum|bowser)\//],
  ['mimetext (+ core-js-pure, js-base64)', /node_modules\/(mimetext|core-js-pure|@babel\/runtime-corejs3|js-base64)\//],
  // drizzle's published source maps name ../src/*.ts beside the package, not inside it.
  ['drizzle-orm', /node_modules\/(drizzle-orm|src)\//],
  ['hono', /node_modules\/hono\//],
  ['@noble/*', /node_modules\/@noble\//],
  ['Node.js compatibility (unenv)', /node_modules\/(unenv|@cloudflare\/unenv-preset)\//],
  ['page assets (dist/web/assets.js)', /dist\/web\/assets\.js$/],
  ['API reference (dist/web/docs-assets.js)', /dist\/web\/docs-assets\.js$/],
  ['homing (src/, dist/policy.js)', /^(src|dist)\//],
  ['other packages', /node_modules\//],
];
const UNMAPPED = "wrangler's wrapper (no source)";

export const partOf = (input) => PARTS.find(([, pattern]) => pattern.test(input))?.[0] ?? UNMAPPED;

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** For each line of the generated file, its segments as [column, source index] (source maps v3). */
function decodeMappings(mappings) {
  const lines = [];
  let source = 0;
  for (const line of mappings.split(';')) {
    const segments = [];
    let column = 0;
    for (const segment of line.split(',')) {
      if (!segment) continue;
      const fields = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0];
      if (fields.length > 1) source += fields[1];
      segments.push([column, fields.length > 1 ? source : -1]);
    }
    lines.push(segments);
  }
  return lines;
}

/** The bundle's text cut into parts along its source map: part name → its text. */
function textByPart(code, map, toPart) {
  const partOfSource = map.sources.map(toPart);
  const chunks = new Map();
  const add = (part, text) => {
    if (!chunks.has(part)) chunks.set(part, []);
    chunks.get(part).push(text);
  };
  const mapped = decodeMappings(map.mappings);
  code.split('\n').forEach((line, i) => {
    const segments = mapped[i] ?? [];
    if (segments.length === 0 || segments[0][0] > 0) add(UNMAPPED, line.slice(0, segments[0]?.[0] ?? line.length));
    segments.forEach(([column, source], j) => {
      add(source < 0 ? UNMAPPED : partOfSource[source], line.slice(column, segments[j + 1]?.[0] ?? line.length));
    });
    add(segments.length ? partOfSource[segments.at(-1)[1]] ?? UNMAPPED : UNMAPPED, '\n');
  });
  return new Map([...chunks].map(([part, list]) => [part, list.join('')]));
}

/**
 * Bundles the Worker as `wrangler deploy` would (no upload) into `outdir`, and measures it: the
 * entry wrangler.toml names, or `script` (src/worker-s3.ts). Returns { bytes, gzipBytes, parts:
 * [{ name, bytes, gzipBytes }] (largest gzip first), wrangler: its own "Total Upload" line }.
 */
export function measureWorker({ root, outdir, script }) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const metafile = join(outdir, 'meta.json');
  const run = spawnSync(join(root, 'node_modules/.bin/wrangler'), ['deploy', ...(script ? [script] : []), '--dry-run', '--outdir', outdir, '--metafile', metafile], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', FORCE_COLOR: '0' },
  });
  if (run.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${run.stdout}${run.stderr}`);
  const modules = readdirSync(outdir).filter((name) => !/\.map$|^README\.md$|^meta\.json$/.test(name));
  const contents = modules.map((name) => readFileSync(join(outdir, name)));
  const whole = Buffer.concat(contents);

  const meta = JSON.parse(readFileSync(metafile, 'utf8'));
  const bytes = new Map();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const part = partOf(input);
      bytes.set(part, (bytes.get(part) ?? 0) + bytesInOutput);
    }
  }
  const texts = new Map();
  modules.forEach((name, i) => {
    const mapPath = join(outdir, `${name}.map`);
    if (!existsSync(mapPath)) return;
    const map = JSON.parse(readFileSync(mapPath, 'utf8'));
    const sourceRoot = resolve(outdir, map.sourceRoot ?? '');
    for (const [part, text] of textByPart(contents[i].toString('utf8'), map, (source) => partOf(relative(root, resolve(sourceRoot, source))))) {
      texts.set(part, (texts.get(part) ?? '') + text);
    }
  });
  const names = new Set([...bytes.keys(), ...texts.keys()]);
  const parts = [...names]
    .map((name) => ({ name, bytes: bytes.get(name) ?? Buffer.byteLength(texts.get(name) ?? ''), gzipBytes: gzipSync(texts.get(name) ?? '').byteLength }))
    .sort((a, b) => b.gzipBytes - a.gzipBytes);
  const wrangler = /Total Upload: .*/.exec(run.stdout)?.[0] ?? '';
  return { bytes: whole.byteLength, gzipBytes: gzipSync(whole).byteLength, parts, wrangler };
}

const kib = (n) => (n / 1024).toFixed(1);

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // npm runs scripts in the package's root, where wrangler.toml is.
  const root = process.cwd();
  if (!existsSync(join(root, 'wrangler.toml'))) {
    console.error('check-worker-size: run it from the folder of wrangler.toml (npm run check:worker)');
    process.exit(2);
  }
  const result = measureWorker({ root, outdir: join(root, '.wrangler/dry-run') });
  console.log(result.wrangler);
  console.log('  gzip KiB  KiB   part');
  for (const part of result.parts) console.log(`${kib(part.gzipBytes).padStart(10)} ${kib(part.bytes).padStart(7)}   ${part.name}`);
  const verdict = result.gzipBytes <= TARGET_GZIP_KIB * 1024 ? 'within' : 'ABOVE';
  console.log(`The Worker is ${kib(result.gzipBytes)} KiB gzip: ${verdict} the ${TARGET_GZIP_KIB} KiB target.`);
  if (verdict !== 'within') process.exit(1);
}
