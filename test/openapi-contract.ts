import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { onTestFinished } from 'vitest';
import { isWebPagePath } from '../src/features/web-page/routes.js';
import { isDocsPath } from '../src/http/docs-page.js';

// Holds the app to its own /openapi.json: every response a test sees must have a status its
// operation documents, an error code that status lists, and a JSON body that matches the
// documented schema. So the document never promises less than a route answers. A route that
// answers 500 internal_error is reported too: the document allows it, a passing test must not.

type Json = Record<string, any>;

export interface SeenResponse {
  method: string;
  /** The concrete path, e.g. /v1/devices/q3XbUoXQk0Rk2xXm3oQy1A. */
  path: string;
  status: number;
  /** The Content-Type without parameters; undefined when there is none. */
  mediaType?: string;
  /** The parsed body of a JSON response. */
  body?: unknown;
}

export type ContractCheck = (seen: SeenResponse) => string[];

const DOCUMENT_ID = 'homing:openapi.json';
/** The routes that serve the document itself and the reference drawn from it: the only API paths it need not describe. */
export const isSelfDescribing = (path: string) => path === '/openapi.json' || isDocsPath(path);
const NOT_JSON = Symbol('not JSON');

const pointer = (...segments: string[]) =>
  `#${segments.map((segment) => `/${encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'))}`).join('')}`;

const errorCodeOf = (body: unknown) => {
  const code = (body as Json | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
};

export function createContractCheck(document: Json): ContractCheck {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(document, DOCUMENT_ID);
  const validators = new Map<string, ValidateFunction>();
  const validatorAt = (ref: string) => {
    if (!validators.has(ref)) validators.set(ref, ajv.getSchema(`${DOCUMENT_ID}${ref}`)!);
    return validators.get(ref)!;
  };
  const resolve = (schema: Json | undefined): Json | undefined => {
    const ref = schema?.$ref;
    if (typeof ref !== 'string') return schema;
    return resolve(ref.slice(2).split('/').reduce<Json | undefined>((node, key) => node?.[decodeURIComponent(key).replace(/~1/g, '/').replace(/~0/g, '~')], document));
  };
  const codesOf = (schema: Json | undefined): string[] | undefined =>
    resolve(resolve(resolve(schema)?.properties?.error)?.properties?.code)?.enum;

  // Literal paths first, so /v1/blobs/presign is not taken for /v1/blobs/{blobId}.
  const templates = Object.entries(document.paths as Record<string, Json>)
    .map(([template, item]) => ({
      template,
      item,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}/]+\}/g, '[^/]+')}$`),
      parameters: template.split('{').length - 1,
    }))
    .sort((a, b) => a.parameters - b.parameters);

  /** A body's problems against the schema at `ref`: a code its status does not list, or a mismatch. */
  const bodyProblems = (ref: string, body: unknown, what: string): string[] => {
    const code = errorCodeOf(body);
    const codes = codesOf(resolve({ $ref: ref }));
    if (code !== undefined && codes && !codes.includes(code)) {
      return [`${what}: code ${code} is not one of the codes documented for this status (${codes.join(', ')})`];
    }
    const validate = validatorAt(ref);
    if (validate(body)) return [];
    const errors = (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '(body)'} ${e.message}`);
    return [`${what}: the body does not match the documented schema: ${errors.join('; ')}`];
  };

  return (seen) => {
    if (isSelfDescribing(seen.path) || isWebPagePath(seen.path)) return [];
    const method = seen.method.toLowerCase() === 'head' ? 'get' : seen.method.toLowerCase();
    const code = errorCodeOf(seen.body);
    const what = `${seen.method.toUpperCase()} ${seen.path} answered ${seen.status}${code ? ` ${code}` : ''}`;
    if (seen.body === NOT_JSON) return [`${what}: the body is labelled application/json but does not parse`];

    const match = templates.find((t) => t.item[method] && t.pattern.test(seen.path));
    if (!match) {
      // No operation: an unknown route, or a guard answering before any route matched. Only the
      // one error shape, with a code of the answered status, is expected here.
      if (seen.status < 400 || seen.method.toUpperCase() === 'HEAD') return [];
      const component = `Error${seen.status}`;
      if (!document.components?.schemas?.[component]) return [`${what}: the document has no ${component} schema`];
      return seen.mediaType === 'application/json'
        ? bodyProblems(pointer('components', 'schemas', component), seen.body, what)
        : [`${what}: an error must be answered as application/json, not ${seen.mediaType ?? 'no body'}`];
    }

    const operation = `${method.toUpperCase()} ${match.template}`;
    const responses = match.item[method].responses as Record<string, Json>;
    const documented = responses[String(seen.status)];
    if (!documented) {
      return [`${what}, a status ${operation} does not document (it documents ${Object.keys(responses).join(', ')})`];
    }
    if (seen.status === 500) {
      // Documented, since anything can fail; but a real route failing under test is a bug.
      return [`${what}: an unexpected error in ${operation}, logged under requestId ${(seen.body as Json)?.error?.requestId}`];
    }
    const content = (documented.content ?? {}) as Record<string, unknown>;
    if (seen.mediaType === undefined) return [];
    if (!(seen.mediaType in content)) {
      const types = Object.keys(content).join(', ') || 'no body';
      return [`${what} as ${seen.mediaType}, but ${operation} documents ${types} for ${seen.status}`];
    }
    if (seen.mediaType !== 'application/json') return [];
    return bodyProblems(pointer('paths', match.template, method, 'responses', String(seen.status), 'content', 'application/json', 'schema'), seen.body, what);
  };
}

type RequestFunction = (input: any, init?: any, ...rest: any[]) => Response | Promise<Response>;

const checks = new Map<string, ContractCheck>();

async function checkOfApp(request: RequestFunction) {
  const text = await (await request('http://localhost/openapi.json')).text();
  if (!checks.has(text)) checks.set(text, createContractCheck(JSON.parse(text)));
  return checks.get(text)!;
}

async function observe(input: unknown, init: RequestInit | undefined, response: Response): Promise<SeenResponse> {
  const request = input instanceof Request ? input : undefined;
  const url = new URL(request?.url ?? String(input), 'http://localhost');
  const mediaType = response.headers.get('Content-Type')?.split(';')[0]!.trim().toLowerCase() || undefined;
  const method = init?.method ?? request?.method ?? 'GET';
  // A HEAD answer carries the GET answer's headers and no body (RFC 9110): only its status is checked.
  const head = method.toUpperCase() === 'HEAD';
  const body = mediaType === 'application/json' && !head ? await response.clone().json().catch(() => NOT_JSON) : undefined;
  return { method, path: url.pathname, status: response.status, mediaType: head ? undefined : mediaType, body };
}

/** Fails the running test (or, outside a test, the request itself). */
export function failTheTest(problems: string[]) {
  const error = new Error(`OpenAPI contract: ${problems.join('\n')}`);
  try {
    onTestFinished(() => {
      throw error;
    });
  } catch {
    throw error;
  }
}

/**
 * Wraps app.request so each response is checked against the app's own /openapi.json. A
 * violation fails the test that caused it, even if the test goes on to catch the request's error.
 * Outside vitest (the benchmarks) the app is left as it is.
 */
export function withOpenApiContract<A extends { request: RequestFunction }>(app: A, report = failTheTest): A {
  if (!process.env.VITEST) return app;
  const request = app.request;
  let check: Promise<ContractCheck> | undefined;
  app.request = (async (input: unknown, init?: RequestInit, ...rest: unknown[]) => {
    const response = await request(input, init, ...rest);
    const seen = await observe(input, init, response);
    check ??= checkOfApp(request);
    const problems = (await check)(seen);
    if (problems.length) report(problems);
    return response;
  }) as A['request'];
  return app;
}
