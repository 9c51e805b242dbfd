// The build, in plain JavaScript so that `npm start` runs it with node alone (no tsx):
//   node scripts/build.mjs             the page, then the server and the device CLI (npm run build)
//   node scripts/build.mjs web         the page only (npm run build:web)
//   node scripts/build.mjs --if-stale  the whole build, only when an output is missing or older
//                                      than a source (npm start, the process tests, the bench)
// Everything goes to dist/, outside src/:
//   dist/public/                  the files served as they are, each at its path under this folder:
//                                 the page's script and stylesheet (hashed names) and map data
//                                 (assets/), Redoc, its start-up script and licences (docs/). The
//                                 Node server reads them from here; on Workers, Static Assets
//                                 uploads the folder (wrangler.toml [assets]), so the Worker's
//                                 script stays small
//   dist/web/assets.js (+ .d.ts)  the Find Device page's HTML, and the path and SHA-256 of each of
//                                 its files in dist/public/ (wrangler bundles this small manifest)
//   dist/web/docs-assets.js       the API reference at /docs: the page that loads Redoc, and the
//   (+ .d.ts)                     path and SHA-256 of its files in dist/public/ (scripts/build-docs.mjs)
//   dist/policy.js (+ .d.ts)      the privacy policy text for the Worker, which has no file system:
//                                 POLICY_FILE at build time, else docs/privacy-policy.txt (the Node
//                                 server reads the file itself at start-up)
//   dist/node.js, dist/cli.js,    src/node.ts, src/client/cli/main.ts and src/admin.ts (the operator's
//   dist/admin.js                 tool, npm run admin), bundled for Node 20 with
//   (+ dist/chunks/)              every package left external (node_modules is loaded as installed)
// Each file is written to a temporary name and renamed into place, so a process test or a server
// starting while another process rebuilds never reads half a file. What it built goes to stderr,
// leaving stdout to the program npm runs next (npm run device).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDocs, DOCS_OUTPUTS, docsInputs } from './build-docs.mjs';

/** The nearest folder at or above this script whose package.json is homing's. */
function packageRoot() {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'homing') return dir;
    if (dirname(dir) === dir) throw new Error('build: no package.json named "homing" above scripts/build.mjs');
  }
}

const root = packageRoot();
const at = (path) => join(root, path);
const require = createRequire(at('package.json'));
const WORLD = require.resolve('world-atlas/land-50m.json');
const LEAFLET_CSS = require.resolve('leaflet/dist/leaflet.css');

const ENTRIES = { node: 'src/node.ts', cli: 'src/client/cli/main.ts', admin: 'src/admin.ts' };
const OUTPUTS = [...DOCS_OUTPUTS, 'dist/web/assets.js', 'dist/web/assets.d.ts', 'dist/public/assets/world.json', 'dist/policy.js', 'dist/policy.d.ts', 'dist/node.js', 'dist/node.js.map', 'dist/cli.js', 'dist/cli.js.map', 'dist/admin.js', 'dist/admin.js.map'];
/** What the outputs are made from: the sources, this script, and the packages the page bundles. */
const INPUTS = ['src', 'scripts/build.mjs', 'package.json', 'package-lock.json', 'docs/privacy-policy.txt'];

const started = new Date();
const written = [];

function writeAtomically(path, contents) {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
  written.push(path);
}

const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');
const kib = (text) => `${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB`;

/** Where the page's and the reference's files are written, each at the path it is served at. */
const PUBLIC = 'dist/public';
const publicWritten = new Set();

/**
 * Writes a file served as is (src/http/static-asset.ts) at `path` under dist/public/, the one
 * copy both runtimes serve: the Node server reads it from there, and Workers Static Assets
 * uploads that folder (wrangler.toml [assets]). Returns the entry the app's manifest holds.
 */
function writePublic(path, body, hash = sha256(body)) {
  writeAtomically(at(`${PUBLIC}${path}`), body);
  publicWritten.add(at(`${PUBLIC}${path}`));
  return { path, sha256: hash };
}

const ASSETS_TYPES = `// Generated by scripts/build.mjs from src/web/ (npm run build:web). Do not edit.
/** The page itself, which the app fills in with its configuration before serving. */
export interface WebPage {
  body: string;
  sha256: string;
}
/** A file written under dist/public/, served at \`path\` (its path under that folder). */
export interface WebFile {
  path: string;
  sha256: string;
}
export declare const html: WebPage;
export declare const js: WebFile;
export declare const css: WebFile;
export declare const world: WebFile;
/** The page's Argon2id Web Worker (src/web/kdf-worker.ts), the only script with WebAssembly. */
export declare const kdfWorker: WebFile;
`;

// Loaded only once a build is due, so the up-to-date check npm start makes stays quick.
const esbuild = () => import('esbuild');

async function buildWeb() {
  const { build, transform } = await esbuild();
  const bundle = await build({
    entryPoints: [at('src/web/main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    write: false,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  const js = bundle.outputFiles[0].text;
  // A classic script (not a module worker), for the browsers that start only those; the page
  // learns its hashed name from a meta tag the server writes (src/features/web-page/routes.ts).
  const worker = await build({
    entryPoints: [at('src/web/kdf-worker.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    write: false,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  const kdfWorker = worker.outputFiles[0].text;
  // Leaflet's stylesheet first, so the page's rules override it. Its url(images/…) rules are for
  // the layers control and image markers, which the page does not use: they become `none`, so no
  // rule can ever ask for a file the server does not have.
  const leafletCss = readFileSync(LEAFLET_CSS, 'utf8').replace(/url\(images\/[^)]*\)/g, 'none');
  const css = (await transform(`${leafletCss}\n${readFileSync(at('src/web/style.css'), 'utf8')}`, { loader: 'css', minify: true })).code;
  // Natural Earth land at 1:50m (public domain), as TopoJSON; the page turns it into shapes.
  const world = JSON.stringify(JSON.parse(readFileSync(WORLD, 'utf8')));

  const jsHash = sha256(js);
  const cssHash = sha256(css);
  const html = readFileSync(at('src/web/index.html'), 'utf8')
    .replace('__JS_HASH__', jsHash.slice(0, 16))
    .replace('__CSS_HASH__', cssHash.slice(0, 16));
  if (html.includes('__')) throw new Error('index.html has a placeholder the build did not fill');

  const files = {
    js: writePublic(`/assets/app.${jsHash.slice(0, 16)}.js`, js, jsHash),
    css: writePublic(`/assets/app.${cssHash.slice(0, 16)}.css`, css, cssHash),
    world: writePublic('/assets/world.json', world),
    kdfWorker: writePublic(`/assets/kdf-worker.${sha256(kdfWorker).slice(0, 16)}.js`, kdfWorker),
  };
  writeAtomically(at('dist/web/assets.d.ts'), ASSETS_TYPES);
  writeAtomically(
    at('dist/web/assets.js'),
    `// Generated by scripts/build.mjs from src/web/ (npm run build:web). Do not edit.
export const html = ${JSON.stringify({ body: html, sha256: sha256(html) })};
${Object.entries(files)
  .map(([name, file]) => `export const ${name} = ${JSON.stringify(file)};`)
  .join('\n')}
`,
  );
  console.error(`build: page: app.js ${kib(js)}, app.css ${kib(css)}, index.html ${kib(html)}, world.json ${kib(world)}, kdf-worker.js ${kib(kdfWorker)}`);
}

function buildPolicy() {
  const source = process.env.POLICY_FILE ?? at('docs/privacy-policy.txt');
  const text = readFileSync(source, 'utf8');
  if (text.trim() === '') throw new Error(`build: the privacy policy ${source} is empty`);
  writeAtomically(at('dist/policy.d.ts'), '// Generated by scripts/build.mjs. Do not edit.\nexport declare const policyText: string;\n');
  writeAtomically(at('dist/policy.js'), `// Generated by scripts/build.mjs from the privacy policy text. Do not edit.\nexport const policyText = ${JSON.stringify(text)};\n`);
}

async function buildServer() {
  const { build } = await esbuild();
  const result = await build({
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, source]) => [name, at(source)])),
    outdir: at('dist'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: ['node20'],
    // Dependencies load from node_modules as installed: better-sqlite3 is native, and the rest
    // keep their own module structure (and their lazy imports).
    packages: 'external',
    // Code split into chunks, so that a module the server imports only when configured (with
    // `await import()`) stays out of start-up, and with it the packages it imports.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    // Maps for readable stack traces (npm start runs node --enable-source-maps), pointing at src/
    // without a copy of it: with the sources (and the page they bundle) inside, parsing the map
    // at start-up cost about 14 MiB of idle RSS.
    sourcemap: true,
    sourcesContent: false,
    write: false,
    logLevel: 'warning',
  });
  for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
  removeOldFiles(at('dist/chunks'), new Set(result.outputFiles.map((file) => file.path)));
  const sizes = Object.keys(ENTRIES).map((name) => `dist/${name}.js ${kib(readFileSync(at(`dist/${name}.js`), 'utf8'))}`);
  console.error(`build: ${sizes.join(', ')}`);
}

/**
 * Deletes what earlier builds wrote under `dir` (chunks, hashed page files) that this one did not.
 * One a minute old or less is kept: it may belong to a build running at the same time, whose
 * entry files or manifests are about to point at it.
 */
function removeOldFiles(dir, current) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) removeOldFiles(path, current);
    else if (!current.has(path) && statSync(path).mtimeMs < started.getTime() - 60_000) rmSync(path, { force: true });
  }
}

/** The newest modification time under the given absolute paths, in ms. */
function newest(paths) {
  let latest = 0;
  const visit = (path) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else latest = Math.max(latest, stat.mtimeMs);
  };
  for (const path of paths) if (existsSync(path)) visit(path);
  return latest;
}

function isStale() {
  if (!OUTPUTS.every((path) => existsSync(at(path)))) return true;
  const oldestOutput = Math.min(...OUTPUTS.map((path) => statSync(at(path)).mtimeMs));
  return newest([...INPUTS.map(at), WORLD, LEAFLET_CSS, ...docsInputs(require)]) > oldestOutput;
}

const args = process.argv.slice(2);
const known = ['web', '--if-stale'];
if (args.some((arg) => !known.includes(arg))) {
  console.error(`usage: node scripts/build.mjs [web] [--if-stale]`);
  process.exit(2);
}
const webOnly = args.includes('web');
if (args.includes('--if-stale') && !isStale()) process.exit(0);

try {
  await buildWeb();
  await buildDocs({ root, esbuild, writeAtomically, writePublic, sha256, kib });
  removeOldFiles(at(PUBLIC), publicWritten);
  buildPolicy();
  if (!webOnly) await buildServer();
} catch (err) {
  // esbuild has already printed its errors, with their source lines; its stack adds nothing.
  if (!Array.isArray(err?.errors)) throw err;
  process.exit(1);
}
// Stamp the outputs with the time the build started: a source saved while it ran is newer, so
// the next --if-stale build picks it up.
for (const path of written) utimesSync(path, started, started);
