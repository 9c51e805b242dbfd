import fc from 'fast-check';
import { CSRF_HEADER, SESSION_COOKIE } from '../../src/protocol/headers.js';
import { TEST_ORIGIN } from '../harness.js';
import type { BaseRequest, Operation } from './hostile-operations.js';
import {
  bytesOf,
  type Chunk,
  chunksOf,
  hostileBody,
  hostileHeaderValue,
  hostileJson,
  hostileKey,
  hostileUrlValue,
  invalidUtf8,
  type Node,
  nodeOf,
  percentEncode,
  Raw,
} from './hostile-values.js';

// The ways one request is spoiled. Each mutation is plain data, so fast-check can shrink a
// failing request to the one mutation that matters and print it.

type Path = (string | number)[];

export type Mutation =
  | { kind: 'replace field'; path: Path; value: Raw }
  | { kind: 'drop field'; path: Path }
  | { kind: 'add field'; path: Path; key: string; value: Raw }
  | { kind: 'repeat field'; path: Path; value: Raw }
  | { kind: 'replace body'; value: Raw }
  | { kind: 'content type'; value: string | undefined }
  | { kind: 'path parameter'; name: string; value: Raw }
  | { kind: 'query parameter'; name: string; values: Raw[] }
  | { kind: 'header'; name: string; value: string | undefined }
  | { kind: 'credential'; headers: Record<string, string> };

const CONTENT_TYPES = [
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/json-patch+json',
  'application/json, text/plain',
  'application/jsonx',
  ';;;',
];

/** Where a JSON body has values (every key and index), and which of those are objects. */
function pathsOf(value: unknown, path: Path = []): { all: Path[]; objects: Path[]; keys: Path[] } {
  const found = { all: path.length ? [path] : [], objects: [] as Path[], keys: [] as Path[] };
  if (value === null || typeof value !== 'object') return found;
  if (!Array.isArray(value)) {
    found.objects.push(path);
    for (const key of Object.keys(value)) found.keys.push([...path, key]);
  }
  for (const [key, child] of Object.entries(value)) {
    const inner = pathsOf(child, [...path, Array.isArray(value) ? Number(key) : key]);
    found.all.push(...inner.all);
    found.objects.push(...inner.objects);
    found.keys.push(...inner.keys);
  }
  return found;
}

const valueAt = (value: any, path: Path) => path.reduce((node, key) => node?.[key], value);

function jsonMutations(body: Record<string, unknown>): fc.Arbitrary<Mutation>[] {
  const { all, objects, keys } = pathsOf(body);
  const arbitraries: fc.Arbitrary<Mutation>[] = [
    fc.constantFrom(...objects).chain((path) =>
      fc.record({ kind: fc.constant('add field' as const), path: fc.constant(path), key: hostileKey, value: hostileJson(null) }),
    ),
  ];
  if (all.length) {
    arbitraries.push(
      fc.constantFrom(...all).chain((path) =>
        fc.record({ kind: fc.constant('replace field' as const), path: fc.constant(path), value: hostileJson(valueAt(body, path)) }),
      ),
    );
  }
  if (keys.length) {
    arbitraries.push(
      fc.constantFrom(...keys).map((path) => ({ kind: 'drop field' as const, path })),
      fc.constantFrom(...keys).chain((path) =>
        fc.record({ kind: fc.constant('repeat field' as const), path: fc.constant(path), value: hostileJson(valueAt(body, path)) }),
      ),
    );
  }
  return arbitraries;
}

function formMutations(body: Record<string, string>): fc.Arbitrary<Mutation>[] {
  const keys = Object.keys(body).map((key) => [key]);
  const formValue = (valid: string) =>
    fc.oneof(
      hostileUrlValue(valid),
      invalidUtf8.map((bytes) => new Raw([bytes], `bytes ${[...bytes].join(' ')}`)),
    );
  return [
    fc.constantFrom(...keys).chain((path) => fc.record({ kind: fc.constant('replace field' as const), path: fc.constant(path), value: formValue(body[path[0]!]!) })),
    fc.constantFrom(...keys).map((path) => ({ kind: 'drop field' as const, path })),
    fc.constantFrom(...keys).chain((path) => fc.record({ kind: fc.constant('repeat field' as const), path: fc.constant(path), value: formValue('') })),
    fc.record({ kind: fc.constant('add field' as const), path: fc.constant([]), key: hostileKey, value: formValue('') }),
  ];
}

const credentialMutations = (base: BaseRequest): fc.Arbitrary<Mutation> => {
  const token = base.headers.Authorization?.slice('Bearer '.length) ?? 'hs_x';
  return fc
    .oneof(
      fc.constantFrom<Record<string, string>>(
        {},
        { Authorization: 'Bearer' },
        { Authorization: 'Bearer ' },
        { Authorization: `Bearer ${token}x` },
        { Authorization: `Bearer ${token.slice(0, -1)}` },
        { Authorization: `Bearer ${token} ${token}` },
        { Authorization: `Basic ${Buffer.from(`a:${token}`).toString('base64')}` },
        { Authorization: token },
        { Authorization: `Bearer hd_${token.slice(3)}` },
        { Authorization: `Bearer hs_${token.slice(3)}` },
        { Cookie: `${SESSION_COOKIE}=${token}` },
        { Cookie: `${SESSION_COOKIE}=${token}`, [CSRF_HEADER]: 'x' },
        { Cookie: `${SESSION_COOKIE}=${token}; ${SESSION_COOKIE}=${token}x` },
      ),
      hostileHeaderValue(token).map((value) => ({ Authorization: `Bearer ${value}` })),
      hostileHeaderValue(token).map((value) => ({ Cookie: `${SESSION_COOKIE}=${value}` })),
    )
    .map((headers) => ({ kind: 'credential' as const, headers }));
};

/** Every mutation that applies to this operation, given one of its valid requests. */
export function mutationsFor(operation: Operation, base: BaseRequest): fc.Arbitrary<Mutation[]> {
  const arbitraries: fc.Arbitrary<Mutation>[] = [];
  const hasBody = !['GET', 'HEAD'].includes(operation.method);
  if (hasBody) {
    const valid = base.body instanceof Uint8Array ? '' : (base.body ?? {});
    arbitraries.push(
      hostileBody(valid, serializedText(operation, base)).map((value) => ({ kind: 'replace body' as const, value })),
      fc.constantFrom(...CONTENT_TYPES).map((value) => ({ kind: 'content type' as const, value })),
    );
  }
  if (operation.bodyType === 'application/json') arbitraries.push(...jsonMutations(base.body as Record<string, unknown>));
  if (operation.bodyType === 'application/x-www-form-urlencoded') arbitraries.push(...formMutations(base.body as Record<string, string>));
  for (const [name, valid] of Object.entries(base.pathValues)) {
    arbitraries.push(hostileUrlValue(valid).map((value) => ({ kind: 'path parameter' as const, name, value })));
  }
  for (const parameter of operation.parameters.filter((p) => p.in === 'query')) {
    const value = hostileUrlValue(base.query[parameter.name] ?? '').filter((v) => !isLongPollWait(parameter.name, v));
    arbitraries.push(fc.array(value, { minLength: 1, maxLength: 3 }).map((values) => ({ kind: 'query parameter' as const, name: parameter.name, values })));
  }
  // Parameters nobody declared, named to tempt a parser into building objects.
  arbitraries.push(
    fc.record({
      kind: fc.constant('query parameter' as const),
      name: fc.constantFrom('__proto__', 'constructor[prototype][polluted]', '__proto__[polluted]', 'a[]', '', '%'),
      values: fc.array(hostileUrlValue('x'), { minLength: 1, maxLength: 2 }),
    }),
  );
  for (const name of Object.keys(base.headers).filter((h) => !['Authorization', 'Content-Type'].includes(h))) {
    arbitraries.push(fc.option(hostileHeaderValue(base.headers[name]!), { nil: undefined }).map((value) => ({ kind: 'header' as const, name, value })));
  }
  if (operation.credential !== 'none') arbitraries.push(credentialMutations(base));
  return fc.array(fc.oneof(...arbitraries), { minLength: 1, maxLength: 2 });
}

// GET /v1/device/commands?wait=N really waits N seconds when nothing is queued: a hostile value
// that coerces to a valid wait (" 5", "0x5", "5e0") would stall the run, not find a bug.
const isLongPollWait = (name: string, value: Raw) => {
  if (name !== 'wait') return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(value.chunks.join(''));
  } catch {
    return false;
  }
  const seconds = Number(decoded);
  return Number.isFinite(seconds) && seconds > 0;
};

type Tree = Node | Uint8Array | undefined;

const treeOf = (body: BaseRequest['body']): Tree => (body instanceof Uint8Array || body === undefined ? body : nodeOf(body));

const serializedText = (operation: Operation, base: BaseRequest) => new TextDecoder().decode(bytesOf(bodyChunks(operation, treeOf(base.body))));

function bodyChunks(operation: Operation, tree: Tree): Chunk[] {
  if (tree === undefined) return [];
  if (tree instanceof Uint8Array) return [tree];
  if (operation.bodyType !== 'application/x-www-form-urlencoded') return chunksOf(tree);
  return (tree as Entries).entries.flatMap(([key, value], i) => [
    i ? '&' : '',
    percentEncode(key),
    '=',
    ...(value instanceof Raw ? value.chunks : [percentEncode(String(value))]),
  ]);
}

type Entries = { entries: [string, Node][] };

/** The node at `path`, or undefined once an earlier mutation took it away. */
function nodeAt(root: Node, path: Path): Node | undefined {
  let node: Node | undefined = root;
  for (const key of path) {
    if (Array.isArray(node)) node = node[key as number];
    else if (node !== null && typeof node === 'object' && !(node instanceof Raw)) node = node.entries.find(([k]) => k === key)?.[1];
    else return undefined;
  }
  return node;
}

const isEntries = (node: Node | undefined): node is Entries => node !== null && typeof node === 'object' && !(node instanceof Raw) && !Array.isArray(node);

function applyToTree(root: Node, mutation: Mutation & { path: Path }): void {
  if (mutation.kind === 'add field') {
    const holder = nodeAt(root, mutation.path);
    if (isEntries(holder)) holder.entries.push([mutation.key, mutation.value]);
    return;
  }
  const parent = nodeAt(root, mutation.path.slice(0, -1));
  const last = mutation.path.at(-1)!;
  if (Array.isArray(parent) && typeof last === 'number' && last < parent.length) {
    if (mutation.kind === 'replace field') parent[last] = mutation.value;
    if (mutation.kind === 'drop field') parent.splice(last, 1);
  }
  if (!isEntries(parent)) return;
  const at = parent.entries.findIndex(([k]) => k === last);
  if (at < 0) return;
  if (mutation.kind === 'replace field') parent.entries[at] = [String(last), mutation.value];
  if (mutation.kind === 'drop field') parent.entries.splice(at, 1);
  if (mutation.kind === 'repeat field') parent.entries.push([String(last), mutation.value]);
}

export interface HostileRequest {
  url: string;
  init: { method: string; headers: Record<string, string>; body?: Uint8Array<ArrayBuffer> };
}

/** The request a base and its mutations make, ready for app.request. */
export function buildRequest(operation: Operation, base: BaseRequest, mutations: Mutation[], address: string): HostileRequest {
  const pathValues = { ...base.pathValues };
  const query = Object.entries(base.query).map(([name, value]) => [percentEncode(name), percentEncode(value)]);
  let headers: Record<string, string> = { ...base.headers };
  const tree = treeOf(base.body);
  let replacedBody: Raw | undefined;
  for (const mutation of mutations) {
    switch (mutation.kind) {
      case 'replace body':
        replacedBody = mutation.value;
        break;
      case 'content type':
        if (mutation.value === undefined) delete headers['Content-Type'];
        else headers['Content-Type'] = mutation.value;
        break;
      case 'path parameter':
        pathValues[mutation.name] = mutation.value.chunks.join('');
        break;
      case 'query parameter': {
        const name = percentEncode(mutation.name);
        const kept = query.filter(([n]) => n !== name);
        query.length = 0;
        query.push(...kept, ...mutation.values.map((value) => [name, value.chunks.join('')]));
        break;
      }
      case 'header':
        if (mutation.value === undefined) delete headers[mutation.name];
        else headers[mutation.name] = mutation.value;
        break;
      case 'credential': {
        const { Authorization: _dropped, ...rest } = headers;
        headers = { ...rest, ...mutation.headers };
        break;
      }
      default:
        if (tree !== undefined && !(tree instanceof Uint8Array)) applyToTree(tree, mutation);
    }
  }
  const path = operation.template.replace(/\{([^}]+)\}/g, (_, name: string) => pathValues[name]!);
  const search = query.length ? `?${query.map(([n, v]) => `${n}=${v}`).join('&')}` : '';
  const chunks = replacedBody ? replacedBody.chunks : bodyChunks(operation, tree);
  const hasBody = !['GET', 'HEAD'].includes(operation.method) && (replacedBody !== undefined || tree !== undefined);
  return {
    url: `${TEST_ORIGIN}${path}${search}`,
    init: {
      method: operation.method,
      headers: { ...headers, 'X-Forwarded-For': address },
      ...(hasBody ? { body: bytesOf(chunks) as Uint8Array<ArrayBuffer> } : {}),
    },
  };
}
