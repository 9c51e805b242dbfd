import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

// The Chromium the browser tests drive through playwright-core. Nothing is downloaded:
// - HOMING_CHROMIUM=/path/to/chromium: that executable (a Chrome or Chromium of your own);
// - HOMING_CHROMIUM=npm: the npm build below, even where /usr/bin/chromium exists;
// - otherwise /usr/bin/chromium (Debian's `chromium` package) when it exists;
// - otherwise the headless Chromium inside the @sparticuz/chromium dev dependency. It ships
//   brotli archives that are unpacked once into node_modules/.cache/homing-chromium-<version>/
//   (so `npm ci` starts it afresh), along with the NSS libraries and a font it needs on a machine
//   that has only Node.

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/**
 * The DESIGN.md flags, for Debian's Chromium and the npm build alike. None of @sparticuz/chromium's
 * own `args` are added: --single-process and --no-zygote are for AWS Lambda (it runs without them),
 * --disable-web-security and --allow-running-insecure-content would hide CSP and CORS bugs, and
 * WebGL 2 already runs on its bundled SwiftShader with --disable-gpu.
 */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface FoundChromium {
  source: 'HOMING_CHROMIUM' | 'debian' | 'npm';
  executablePath: string;
  /** Added to the browser's environment: the npm build's own libraries and fonts. */
  env: Record<string, string>;
  /** For logs: where it came from and which file it is. */
  label: string;
}

let found: Promise<FoundChromium> | undefined;

/** Finds the browser once per process; a failure says what to install or set. */
export function findChromium(): Promise<FoundChromium> {
  found ??= locate().catch((error: unknown) => {
    found = undefined;
    throw error;
  });
  return found;
}

async function locate(): Promise<FoundChromium> {
  const wanted = process.env.HOMING_CHROMIUM?.trim();
  if (wanted && wanted !== 'npm') {
    const executablePath = resolve(wanted);
    if (!isExecutable(executablePath)) throw new Error(`HOMING_CHROMIUM=${wanted} is not an executable file`);
    return { source: 'HOMING_CHROMIUM', executablePath, env: {}, label: `HOMING_CHROMIUM ${executablePath}` };
  }
  if (!wanted && isExecutable(DEBIAN_CHROMIUM)) {
    return { source: 'debian', executablePath: DEBIAN_CHROMIUM, env: {}, label: `Debian ${DEBIAN_CHROMIUM}` };
  }
  return npmChromium();
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

async function npmChromium(): Promise<FoundChromium> {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
  } catch {
    throw new Error(`no Chromium for the browser tests: ${DEBIAN_CHROMIUM} is missing and the @sparticuz/chromium dev dependency is not installed (run npm install, or set HOMING_CHROMIUM to a Chromium executable)`);
  }
  const packageDir = dirname(dirname(entry));
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  // packageDir is <node_modules>/@sparticuz/chromium.
  const dir = join(dirname(dirname(packageDir)), '.cache', `homing-chromium-${version}`);
  if (!existsSync(join(dir, 'chromium'))) await unpack(entry, packageDir, dir);
  return {
    source: 'npm',
    executablePath: join(dir, 'chromium'),
    env: {
      // The build links NSS, NSPR and expat dynamically; it ships them for Amazon Linux.
      LD_LIBRARY_PATH: [join(dir, 'al2023', 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_FILE: join(dir, 'fonts.conf'),
    },
    label: `npm @sparticuz/chromium ${version} ${join(dir, 'chromium')}`,
  };
}

/**
 * Unpacks with the package's own code into a private folder, then renames that folder into place.
 * The rename is atomic, so test files starting at once never see a half-written browser: the
 * first rename wins and the others throw their copy away. (The package itself would unpack into
 * a fixed /tmp/chromium, and reuse whatever file is there, whole or not.)
 */
async function unpack(entry: string, packageDir: string, dir: string): Promise<void> {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const prefix = `${basename(dir)}.partial-`;
  // Leftovers of an unpack that was killed; a live one takes seconds.
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const path = join(parent, name);
    const age = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > 15 * 60_000) rmSync(path, { recursive: true, force: true });
  }
  const staging = mkdtempSync(join(parent, prefix));
  try {
    // A child process, so that pointing the package at the staging folder (it unpacks into
    // os.tmpdir()) changes no environment in the test process.
    const script = 'const { default: chromium, inflate } = await import(process.argv[1]); await chromium.executablePath(); await inflate(process.argv[2]);';
    await new Promise<void>((done, fail) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', script, entry, join(packageDir, 'bin', 'al2023.tar.br')],
        { env: { ...process.env, TMPDIR: staging }, timeout: 180_000 },
        (error, _stdout, stderr) => (error ? fail(new Error(`could not unpack @sparticuz/chromium into ${staging}: ${stderr || error.message}`)) : done()),
      );
    });
    // Its fonts.conf names /tmp/fonts; this one names the unpacked font, then the system's fonts.
    writeFileSync(
      join(staging, 'fonts.conf'),
      `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>${join(dir, 'fonts', 'fonts')}</dir>
  <cachedir>${join(dir, 'fontconfig-cache')}</cachedir>
</fontconfig>
`,
    );
    for (const file of ['chromium', 'al2023/lib/libnss3.so', 'fonts/fonts', 'libGLESv2.so']) {
      if (!existsSync(join(staging, file))) throw new Error(`@sparticuz/chromium unpacked without ${file}`);
    }
    try {
      renameSync(staging, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !existsSync(join(dir, 'chromium'))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The browser's own version line, e.g. "Chromium 153.0.8010.0". */
export function chromiumVersion(browser: FoundChromium): string {
  return execFileSync(browser.executablePath, ['--version'], { env: { ...process.env, ...browser.env }, encoding: 'utf8', timeout: 30_000 }).trim();
}

type LaunchOptions = Omit<NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>, 'executablePath' | 'headless' | 'args' | 'env'>;

export interface LaunchedChromium {
  context: BrowserContext;
  browser: FoundChromium;
  /** Closes the browser and deletes its profile. */
  close(): Promise<void>;
}

/**
 * Launches the found Chromium with a fresh profile in a temporary folder. `extraArgs` go after the
 * DESIGN.md flags: e.g. `--host-resolver-rules=MAP homing.test 127.0.0.1`, to reach a test server
 * under a host name that is not loopback.
 */
export async function launchChromium(options: LaunchOptions & { extraArgs?: string[] } = {}): Promise<LaunchedChromium> {
  const { extraArgs = [], ...launchOptions } = options;
  const browser = await findChromium();
  const profile = mkdtempSync(join(tmpdir(), 'homing-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      ...launchOptions,
      executablePath: browser.executablePath,
      headless: true,
      args: [...CHROMIUM_FLAGS, ...extraArgs],
      env: { ...process.env, ...browser.env },
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`could not launch ${browser.label}: ${(error as Error).message}`, { cause: error });
  }
  return {
    context,
    browser,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
