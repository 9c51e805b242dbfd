import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { joinOptionValues } from '../../src/client/cli/args.js';

// The CLI's option values may start with "-" (negative coordinates, and one base64url id in 64),
// which node:util parseArgs alone refuses as ambiguous.

const OPTIONS = {
  id: { type: 'string' },
  lat: { type: 'string' },
  email: { type: 'string' },
  server: { type: 'string' },
  keep: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const parse = (argv: string[]) => parseArgs({ args: joinOptionValues(argv, OPTIONS), options: OPTIONS, allowPositionals: true });

describe('joinOptionValues', () => {
  it('an id or a number that starts with "-" is the value of the option before it', () => {
    for (const id of ['-Qx3kYt0aB8nZ_Jw2vLq9A', '--7kYt0aB8nZ_Jw2vLq9A']) {
      expect(() => parseArgs({ args: ['spam', '--id', id], options: OPTIONS, allowPositionals: true })).toThrow(/ambiguous|Unknown option/);
      expect(parse(['spam', 'withdraw', '--id', id]).values.id).toBe(id);
    }
    expect(parse(['locate', '--lat', '-33.9', '--keep']).values).toEqual({ lat: '-33.9', keep: true });
  });

  it('a known option after one that takes a value is still an option, and "--" still ends them', () => {
    expect(() => parse(['login', '--email', '--server', 'http://x'])).toThrow(/ambiguous/);
    expect(() => parse(['login', '--email', '-h'])).toThrow(/ambiguous/);
    expect(joinOptionValues(['x', '--', '--id', '-a'], OPTIONS)).toEqual(['x', '--', '--id', '-a']);
    // A switch takes no value: what follows it is left alone.
    expect(() => parse(['x', '--keep', '-Qx'])).toThrow(/Unknown option/);
  });
});
