import type { Deps } from '../../deps.js';
import { toBase64Url } from '../../protocol/encoding.js';
import * as repo from './repo.js';

// A login challenge for an unknown email carries made-up Argon2id parameters, so it does not
// reveal who is registered. Had the decoy one fixed parameter set, any account with another set
// would stand out as real. So each decoy's set is drawn from the sets this server's accounts
// actually use, in proportion to how many use each, by weighted rendezvous hashing keyed by the
// server secret and the email's blind index: the same email always gets the same set (as a real
// account does), an attacker cannot predict which, and when the mix of accounts shifts, only the
// share of decoys that must move does. The salt is derived the same way, so it is stable too.

const SAMPLE_SIZE = 1000;
const REFRESH_MS = 10 * 60_000;
const SALT_BYTES = 16;

interface Weighted {
  opsLimit: number;
  memLimit: number;
  accounts: number;
}

export function createKdfDecoys(deps: Deps) {
  let cached: { at: number; sets: Promise<Weighted[]> } | undefined;
  // Cached, so a decoy costs no extra query; refreshed for known and unknown emails alike.
  const parameterSets = () => {
    const now = deps.clock.now();
    if (!cached || now - cached.at >= REFRESH_MS) {
      const sets = repo.kdfParameterCounts(deps.db, SAMPLE_SIZE);
      cached = { at: now, sets };
      sets.catch(() => (cached = undefined));
    }
    return cached.sets;
  };

  const uniformOf = (emailIndex: string, set: Weighted) => {
    const bytes = deps.secrets.derive('decoy-kdf', `${emailIndex}|${set.opsLimit}|${set.memLimit}`, 6);
    const value = bytes.reduce((acc, byte) => acc * 256 + byte, 0);
    return (value + 0.5) / 2 ** 48;
  };

  return {
    /**
     * The decoy parameters for an email. Both known and unknown emails call this, so both do the
     * same work; with no accounts yet it falls back to the server minimum.
     */
    async forEmail(emailIndex: string) {
      const sets = await parameterSets();
      // Exponential race: the smallest -ln(u)/w wins with probability w / (sum of all w).
      let best = { ...deps.config.kdfMinimum, score: Infinity };
      for (const set of sets) {
        const score = -Math.log(uniformOf(emailIndex, set)) / set.accounts;
        if (score < best.score) best = { opsLimit: set.opsLimit, memLimit: set.memLimit, score };
      }
      return {
        salt: toBase64Url(deps.secrets.derive('decoy-salt', emailIndex, SALT_BYTES)),
        opsLimit: best.opsLimit,
        memLimit: best.memLimit,
      };
    },
  };
}

export type KdfDecoys = ReturnType<typeof createKdfDecoys>;
