export interface Clock {
  /** Unix time in milliseconds. */
  now(): number;
  /** Waits, e.g. between retries; a test's clock moves its time forward instead. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A clock tests move by hand, so expiry is tested by setting the time rather than waiting. */
export function createManualClock(start = Date.UTC(2026, 0, 1)) {
  let current = start;
  return {
    now: () => current,
    set: (ms: number) => void (current = ms),
    advance: (ms: number) => void (current += ms),
    sleep: async (ms: number) => void (current += ms),
  };
}
