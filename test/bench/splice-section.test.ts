import { describe, expect, it } from 'vitest';
import { spliceSection } from './report.js';

// `npm run bench -- --only <name>` rewrites one section of BENCHMARKS.md in place and leaves the
// others as they were; a section measured for the first time takes its place by number.

const doc = ['# Benchmarks', '', '## 1. One', 'old one', '', '## 3. Three', 'three', ''].join('\n');

describe('spliceSection', () => {
  it('replaces a section that is there, and only it', () => {
    const out = spliceSection(doc, '\n## 1. One\nnew one\n');
    expect(out).toContain('## 1. One\nnew one\n');
    expect(out).not.toContain('old one');
    expect(out).toContain('## 3. Three\nthree');
  });

  it('puts a new section before the first one numbered after it, or last', () => {
    const two = spliceSection(doc, '\n## 2. Two\ntwo\n');
    expect(two.indexOf('## 1.')).toBeLessThan(two.indexOf('## 2.'));
    expect(two.indexOf('## 2.')).toBeLessThan(two.indexOf('## 3.'));
    const twelve = spliceSection(two, '\n## 12. Twelve\ntwelve\n');
    expect(twelve.trimEnd().endsWith('## 12. Twelve\ntwelve')).toBe(true);
    // "## 1." must not be taken for the start of "## 12.".
    expect(spliceSection(twelve, '\n## 1. One\nagain\n')).toContain('## 12. Twelve\ntwelve');
  });
});
