import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './process/spawn.js';

// The layers of src/, read from the import statements themselves (type-only imports count: a type
// pulled from a higher layer couples the two just the same). Bottom to top: protocol, db,
// adapters, the two wiring types (config.ts, deps.ts), http, features, app, entries. The SDK
// (client/) and the page (web/) sit on protocol alone. Each rule below says what breaks if it goes.

const SRC = join(REPO, 'src');

interface Edge {
  from: string;
  /** A path relative to src/ for our own files, or the package name. */
  to: string;
  local: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

function importsOf(file: string): Edge[] {
  const from = relative(SRC, file);
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => {
    const spec = (m[1] ?? m[2] ?? m[3])!;
    if (!spec.startsWith('.')) {
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      return { from, to: name, local: false };
    }
    const target = normalize(join(dirname(from), spec)).replace(/\.js$/, '.ts');
    return { from, to: target, local: true };
  });
}

const files = sourceFiles(SRC);
const edges = files.flatMap(importsOf);
const localEdges = edges.filter((e) => e.local && !e.to.startsWith('..'));

/** The layer of a file in src/; higher layers may import lower ones, never the reverse. */
function layerOf(path: string): number {
  const top = path.split('/')[0]!;
  const layers: Record<string, number> = {
    protocol: 0,
    db: 1,
    adapters: 2,
    'config.ts': 3,
    'deps.ts': 3,
    http: 4,
    features: 5,
    'app.ts': 6,
    'jobs.ts': 6,
    'node-deps.ts': 6,
    'node.ts': 7,
    'worker.ts': 7,
    'worker-s3.ts': 7,
    'admin.ts': 7,
  };
  const layer = layers[top];
  if (layer === undefined) throw new Error(`src/${path} is in no layer: add its folder to the layer table in test/architecture.test.ts`);
  return layer;
}

const isSide = (path: string, side: 'client' | 'web' | 'protocol') => path.startsWith(`${side}/`);
const serverFile = (path: string) => !isSide(path, 'client') && !isSide(path, 'web') && !isSide(path, 'protocol');
const featureOf = (path: string) => (path.startsWith('features/') ? path.split('/')[1] : undefined);
const show = (list: Edge[]) => list.map((e) => `src/${e.from} → ${e.local ? `src/${e.to}` : e.to}`);

/** Every cycle's members in a directed graph, found by Tarjan's strongly connected components. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    order.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!order.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, order.get(next)!));
    }
    if (low.get(node) === order.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!order.has(node)) visit(node);
  return found;
}

function graphOf(pairs: [string, string][]) {
  const graph = new Map<string, Set<string>>();
  for (const [a, b] of pairs) {
    if (!graph.has(a)) graph.set(a, new Set());
    if (!graph.has(b)) graph.set(b, new Set());
    if (a !== b) graph.get(a)!.add(b);
  }
  return graph;
}

describe('architecture: which file may import which', () => {
  it('finds the source tree (the rules below are not vacuous)', () => {
    expect(files.length).toBeGreaterThan(80);
    expect(localEdges.length).toBeGreaterThan(200);
  });

  it('protocol/ imports only @noble/*, zod and itself: server, SDK and page all build on it', () => {
    const bad = edges.filter((e) => isSide(e.from, 'protocol') && (e.local ? !isSide(e.to, 'protocol') : !/^(@noble\/|zod$)/.test(e.to)));
    expect(show(bad)).toEqual([]);
  });

  it('the SDK (client/) imports protocol/ and itself only, never the server or its framework', () => {
    const bad = edges.filter(
      (e) => isSide(e.from, 'client') && (e.local ? !isSide(e.to, 'client') && !isSide(e.to, 'protocol') : /^(hono|@hono\/)/.test(e.to)),
    );
    expect(show(bad)).toEqual([]);
  });

  it('the page (web/) imports protocol/, client/ and itself only, and nothing of Node', () => {
    const bad = edges.filter(
      (e) =>
        isSide(e.from, 'web') &&
        (e.local ? !isSide(e.to, 'web') && !isSide(e.to, 'client') && !isSide(e.to, 'protocol') : e.to.startsWith('node:') || /^(hono|@hono\/)/.test(e.to)),
    );
    expect(show(bad)).toEqual([]);
  });

  it('server code never imports the SDK or the page', () => {
    const bad = localEdges.filter((e) => serverFile(e.from) && (isSide(e.to, 'client') || isSide(e.to, 'web')));
    expect(show(bad)).toEqual([]);
  });

  it('no server import runs up a layer (protocol < db < adapters < config/deps < http < features < app < entries)', () => {
    const bad = localEdges.filter((e) => serverFile(e.from) && !isSide(e.to, 'protocol') && layerOf(e.to) > layerOf(e.from));
    expect(show(bad)).toEqual([]);
  });

  it('http/ imports no feature', () => {
    const bad = localEdges.filter((e) => e.from.startsWith('http/') && e.to.startsWith('features/'));
    expect(show(bad)).toEqual([]);
  });

  it("a feature's repo.ts is imported only from its own feature: other features go through its service", () => {
    const bad = localEdges.filter((e) => /^features\/[^/]+\/repo\.ts$/.test(e.to) && featureOf(e.from) !== featureOf(e.to));
    expect(show(bad)).toEqual([]);
  });

  it('features form no cycle of imports', () => {
    const pairs = localEdges
      .filter((e) => featureOf(e.from) && featureOf(e.to) && featureOf(e.from) !== featureOf(e.to))
      .map((e): [string, string] => [featureOf(e.from)!, featureOf(e.to)!]);
    expect(cycles(graphOf(pairs))).toEqual([]);
  });

  it('no folder of src/ and no file forms an import cycle', () => {
    // Files at the root of src/ sit in different layers, and a barrel (index.ts) re-exports its
    // subfolders by design, so each of those is a node of its own.
    const folderOf = (path: string) => {
      if (path.startsWith('features/')) return path.split('/').slice(0, 2).join('/');
      return !path.includes('/') || path.endsWith('/index.ts') ? path : dirname(path);
    };
    const folderPairs = localEdges.map((e): [string, string] => [folderOf(e.from), folderOf(e.to)]);
    expect(cycles(graphOf(folderPairs))).toEqual([]);
    expect(cycles(graphOf(localEdges.map((e): [string, string] => [e.from, e.to])))).toEqual([]);
  });
});

describe('architecture: each table has one owner', () => {
  // Table names as SQL sees them, from the schema itself.
  const schemaText = readFileSync(join(SRC, 'db/schema.ts'), 'utf8');
  const tables = [...schemaText.matchAll(/export const (\w+) = sqliteTable\(\s*'(\w+)'/g)].map((m) => ({ name: m[1]!, sql: m[2]! }));
  // write_guards is the atomic() guard table (src/db/client.ts), not a feature's data.
  const featureTables = tables.filter((t) => t.sql !== 'write_guards');

  it('reads the schema (the rule below is not vacuous)', () => {
    expect(featureTables.length).toBeGreaterThan(10);
  });

  it('every table is named by exactly one feature repo, in drizzle or in raw SQL, and by no other file', () => {
    const owners = featureTables.map((table) => {
      const drizzleName = new RegExp(`import\\s*\\{[^}]*\\b${table.name}\\b[^}]*\\}\\s*from\\s*['"][./]*db/schema\\.js['"]`);
      const sqlName = new RegExp(`\\b(FROM|JOIN|INTO|UPDATE)\\s+${table.sql}\\b`, 'i');
      const users = files
        .map((file) => relative(SRC, file))
        .filter((path) => !path.startsWith('db/'))
        .filter((path) => {
          const text = readFileSync(join(SRC, path), 'utf8');
          return drizzleName.test(text) || sqlName.test(text);
        });
      return { table: table.sql, users };
    });
    const bad = owners.filter(({ users }) => users.length !== 1 || !/^features\/[^/]+\/repo\.ts$/.test(users[0]!));
    expect(bad).toEqual([]);
  });
});
