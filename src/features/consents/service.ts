import type { Deps } from '../../deps.js';

// PLACEHOLDER signatures, replaced by the consent feature's real code (helper B).

export type ConsentPurpose = string;

/** Throws AppError('consent_required') unless the purpose is consented to (per device when given). */
export async function requireConsent(
  _deps: Deps,
  _input: { accountId: string; purpose: ConsentPurpose; deviceId?: string },
): Promise<void> {}

export async function isConsented(
  _deps: Deps,
  _input: { accountId: string; purpose: ConsentPurpose; deviceId?: string },
): Promise<boolean> {
  return true;
}
