import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packagePublicFolder } from '../../src/adapters/static-files-dir.js';
import { ensureBuilt, REPO } from './spawn.js';

// What the built server (dist/node.js) loads before it serves its first request: every module its
// static imports reach, read from the build output itself. Packages only some configurations use
// must sit behind an `await import()` (a chunk of their own), so that the server on the embedded
// defaults never loads them: the idle-memory figure of `npm run bench` (section 12) depends on it.

const STATIC_IMPORT = /(?:^|[;\n])\s*(?:import|export)\s*(?:[\w*\s{},$]*\sfrom\s*)?"([^"]+)"/g;
const DYNAMIC_IMPORT = /\bimport\(\s*"([^"]+)"\s*\)/g;

interface Graph {
  /** Files reached through static imports from the entry, the entry included. */
  files: Set<string>;
  /** Packages (and node: built-ins) those files import statically. */
  packages: Set<string>;
  /** Our own files those files import only with import(). */
  lazyFiles: Set<string>;
}

function staticGraph(entry: string): Graph {
  const graph: Graph = { files: new Set(), packages: new Set(), lazyFiles: new Set() };
  const visit = (file: string) => {
    if (graph.files.has(file)) return;
    graph.files.add(file);
    const code = readFileSync(file, 'utf8');
    for (const [, spec] of code.matchAll(STATIC_IMPORT)) {
      if (spec!.startsWith('.')) visit(resolve(dirname(file), spec!));
      else graph.packages.add(spec!);
    }
    for (const [, spec] of code.matchAll(DYNAMIC_IMPORT)) if (spec!.startsWith('.')) graph.lazyFiles.add(resolve(dirname(file), spec!));
  };
  visit(entry);
  for (const file of graph.files) graph.lazyFiles.delete(file);
  return graph;
}

const packagesOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)].map((m) => m[1]!).filter((spec) => !spec.startsWith('.'));
const packageName = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);

/** Packages only a configuration other than the embedded defaults needs (BLOB_STORE=s3, EMAIL_PROVIDER=smtp, SMS_PROVIDER=twilio). */
const OPTIONAL_PACKAGES = ['@aws-sdk/client-s3', '@aws-sdk/s3-request-presigner', 'nodemailer', 'twilio'];

describe('the built server loads only what the embedded defaults use', () => {
  ensureBuilt();
  const graph = staticGraph(join(REPO, 'dist/node.js'));

  it('reads a real graph (the rules below are not vacuous)', () => {
    expect(graph.files.size).toBeGreaterThan(1);
    expect([...graph.packages]).toEqual(expect.arrayContaining(['better-sqlite3', 'hono', '@hono/node-server']));
  });

  it('imports no optional package before its first request: the AWS SDK, nodemailer and twilio wait for their configuration', () => {
    expect([...graph.packages].map(packageName).filter((name) => OPTIONAL_PACKAGES.some((p) => packageName(p) === name))).toEqual([]);
  });

  it('keeps the S3 store and the SMTP sender in chunks of their own, which only an import() reaches', () => {
    const lazyPackages = [...graph.lazyFiles].flatMap(packagesOf);
    expect(lazyPackages).toEqual(expect.arrayContaining(['@aws-sdk/client-s3', '@aws-sdk/s3-request-presigner', 'nodemailer']));
  });

  it("holds none of dist/public's files: the page's script and Redoc are read from disk when asked for", () => {
    const holding = [...graph.files].filter((file) => {
      const code = readFileSync(file, 'utf8');
      return code.includes('For license information please see redoc.standalone.js.LICENSE.txt') || code.includes('"type":"Topology"');
    });
    expect(holding).toEqual([]);
  });
});

describe("the page's files folder", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("is dist/public/ of the package the module is in, found from dist/ as from src/, and outside any package it says so", () => {
    expect(packagePublicFolder(join(REPO, 'dist'))).toBe(join(REPO, 'dist', 'public'));
    expect(packagePublicFolder(join(REPO, 'src', 'adapters'))).toBe(join(REPO, 'dist', 'public'));
    const outside = mkdtempSync(join(tmpdir(), 'homing-no-package-'));
    dirs.push(outside);
    expect(() => packagePublicFolder(outside)).toThrow(/no package.json named "homing"/);
  });
});
