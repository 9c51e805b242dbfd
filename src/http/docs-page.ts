import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from '../protocol/encoding.js';

// A readable API reference rendered on the server from the OpenAPI document: no script, no
// third-party assets, so it works under the same strict CSP as everything else.

type Json = Record<string, unknown>;

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ccc;margin-top:2.5rem}
.op{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;margin:1rem 0}
.m{display:inline-block;min-width:4.5rem;font-weight:700;font-family:monospace}
.get{color:#0a6}.post{color:#05a}.patch{color:#a60}.delete{color:#c22}.put{color:#a0a}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f6f6f6;padding:.6rem;overflow:auto}
table{border-collapse:collapse}td,th{padding:.15rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}`;

export const DOCS_CSP = `default-src 'none'; style-src 'sha256-${btoa(String.fromCharCode(...sha256(utf8(STYLE))))}'; frame-ancestors 'none'`;

const escape = (text: unknown) =>
  String(text ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function resolve(doc: Json, schema: Json | undefined): Json | undefined {
  const ref = schema?.$ref;
  if (typeof ref !== 'string') return schema;
  const name = ref.split('/').pop()!;
  return ((doc.components as Json)?.schemas as Json)?.[name] as Json;
}

function fieldsTable(doc: Json, schema: Json | undefined): string {
  const resolved = resolve(doc, schema);
  const props = resolved?.properties as Record<string, Json> | undefined;
  if (!props) return '';
  const required = new Set((resolved?.required as string[]) ?? []);
  const rows = Object.entries(props).map(([name, raw]) => {
    const prop = resolve(doc, raw) ?? {};
    const type = prop.type ?? (raw.$ref ? String(raw.$ref).split('/').pop() : prop.enum ? 'enum' : '');
    const detail = [prop.description, prop.enum ? `one of ${(prop.enum as string[]).join(', ')}` : ''].filter(Boolean).join('. ');
    return `<tr><td><code>${escape(name)}</code>${required.has(name) ? '' : ' (optional)'}</td><td>${escape(type)}</td><td>${escape(detail)}</td></tr>`;
  });
  return `<table><tr><th>field</th><th>type</th><th>meaning</th></tr>${rows.join('')}</table>`;
}

export function renderDocsPage(doc: Json): string {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
  const byTag = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const tag = ((op.tags as string[]) ?? ['Other'])[0]!;
      const body = ((op.requestBody as Json)?.content as Json)?.['application/json'] as Json | undefined;
      const responses = Object.entries((op.responses ?? {}) as Record<string, Json>)
        .map(([status, r]) => `<li><code>${escape(status)}</code> ${escape(r.description)}</li>`)
        .join('');
      const auth = (op.security as Json[] | undefined)?.map((s) => Object.keys(s)[0]).join(' or ');
      const html = `<div class="op"><div><span class="m ${escape(method)}">${escape(method.toUpperCase())}</span><code>${escape(path)}</code> — ${escape(op.summary)}</div>
${op.description ? `<p>${escape(op.description)}</p>` : ''}${auth ? `<p>Auth: ${escape(auth)}</p>` : ''}
${body ? `<p>Request body (application/json):</p>${fieldsTable(doc, body.schema as Json)}` : ''}<p>Responses:</p><ul>${responses}</ul></div>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const info = doc.info as Json;
  const sections = [...byTag].map(([tag, ops]) => `<h2>${escape(tag)}</h2>${ops.join('\n')}`).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(info.title)} API</title><style>${STYLE}</style></head><body>
<h1>${escape(info.title)} API ${escape(info.version)}</h1><p>${escape(info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors always have the shape <code>{"error":{"code","message","requestId"}}</code>.</p>
${sections}</body></html>`;
}
