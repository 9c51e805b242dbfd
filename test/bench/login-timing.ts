// 4. Login for known and unknown emails: the same work, the same shapes, the same time.
import { performance } from 'node:perf_hooks';
import { signUp } from '../../src/client/account.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { signDetached } from '../../src/protocol/signing.js';
import { createTestApp, TEST_KDF } from '../harness.js';
import { median, ms, percentile, progress, ratio, table } from './util.js';

const ACCOUNTS = 20;
const ROUNDS = 300;
const HOUR = 3_600_000;

export interface LoginTiming {
  rounds: number;
  challenge: { known: number[]; unknown: number[] };
  login: { known: number[]; unknown: number[] };
  sameShapes: boolean;
}

export async function benchLoginTiming(): Promise<LoginTiming> {
  const t = createTestApp({ LOG_LEVEL: 'silent' });
  try {
    const known: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const email = `known-${i}@bench.example`;
      await signUp(t.api(), { birthYear: 1990, email, password: `password ${i}`, kdf: TEST_KDF });
      known.push(email);
      if (i % 10 === 9) t.clock.advance(HOUR); // past the sign-up limit per address
    }
    const wrongKey = new Uint8Array(32).fill(7);
    const result: LoginTiming = { rounds: ROUNDS, challenge: { known: [], unknown: [] }, login: { known: [], unknown: [] }, sameShapes: true };
    const shapes = new Set<string>();

    const attempt = async (email: string, address: string) => {
      const headers = { 'X-Forwarded-For': address };
      let t0 = performance.now();
      const challengeRes = await t.request('POST', '/v1/auth/challenge', { body: { email }, headers });
      const challengeMs = performance.now() - t0;
      const challenge = await challengeRes.json();
      shapes.add(`${challengeRes.status} ${Object.keys(challenge).sort()} ${Object.keys(challenge.kdf ?? {}).sort()} ${challenge.kdf?.salt?.length}`);
      const signature = toBase64Url(signDetached(wrongKey, new TextEncoder().encode(challenge.challenge)));
      t0 = performance.now();
      const loginRes = await t.request('POST', '/v1/auth/login', { body: { challengeId: challenge.challengeId, signature }, headers });
      const loginMs = performance.now() - t0;
      const body = await loginRes.json();
      shapes.add(`login ${loginRes.status} ${body.error.code} ${body.error.message}`);
      return { challengeMs, loginMs };
    };

    for (let round = 0; round < ROUNDS; round++) {
      // Abuse limits would otherwise lock these accounts: move the clock past their windows.
      t.clock.advance(HOUR);
      const order = round % 2 === 0 ? (['known', 'unknown'] as const) : (['unknown', 'known'] as const);
      for (const kind of order) {
        const email = kind === 'known' ? known[round % ACCOUNTS]! : `stranger-${round}@bench.example`;
        const { challengeMs, loginMs } = await attempt(email, `198.51.100.${round % 250}`);
        if (round >= 20) {
          result.challenge[kind].push(challengeMs);
          result.login[kind].push(loginMs);
        }
      }
      if (round % 100 === 0) progress(`  login: round ${round} of ${ROUNDS}`);
    }
    // Two shapes: one for challenges (known and unknown alike), one for failed logins.
    result.sameShapes = shapes.size === 2;
    if (!result.sameShapes) progress(`  login: shapes differ: ${[...shapes].join(' | ')}`);
    return result;
  } finally {
    t.close();
  }
}

export function renderLoginTiming(r: LoginTiming, seconds: number) {
  const row = (name: string, known: number[], unknown: number[]) => [
    name,
    `${ms(median(known))} / ${ms(percentile(known, 95))}`,
    `${ms(median(unknown))} / ${ms(percentile(unknown, 95))}`,
    `**${ratio(median(unknown) / median(known))}**`,
  ];
  const c = median(r.challenge.unknown) / median(r.challenge.known);
  const l = median(r.login.unknown) / median(r.login.known);
  return `
## 4. Login: known and unknown emails

Target: *for an unknown email the server answers with a deterministic decoy salt and the same timing
and shapes, so the flow does not reveal who is registered*. ${ACCOUNTS} accounts were signed up through
the real app; then ${r.rounds} rounds each asked for a challenge and sent a wrongly signed login for
one known and one never-registered email, alternating which went first, through \`app.request()\`
on a real SQLite file (the first 20 rounds are warm-up). Section time: ${seconds.toFixed(0)} s.

${table(['step', 'known email: median / p95 (ms)', 'unknown email: median / p95 (ms)', 'unknown ÷ known'], [
    row('POST /v1/auth/challenge', r.challenge.known, r.challenge.unknown),
    row('POST /v1/auth/login (wrong key)', r.login.known, r.login.unknown),
  ])}

An unknown email's challenge took ${ratio(c)} and its failed login ${ratio(l)} the median time of a known
email's. The responses had ${r.sameShapes ? 'identical shapes (status, fields, salt length, error code and message) for both' : 'DIFFERENT shapes — see the bench output'}.
`;
}
