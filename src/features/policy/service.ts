import type { Deps } from '../../deps.js';
import { inChunks, type Statement } from '../../db/client.js';
import { AppError } from '../../http/app-error.js';
import { utf8 } from '../../protocol/encoding.js';
import { auditEntry } from '../audit/service.js';
import * as repo from './repo.js';

// The privacy policy the operator publishes: its text (POLICY_FILE, or docs/privacy-policy.txt
// shipped with the package), its version (POLICY_VERSION) and whether that version takes rights
// away (POLICY_REDUCES_RIGHTS). Each version is recorded once, on first use after start-up, and
// never deleted: consents name the version they were given under, and the newest version that
// reduced rights is the floor below which they count as off.

export interface PublishedPolicy {
  version: number;
  reducesRights: boolean;
  sha256: string;
  publishedAt: number;
}

// Per Deps, and again if the configured version is another one (a test publishing a new version
// on the same database, as a restart with a new POLICY_VERSION would).
const published = new WeakMap<Deps, { version: number; policy: Promise<PublishedPolicy> }>();

export const policyTextSha256 = (deps: Deps) => {
  const hash = deps.sha256();
  hash.update(utf8(deps.policyText));
  return hash.hex();
};

/**
 * The version in force, recorded in policy_versions the first time this server runs with it
 * (once per process; on Workers once per isolate). A version already recorded keeps the flag and
 * time it was first published with: an operator changing POLICY_REDUCES_RIGHTS afterwards cannot
 * rewrite what users were told.
 */
export function publishedPolicy(deps: Deps): Promise<PublishedPolicy> {
  const cached = published.get(deps);
  if (cached && cached.version === deps.config.policy.version) return cached.policy;
  const policy = record(deps);
  published.set(deps, { version: deps.config.policy.version, policy });
  // A failed first write (a busy database) is tried again by the next caller.
  policy.catch(() => published.delete(deps));
  return policy;
}

async function record(deps: Deps): Promise<PublishedPolicy> {
  const { version, reducesRights } = deps.config.policy;
  const sha256 = policyTextSha256(deps);
  await repo.insertVersion(deps.db, { version, reducesRights, textSha256: sha256, publishedAt: deps.clock.now() });
  const row = (await repo.findVersion(deps.db, version))!;
  if (row.textSha256 !== sha256) {
    deps.log.warn('the privacy policy text changed without a new POLICY_VERSION: raise it so that users are told', { version });
  }
  if (row.reducesRights !== reducesRights) {
    deps.log.warn('POLICY_REDUCES_RIGHTS differs from what this version was first published with; the first stands', { version });
  }
  return { version, reducesRights: row.reducesRights, sha256, publishedAt: row.publishedAt };
}

export async function currentPolicy(deps: Deps) {
  const policy = await publishedPolicy(deps);
  return { ...policy, text: deps.policyText };
}

/** Consents given under a version older than this count as off: the newest version (up to the current one) that reduced rights, or 0. */
export async function consentFloor(deps: Deps) {
  const { version } = await publishedPolicy(deps);
  return repo.newestRightsReducing(deps.db, version);
}

/** The newest version the account accepted, 0 when it never accepted one (an account older than policy versions). */
export async function acceptedVersion(deps: Deps, accountId: string) {
  return (await repo.lastAccepted(deps.db, accountId))?.version ?? 0;
}

/** What the account's app shows: the version accepted, the current one, and whether a notice is waiting. */
export async function policyStatus(deps: Deps, accountId: string) {
  const current = await publishedPolicy(deps);
  const [accepted, floor] = await Promise.all([repo.lastAccepted(deps.db, accountId), consentFloor(deps)]);
  const acceptedVersion = accepted?.version ?? 0;
  return {
    acceptedVersion,
    acceptedAt: accepted?.at ?? null,
    currentVersion: current.version,
    reducesRights: current.reducesRights,
    publishedAt: current.publishedAt,
    sha256: current.sha256,
    noticePending: acceptedVersion < current.version,
    // The consents given under an older version than this are off until granted again.
    consentFloor: floor,
  };
}

/**
 * The statement recording that a new account accepted the version in force (sign-up shows it),
 * for sign-up to commit with the account row. In an array: a lone drizzle query would run when awaited.
 */
export async function signupAcceptanceStatements(deps: Deps, accountId: string): Promise<Statement[]> {
  const { version } = await publishedPolicy(deps);
  return [repo.acknowledge(deps.db, accountId, version, deps.clock.now())];
}

/**
 * The statements that record the account accepting the current version (only the current one
 * can be accepted: a client showing an older text must fetch the new one first) and acknowledge
 * its notice, with the audit entry.
 */
export async function acceptanceStatements(deps: Deps, accountId: string, version: number, actor: { sessionId?: string; deviceId?: string }) {
  const current = await publishedPolicy(deps);
  if (version !== current.version) {
    throw new AppError('conflict', `version ${version} is not the policy in force (${current.version}): fetch GET /v1/policy and accept that`);
  }
  return [repo.acknowledge(deps.db, accountId, version, deps.clock.now()), auditEntry(deps, accountId, 'policy.accepted', { ...actor, detail: `version ${version}` })];
}

// ---- notices ----

/** Which of these accounts were not yet told of (nor accepted) the version. */
export async function untoldAmong(deps: Deps, accountIds: string[], version: number) {
  const told = new Set(await inChunks(accountIds, (chunk) => repo.noticedAmong(deps.db, chunk, version)));
  return accountIds.filter((id) => !told.has(id));
}

export const recordEmailed = (deps: Deps, accountId: string, version: number) => repo.markEmailed(deps.db, accountId, version, deps.clock.now());

/** The account's notice rows, for its export. */
export const noticesOf = (deps: Deps, accountId: string) => repo.noticesOf(deps.db, accountId);
