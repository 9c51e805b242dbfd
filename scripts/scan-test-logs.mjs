// node scripts/scan-test-logs.mjs [DIR]
//
// After `vitest run`: fails if any server log line the tests produced holds a secret the tests
// handled — an e-mail, phone number, session or device token, SMS code, password or key. The
// tests keep both in one folder (test/log-scan/capture.ts): *.log files of log lines, and
// secrets-*.txt files of JSON strings. The folder is DIR, else $HOMING_TEST_LOG_DIR, else the one
// the last vitest run made (named in $TMPDIR/homing-test-logs.latest). Leaks are printed with
// their file, line and a snippet in which the secret itself is redacted; exit status 1.
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 8;
const SMS_CODE = /^[0-9]{6}$/;
const CODE_IN_TEXT = /(?<![0-9])[0-9]{6}(?![0-9])/g;

function logFolder() {
  const given = process.argv[2] ?? process.env.HOMING_TEST_LOG_DIR;
  if (given) return given;
  try {
    return readFileSync(join(tmpdir(), 'homing-test-logs.latest'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function kindOf(secret) {
  if (secret.includes('@')) return 'e-mail';
  if (SMS_CODE.test(secret)) return 'SMS code';
  if (/^\+?[0-9]{8,15}$/.test(secret)) return 'phone number';
  if (/^h[sd]_/.test(secret)) return secret.startsWith('hs_') ? 'session token' : 'device token';
  return 'token, key or password';
}

function readSecrets(dir, files) {
  const secrets = new Set();
  for (const file of files.filter((f) => /^secrets-.*\.txt$/.test(f))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      try {
        secrets.add(JSON.parse(line));
      } catch {
        // a line cut short by a killed test worker
      }
    }
  }
  return secrets;
}

/** Secrets of at least PREFIX characters, lower-cased and indexed by their first PREFIX characters. */
function indexSecrets(secrets) {
  const index = new Map();
  for (const secret of secrets) {
    if (secret.length < PREFIX) continue;
    const lower = secret.toLowerCase();
    const key = lower.slice(0, PREFIX);
    index.set(key, [...(index.get(key) ?? []), { secret, lower }]);
  }
  return index;
}

/** The text of a line where a code could hide: its string values if it is JSON (numbers are sizes and times), else all of it. */
function textsOf(line) {
  if (!line.startsWith('{')) return [line];
  try {
    const texts = [];
    const walk = (value) => {
      if (typeof value === 'string') texts.push(value);
      else if (value && typeof value === 'object') Object.values(value).forEach(walk);
    };
    walk(JSON.parse(line));
    return texts;
  } catch {
    return [line];
  }
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Up to 60 characters either side of the match, with the secret (every occurrence, any case) replaced by its kind. */
function redacted(line, secret, at) {
  const start = Math.max(0, at - 60);
  const end = Math.min(line.length, at + secret.length + 60);
  const snippet = line.slice(start, end).replace(new RegExp(escapeRegExp(secret), 'gi'), `«${kindOf(secret)}, ${secret.length} chars»`);
  return `${start > 0 ? '…' : ''}${snippet}${end < line.length ? '…' : ''}`;
}

function findLeaks(line, index, codes) {
  const leaks = [];
  const lower = line.toLowerCase();
  for (let i = 0; i + PREFIX <= lower.length; i++) {
    const candidates = index.get(lower.slice(i, i + PREFIX));
    if (!candidates) continue;
    for (const { secret, lower: secretLower } of candidates) {
      if (lower.startsWith(secretLower, i)) leaks.push({ secret, at: i });
    }
  }
  if (codes.size > 0) {
    for (const text of textsOf(line)) {
      for (const match of text.matchAll(CODE_IN_TEXT)) {
        if (codes.has(match[0])) leaks.push({ secret: match[0], at: line.indexOf(match[0]) });
      }
    }
  }
  return leaks;
}

function main() {
  const dir = logFolder();
  let files;
  try {
    files = dir ? readdirSync(dir).sort() : undefined;
  } catch {
    files = undefined;
  }
  if (!files) {
    console.error(`scan-test-logs: no test log folder${dir ? ` at ${dir}` : ''}; run vitest first (or pass the folder)`);
    return 1;
  }
  const secrets = readSecrets(dir, files);
  const index = indexSecrets(secrets);
  const codes = new Set([...secrets].filter((s) => SMS_CODE.test(s)));
  let lines = 0;
  let leaks = 0;
  const logFiles = files.filter((f) => f.endsWith('.log'));
  for (const file of logFiles) {
    const text = readFileSync(join(dir, file), 'utf8');
    text.split('\n').forEach((line, n) => {
      if (!line) return;
      lines++;
      for (const leak of findLeaks(line, index, codes)) {
        leaks++;
        console.error(`LEAK ${join(dir, file)}:${n + 1}: a ${kindOf(leak.secret)} in a log line: ${redacted(line, leak.secret, leak.at)}`);
      }
    });
  }
  const summary = `checked ${lines} log lines in ${logFiles.length} files against ${secrets.size} secrets (${dir})`;
  if (leaks > 0) {
    console.error(`scan-test-logs: ${leaks} secret(s) found in logs; ${summary}`);
    return 1;
  }
  if (lines === 0 || secrets.size === 0) {
    // Nothing captured means the capture is broken, and a scan of nothing would pass by itself.
    console.error(`scan-test-logs: nothing to check: ${summary}`);
    return 1;
  }
  console.log(`scan-test-logs: no secrets in logs; ${summary}`);
  return 0;
}

process.exitCode = main();
