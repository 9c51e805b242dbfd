import fc from 'fast-check';

// Hostile values for the fuzzer, as raw JSON text (and bytes), so that they can be what
// JSON.stringify never writes: duplicated and `__proto__` keys, -0, 1e309, invalid UTF-8,
// nesting ten thousand deep. Each prints as a short label, so a counterexample stays readable.

export type Chunk = string | Uint8Array;

/** A fragment of a request body, exactly as sent. */
export class Raw {
  constructor(
    readonly chunks: Chunk[],
    readonly label: string,
  ) {}
  [fc.toStringMethod]() {
    return `Raw(${this.label.length > 120 ? `${this.label.slice(0, 120)}…` : this.label})`;
  }
}

export const rawText = (text: string, label = text) => new Raw([text], label);

/** A body tree whose objects are entry lists, so that keys can repeat or be `__proto__`. */
export type Node = Raw | { entries: [string, Node][] } | Node[] | string | number | boolean | null;

export function chunksOf(node: Node): Chunk[] {
  if (node instanceof Raw) return node.chunks;
  if (Array.isArray(node)) return ['[', ...node.flatMap((item, i) => (i ? [',', ...chunksOf(item)] : chunksOf(item))), ']'];
  if (node !== null && typeof node === 'object') {
    return ['{', ...node.entries.flatMap(([key, value], i) => [i ? ',' : '', JSON.stringify(key), ':', ...chunksOf(value)]), '}'];
  }
  return [JSON.stringify(node)];
}

export function bytesOf(chunks: Chunk[]): Uint8Array {
  const parts = chunks.map((chunk) => (typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk));
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Turns a plain JSON value into a Node. */
export function nodeOf(value: unknown): Node {
  if (Array.isArray(value)) return value.map(nodeOf);
  if (value !== null && typeof value === 'object') return { entries: Object.entries(value).map(([k, v]) => [k, nodeOf(v)]) };
  return value as Node;
}

// ---- strings ------------------------------------------------------------------------------

const ODD_UNICODE = [
  '\uD800', // lone high surrogate
  '\uDFFF', // lone low surrogate
  '\uDC00\uD800', // surrogates the wrong way round
  '\u0000',
  '\u202E', // right-to-left override
  '\u2066\u2069', // bidi isolates
  '\u200F', // right-to-left mark
  '\u200B', // zero-width space
  '\uFEFF', // BOM
  '\u2028\u2029', // line and paragraph separators
  'e\u0301\u0301\u0301\u0301', // stacked combining marks
  '\u{1F469}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}', // ZWJ emoji family
  '\u{1F4A9}',
  '\uFFFD',
  '\uFFFF', // a noncharacter
  '\u{10FFFF}',
  '\r\n',
  '\t',
  '\u001B[31m', // terminal escape
];

const AWKWARD_ASCII = ['', ' ', '%', '%00', '../../etc/passwd', "' OR 1=1 --", '<script>alert(1)</script>', '${7*7}', '\\', '"', 'null', '__proto__', 'A'.repeat(23), 'A'.repeat(21), '-', '0'];

/**
 * Strings a field should refuse (or hold safely): odd Unicode, awkward ASCII, random text, and,
 * most often, the valid value with something odd spliced in, since only a string that nearly
 * passes gets past the first check to the code behind it.
 */
export const hostileString = (nearValid: string): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...ODD_UNICODE, ...AWKWARD_ASCII), weight: 2 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 1 },
    { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 1 },
    {
      arbitrary: fc
        .tuple(fc.nat({ max: nearValid.length }), fc.constantFrom(...ODD_UNICODE))
        .map(([at, odd]) => nearValid.slice(0, at) + odd + nearValid.slice(at)),
      weight: 4,
    },
    { arbitrary: fc.constantFrom(10_000, 100_000).map((n) => 'A'.repeat(n)), weight: 1 },
  );

const jsonString = (s: string) => rawText(JSON.stringify(s), `string ${JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}… (${s.length})` : s)}`);

// ---- JSON fragments -----------------------------------------------------------------------

const WRONG_TYPES = ['null', 'true', 'false', '0', '""', '[]', '{}', '"x"', '[1,"a",null]', '{"a":{}}', '[{}]'];

// Numbers where integers are expected: negative, fractional, -0, beyond 2^53, beyond double
// (1e309 parses to Infinity), subnormal, exponent forms. Then the ones JSON itself forbids.
const ODD_NUMBERS = ['-0', '-1', '1.5', '0.1', '-0.0', '1e308', '1e309', '-1e309', '9007199254740993', '18446744073709551616', '1e21', '4294967296', '-2147483649', '5e-324', '1E2', '1e-7', '0e0', '1.0000000000000002'];
const NOT_JSON_NUMBERS = ['NaN', 'Infinity', '-Infinity', '01', '+1', '.5', '1.', '0x10', '1_000'];

const deepArray = (depth: number) => rawText('['.repeat(depth) + ']'.repeat(depth), `array nested ${depth} deep`);
const deepObject = (depth: number) => rawText('{"a":'.repeat(depth) + '1' + '}'.repeat(depth), `object nested ${depth} deep`);
const hugeArray = (length: number) => rawText(`[${'0,'.repeat(length - 1)}0]`, `array of ${length} zeros`);

const PROTOTYPE_POLLUTION = [
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"__proto__":null}',
  '[{"__proto__":{"polluted":"yes"}}]',
];

// Bytes that are not UTF-8: a stray continuation byte, an overlong '/', an encoded surrogate,
// a code point past U+10FFFF, a truncated sequence, bytes UTF-8 never uses.
export const INVALID_UTF8: Uint8Array[] = [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xfe, 0xff], [0xff]].map(
  (bytes) => new Uint8Array(bytes),
);
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
export const invalidUtf8 = fc.constantFrom(...INVALID_UTF8);
const invalidUtf8String = invalidUtf8.map((bytes) => new Raw(['"A', bytes, 'A"'], `string with bytes ${hex(bytes)}`));

const hostileNumber: fc.Arbitrary<Raw> = fc.oneof(
  fc.constantFrom(...ODD_NUMBERS, ...NOT_JSON_NUMBERS).map((text) => rawText(text)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => rawText(JSON.stringify(n))),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => rawText(String(n))),
);

/**
 * A hostile stand-in for a JSON value whose valid form is `valid`. Values of the valid one's own
 * type come up most, as they get furthest; the rest are wrong types, pollution, bytes that are
 * not UTF-8, nesting, and arrays too long for anything.
 */
export const hostileJson = (valid: unknown): fc.Arbitrary<Raw> => {
  const sameType = typeof valid === 'string' ? hostileString(valid).map(jsonString) : typeof valid === 'number' ? hostileNumber : undefined;
  return fc.oneof(
    ...(sameType ? [{ arbitrary: sameType, weight: 6 }] : []),
    { arbitrary: fc.constantFrom(...WRONG_TYPES, ...PROTOTYPE_POLLUTION).map((text) => rawText(text)), weight: 2 },
    { arbitrary: hostileString(JSON.stringify(valid) ?? '').map(jsonString), weight: 1 },
    { arbitrary: hostileNumber, weight: 1 },
    { arbitrary: invalidUtf8String, weight: 1 },
    { arbitrary: fc.constantFrom(100, 10_000, 100_000).map(deepArray), weight: 1 },
    { arbitrary: fc.constantFrom(100, 10_000).map(deepObject), weight: 1 },
    { arbitrary: fc.constantFrom(1_000, 100_000).map(hugeArray), weight: 1 },
    {
      // The valid value, many times over: too many items for any maxItems.
      arbitrary: fc.constantFrom(501, 5_000).map((n) => rawText(`[${Array(n).fill(JSON.stringify(valid) ?? 'null').join(',')}]`, `${n} copies of the valid value`)),
      weight: 1,
    },
  );
};

/** Keys an attacker adds to an object. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', '\u0000', '\uD800', 'a'.repeat(10_000)),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

// ---- whole bodies -------------------------------------------------------------------------

/** Whole request bodies that are not the one asked for, given the valid body and its text. */
export const hostileBody = (valid: unknown, validText: string): fc.Arbitrary<Raw> =>
  fc.oneof(
    hostileJson(valid),
    fc.constantFrom(
      rawText('', 'empty body'),
      rawText(' \n\t', 'whitespace only'),
      rawText(`\uFEFF${validText}`, 'valid body after a BOM'),
      rawText(`${validText}x`, 'valid body then garbage'),
      rawText(`${validText}${validText}`, 'valid body twice'),
      rawText(`/* comment */${validText}`, 'valid body after a comment'),
      rawText(validText.replace(/"/g, "'"), 'single-quoted'),
      rawText(`{${'"k":0,'.repeat(50_000)}"k":1}`, '50000 duplicated keys'),
      new Raw([new Uint8Array(Buffer.from(validText, 'utf16le'))], 'valid body in UTF-16LE'),
      rawText('\u0000'.repeat(64), 'NUL bytes'),
      rawText('A'.repeat(1_100_000), 'larger than MAX_BODY_BYTES'),
    ),
    fc.nat({ max: Math.max(0, validText.length - 1) }).map((at) => rawText(validText.slice(0, at), `valid body cut at ${at}`)),
    fc.tuple(fc.nat({ max: validText.length }), invalidUtf8).map(
      ([at, bytes]) => new Raw([validText.slice(0, at), bytes, validText.slice(at)], `valid body with bytes ${hex(bytes)} at ${at}`),
    ),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => new Raw([bytes], `random bytes ${hex(bytes).slice(0, 90)}`)),
  );

// ---- URLs and headers ---------------------------------------------------------------------

/** Percent-encodes every UTF-16 code unit, lone surrogates too (as their three WTF-8 bytes). */
export function percentEncode(value: string): string {
  let out = '';
  for (const char of value) {
    const unit = char.codePointAt(0)!;
    if (unit >= 0xd800 && unit <= 0xdfff) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 63), 0x80 | (unit & 63)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else out += encodeURIComponent(char);
  }
  return out;
}

/** Already-encoded URL text that no encoder would write: malformed escapes, encoded slashes and NULs, invalid UTF-8. */
const RAW_URL_TEXT = ['%', '%zz', '%2', '%00', '%2F', '%2f..%2f', '..', '.', '%2e%2e', ';', 'a%20b', '%E0%80%AF', '%ED%A0%80', '%FF', '%C0%AE', '+', '%2B', '#', '?'];

/** An URL-ready (encoded) hostile value for a path or query parameter whose valid form is `valid`. */
export const hostileUrlValue = (valid: string): fc.Arbitrary<Raw> =>
  fc
    .oneof(
      fc.constantFrom(...RAW_URL_TEXT, ...RAW_URL_TEXT.map((text) => valid + text)),
      fc.constantFrom(...ODD_NUMBERS, ...NOT_JSON_NUMBERS, '0', '1e3', '10001', ' 1', '1 ', '\u0661', 'true', '[]', '0b1').map(percentEncode),
      hostileString(valid).map(percentEncode),
    )
    .map((text) => rawText(text));

/** Header values (printable Latin-1 only: fetch refuses anything else before it is sent). */
export const hostileHeaderValue = (valid: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom('', ' ', '-1', '0', '1.5', '1e3', 'NaN', '99999999999999999999', `${valid},${valid}`, valid.toUpperCase(), `${valid} `, `${valid}\u00ff`, 'A'.repeat(8_000)),
    fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 80 }),
  );
