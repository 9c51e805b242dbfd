import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWebPagePath } from '../../src/features/web-page/routes.js';
import { createPushWorld } from '../features/push-helpers.js';
import type { TestApp } from '../harness.js';
import { freshAddress } from './helpers.js';
import { admitted, type Caller, CALLERS, call, type Called, expectedAnswer, leaksIn, sameAnswer, shapeProblems, tokenOf } from './matrix-calls.js';
import { type Answer, OPERATIONS, type Sample, type SampleContext, type Scope } from './matrix-operations.js';
import { type AccountSnapshot, differences, snapshotAccount } from './matrix-snapshot.js';
import { type Attacker, createAttacker, createSibling, createVictim, type Ids, unknownIds, type Victim } from './matrix-world.js';

// Issue 11, item 2: every operation of /openapi.json, called as each kind of caller that must not
// reach the victim (no credentials, a bogus token, a revoked session, a removed device's token,
// another account's session and device, and another device of the victim's own account), with
// the victim's real ids in its path, query and body. No call may show the victim's data, change
// it, answer outside the one error shape, or answer "not yours" differently from "does not exist".

let world: Awaited<ReturnType<typeof createPushWorld>>;
let t: TestApp;
let victim: Victim;
let documentPaths: Record<string, Record<string, { security?: Record<string, unknown>[] }>>;
const PAGE = 'GET /';
let partiesByOperation: Map<string, Parties>;
const tally = { cells: 0, refusedAsExpected: 0, rateLimited: 0 };

beforeAll(async () => {
  world = await createPushWorld();
  t = world.t;
  victim = await createVictim(t, world.service);
  // Made all at once, so that their writes share commits (each commit waits for the disk).
  const sharedSibling = await createSibling(t, victim);
  const keys = [...Object.keys(OPERATIONS), PAGE];
  const made = await Promise.all(keys.map((key) => partiesFor(OPERATIONS[key]?.scope ?? 'session', sharedSibling)));
  partiesByOperation = new Map(keys.map((key, i) => [key, made[i]!]));
  documentPaths = (await (await t.request('GET', '/openapi.json')).json()).paths;
}, 60_000);
afterAll(() => world?.close());

const HTTP_METHODS = new Set(['get', 'put', 'post', 'patch', 'delete', 'head', 'options']);
const documentedOperations = () =>
  Object.entries(documentPaths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => HTTP_METHODS.has(method))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
const securityOf = (key: string) => {
  const [method, path] = key.split(' ') as [string, string];
  const schemes = (documentPaths[path]?.[method.toLowerCase()]?.security ?? []).flatMap((entry) => Object.keys(entry));
  return schemes.sort().join('+') || 'none';
};
const SECURITY_OF_SCOPE = { public: 'none', webhook: 'none', session: 'session+sessionCookie', device: 'deviceToken' };

describe('the matrix table', () => {
  it('has exactly the operations /openapi.json documents, each with the security its scope says', () => {
    expect(Object.keys(OPERATIONS).sort()).toEqual(documentedOperations().sort());
    for (const [key, operation] of Object.entries(OPERATIONS)) {
      expect({ key, security: securityOf(key) }).toEqual({ key, security: SECURITY_OF_SCOPE[operation.scope] });
      expect(operation.samples.length, key).toBeGreaterThan(0);
      // A device operation must say what another device of the same account gets.
      if (operation.scope === 'device') for (const sample of operation.samples) expect(sample.sibling, `${key}: ${sample.note}`).toBeDefined();
    }
  });
});

interface Parties {
  attacker: Attacker;
  sibling: { id: string; token: string };
  ctx: SampleContext;
}

/**
 * The attacker and the sibling device an operation is tried with. The attacker is fresh for each
 * operation, so what one does to its own account cannot change the next one's answers. So is the
 * sibling for device operations; the others refuse every device token alike, so they share one
 * (the victim's account may register only so many devices an hour).
 */
async function partiesFor(scope: Scope, sharedSibling: Parties['sibling']): Promise<Parties> {
  const attacker = await createAttacker(t);
  const sibling = scope === 'device' ? await createSibling(t, victim) : sharedSibling;
  const ctx: SampleContext = {
    attacker,
    now: () => t.clock.now(),
    challengeFor: async (email) => {
      const res = await t.request('POST', '/v1/auth/challenge', { body: { email }, headers: { 'X-Forwarded-For': freshAddress() } });
      return ((await res.json()) as { challengeId: string }).challengeId;
    },
  };
  return { attacker, sibling, ctx };
}

/**
 * Sends one sample as one caller and checks the answer on its own: the expected status, the one
 * error shape, nothing of the victim's shown, and nothing of the victim's changed since `baseline`
 * (the snapshot after the previous call, which this replaces).
 */
async function attempt(
  key: string,
  sample: Sample,
  caller: Caller,
  ids: Ids,
  expected: number,
  parties: Parties,
  baseline: { snapshot: AccountSnapshot },
  problems: string[],
): Promise<Called> {
  const spec = await sample.request(ids, parties.ctx);
  t.clock.advance(10); // so that a write of "now" over an old timestamp shows as a change
  const answer = await call(t, key, spec, ids, tokenOf(caller, OPERATIONS[key]!.scope, victim, parties));
  await t.settle();
  const snapshot = snapshotAccount(t, victim.ids.accountId);
  const exceptDeviceId = caller === 'another device of the same account' ? parties.sibling.id : undefined;
  const changed = differences(baseline.snapshot, snapshot, { exceptDeviceId });
  baseline.snapshot = snapshot;

  const where = `${key} (${sample.note}${ids === victim.ids ? '' : ', unknown ids'}) as ${caller}`;
  tally.cells++;
  if (answer.status === 429) tally.rateLimited++;
  else if (answer.status !== expected) problems.push(`${where}: answered ${answer.status} ${answer.code ?? ''}, expected ${expected}`);
  else if (expected === 401 || expected === 404) tally.refusedAsExpected++;
  for (const problem of shapeProblems(answer)) problems.push(`${where}: ${problem}`);
  for (const leak of leaksIn(answer, victim).filter((name) => !sample.shows?.includes(name))) problems.push(`${where}: the response shows the victim's ${leak}`);
  for (const change of changed) problems.push(`${where}: changed the victim's data: ${change}`);
  return answer;
}

const answerFor = (answer: Answer, which: 'victim' | 'unknown') => (typeof answer === 'number' ? answer : answer[which]);

describe.each(Object.keys(OPERATIONS))('%s', (key) => {
  it("as every caller: shows nothing of the victim's, changes nothing, and 'not yours' looks like 'does not exist'", async () => {
    const operation = OPERATIONS[key]!;
    const parties = partiesByOperation.get(key)!;
    const problems: string[] = [];
    const baseline = { snapshot: snapshotAccount(t, victim.ids.accountId) };
    for (const sample of operation.samples) {
      for (const caller of CALLERS) {
        const answer = expectedAnswer(caller, operation.scope, sample);
        const mine = await attempt(key, sample, caller, victim.ids, answerFor(answer, 'victim'), parties, baseline, problems);
        // "Not yours" against "does not exist", for every caller that gets past authentication.
        if (!mine.namesIds || !admitted(caller, operation.scope)) continue;
        const unknown = unknownIds(victim.ids);
        const theirs = await attempt(key, sample, caller, unknown, answerFor(answer, 'unknown'), parties, baseline, problems);
        if (typeof answer === 'number' && !sameAnswer(mine, theirs, victim.ids, unknown)) {
          problems.push(`${key} (${sample.note}) as ${caller}: the victim's ids got ${mine.summary}, unknown ids ${theirs.summary}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('the web page', () => {
  it("is the same static page for every caller and holds nothing of the victim's", async () => {
    expect(isWebPagePath('/')).toBe(true);
    const parties = partiesByOperation.get(PAGE)!;
    const pages = new Set<string>();
    for (const caller of CALLERS) {
      const answer = await call(t, PAGE, {}, victim.ids, tokenOf(caller, 'session', victim, parties));
      expect({ caller, status: answer.status, type: answer.contentType }).toEqual({ caller, status: 200, type: 'text/html' });
      expect(leaksIn(answer, victim)).toEqual([]);
      pages.add(answer.bytes.toString('base64'));
    }
    expect(pages.size).toBe(1);
  });
});

describe('the matrix as a whole', () => {
  it('was not masked by rate limits: the expected refusals came for nearly every cell', () => {
    expect(tally.cells).toBeGreaterThan(Object.keys(OPERATIONS).length * CALLERS.length);
    expect(tally.rateLimited).toBeLessThan(tally.cells * 0.05);
    expect(tally.refusedAsExpected).toBeGreaterThan(tally.cells * 0.6);
  });
});
