// Fixed-window counters in this process's memory, for limits on busy routes where a database write
// per request would cost more than the request itself. On Node, the one process sees every request,
// so the count is exact; on Workers each isolate counts on its own, which still bounds one client's
// flood (it mostly lands on few isolates), and the limits that must hold globally stay in the
// database (see policy.ts).

const MAX_KEYS = 50_000;

interface Window {
  count: number;
  windowStartedAt: number;
  endsAt: number;
}

export function createMemoryWindows() {
  // Kept in the order windows started (a new window moves its key to the end), so the oldest,
  // most likely expired, are swept first. Past MAX_KEYS even live windows go, oldest first: memory
  // stays bounded under a flood from countless addresses, at the price of forgetting some counts.
  const windows = new Map<string, Window>();

  const sweep = (now: number) => {
    for (const [key, window] of windows) {
      if (window.endsAt > now && windows.size <= MAX_KEYS) break;
      windows.delete(key);
    }
  };

  return {
    /** Counts one event and returns the window it fell in. */
    count(key: string, now: number, windowMs: number): Window {
      const current = windows.get(key);
      if (current && current.endsAt > now) {
        current.count += 1;
        return current;
      }
      windows.delete(key);
      const fresh = { count: 1, windowStartedAt: now, endsAt: now + windowMs };
      windows.set(key, fresh);
      if (windows.size > MAX_KEYS) sweep(now);
      return fresh;
    },
  };
}
