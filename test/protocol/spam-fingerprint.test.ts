import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FINGERPRINT_HEX,
  fingerprintDistance,
  fingerprintsMatch,
  MAX_FINGERPRINT_DISTANCE,
  MIN_FINGERPRINT_CHARS,
  normaliseText,
  textFingerprint,
} from '../../src/protocol/spam-fingerprint.js';
import { SPAM_REWORDINGS, UNRELATED_TEXTS } from './spam-texts.js';

// The fingerprint both the server (from reported texts) and the phone (from incoming ones) take:
// its properties, checked over generated texts.

const WORDS = (
  'the a you your we our to of and in on for with at from by this that is are was be have has will can ' +
  'please call text reply now today tomorrow week month year account bank card payment parcel delivery ' +
  'order refund prize winner claim free offer urgent verify password security code number phone mum dad ' +
  'dinner lunch meeting school work train bus late sorry thanks love home soon later weekend friday monday ' +
  'money pound dollar fee tax loan credit debt insurance energy bill council appointment doctor dentist ' +
  'photo video game match ticket concert holiday flight hotel booking car house garden dog cat birthday party'
).split(' ');

const sentence = fc.array(fc.constantFrom(...WORDS), { minLength: 12, maxLength: 28 }).map((words) => {
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1) + '.';
});

const fingerprintOf = (text: string) => {
  const fp = textFingerprint(text);
  if (fp === null) throw new Error(`no fingerprint for ${text}`);
  return fp;
};

describe('happy: the fingerprint of a text', () => {
  it('is 16 hex digits and the same every time (the phone and the server must agree)', () => {
    fc.assert(
      fc.property(sentence, (text) => {
        const fp = fingerprintOf(text);
        expect(fp).toMatch(FINGERPRINT_HEX);
        expect(textFingerprint(text)).toBe(fp);
      }),
    );
  });

  it('pins one known value, so a change to the algorithm (which phones also run) cannot pass unnoticed', () => {
    expect(textFingerprint('Your parcel could not be delivered. Pay the fee at https://x.example/1 today.')).toBe(
      textFingerprint('your PARCEL could not be delivered!! pay the fee at www.other.example today'),
    );
    expect(fingerprintDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(fingerprintDistance('8000000000000001', '0000000000000000')).toBe(2);
  });

  it('distance is symmetric, 0 to itself, and at most 64', () => {
    fc.assert(
      fc.property(sentence, sentence, (a, b) => {
        const [x, y] = [fingerprintOf(a), fingerprintOf(b)];
        expect(fingerprintDistance(x, x)).toBe(0);
        expect(fingerprintDistance(x, y)).toBe(fingerprintDistance(y, x));
        expect(fingerprintDistance(x, y)).toBeLessThanOrEqual(64);
        expect(fingerprintsMatch(x, y)).toBe(fingerprintDistance(x, y) <= MAX_FINGERPRINT_DISTANCE);
      }),
    );
  });

  it('a spammer changing case, amounts, codes or the link gets the same fingerprint', () => {
    const upperOrLower = (text: string, flips: boolean[]) => Array.from(text, (c, i) => (flips[i % flips.length] ? c.toUpperCase() : c.toLowerCase())).join('');
    fc.assert(
      fc.property(
        sentence,
        fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
        fc.nat(99_999),
        fc.nat(99_999),
        fc.webUrl(),
        fc.webUrl(),
        (text, flips, amountA, amountB, linkA, linkB) => {
          const a = `${text} Pay £${amountA}.99 at ${linkA} with code ${amountB}`;
          const b = `${upperOrLower(text, flips)} Pay £${amountB}.${amountA % 100} at ${linkB} with code ${amountA}`;
          expect(textFingerprint(b)).toBe(textFingerprint(a));
        },
      ),
    );
  });

  it('rewordings of one spam text match each other', () => {
    const fps = SPAM_REWORDINGS.map(fingerprintOf);
    for (const a of fps) for (const b of fps) expect(fingerprintDistance(a, b)).toBeLessThanOrEqual(MAX_FINGERPRINT_DISTANCE);
  });
});

describe('errors: what gets no fingerprint', () => {
  it('short texts, and texts that are short once punctuation, links and spacing are gone, get null', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: MIN_FINGERPRINT_CHARS - 1 }), (text) => {
        expect(textFingerprint(text)).toBeNull();
      }),
    );
    expect(textFingerprint('ok see you then!')).toBeNull();
    expect(textFingerprint('https://a-very-long-link.example/with/a/path?and=query   !!!!  ...  ')).toBeNull();
    expect(normaliseText('  Hi!!   THERE  ')).toBe('hi there');
  });
});

describe('security: unrelated texts are not blocked together', () => {
  it('fewer than 1% of 200 random pairs of realistic generated texts match', () => {
    const pairs = fc.sample(fc.tuple(sentence, sentence), { numRuns: 200, seed: 14 });
    const matched = pairs.filter(([a, b]) => a !== b && fingerprintsMatch(fingerprintOf(a), fingerprintOf(b)));
    expect(matched.length).toBeLessThan(2);
  });

  it('hand-written unrelated messages are far apart from the spam and from each other', () => {
    const spam = fingerprintOf(SPAM_REWORDINGS[0]!);
    const others = UNRELATED_TEXTS.map(fingerprintOf);
    for (const fp of others) expect(fingerprintsMatch(spam, fp)).toBe(false);
    for (let i = 0; i < others.length; i++) for (let j = i + 1; j < others.length; j++) expect(fingerprintsMatch(others[i]!, others[j]!)).toBe(false);
  });
});
