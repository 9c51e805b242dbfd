// Pure text helpers for the page: no DOM, so they are unit-tested in Node.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "12 min ago", "3 h ago", "2 days ago"; a time in the future reads as "just now". */
export function timeAgo(then: number, now: number): string {
  const elapsed = now - then;
  if (elapsed < MINUTE) return 'just now';
  if (elapsed < HOUR) return `${Math.floor(elapsed / MINUTE)} min ago`;
  if (elapsed < DAY) return `${Math.floor(elapsed / HOUR)} h ago`;
  const days = Math.floor(elapsed / DAY);
  return days === 1 ? '1 day ago' : `${days} days ago`;
}

/** "in 5 min", "in 3 h", "in 6 days"; a time already past reads as "now". */
export function timeUntil(then: number, now: number): string {
  const left = then - now;
  if (left < MINUTE) return 'now';
  if (left < HOUR) return `in ${Math.floor(left / MINUTE)} min`;
  if (left < DAY) return `in ${Math.floor(left / HOUR)} h`;
  const days = Math.floor(left / DAY);
  return days === 1 ? 'in 1 day' : `in ${days} days`;
}

/** Where a command is in its life, in words: handed out how often, answered or expired when. */
export function commandLifecycle(
  command: { status: string; expiresAt: number; deliveries: number; acknowledgedAt: number | null },
  now: number,
): string {
  const handed = command.deliveries === 0 ? 'not yet fetched by the phone' : command.deliveries === 1 ? 'fetched by the phone' : `fetched by the phone ${command.deliveries} times`;
  switch (command.status) {
    case 'pending':
    case 'delivered':
      return `${handed}, not answered yet · expires ${timeUntil(command.expiresAt, now)}`;
    case 'expired':
      return `${command.deliveries === 0 ? 'the phone did not check in' : 'the phone did not answer'} before it expired ${timeAgo(command.expiresAt, now)}`;
    case 'cancelled':
      return 'cancelled when Find Device was turned off';
    default:
      return command.acknowledgedAt === null ? handed : `answered ${timeAgo(command.acknowledgedAt, now)}`;
  }
}

/** Local date and time, for titles and the command list. */
export function dateTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "52.52000, 13.40500": five decimals is about a metre, finer than any phone fix. */
export function coordinates(lat: number, lon: number): string {
  return `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
}

export function metres(value: number): string {
  if (value >= 10_000) return `${Math.round(value / 1000)} km`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)} km`;
  return `${Math.round(value)} m`;
}

/** A link to the spot on openstreetmap.org; the page only links to it and never fetches it. */
export function openStreetMapUrl(lat: number, lon: number, zoom = 16): string {
  const la = lat.toFixed(5);
  const lo = lon.toFixed(5);
  return `https://www.openstreetmap.org/?mlat=${la}&mlon=${lo}#map=${zoom}/${la}/${lo}`;
}

export const PLATFORM_NAMES: Record<string, string> = { android: 'Android', ios: 'iOS', other: 'Other' };

/** A command's status, as its badge in the command list reads. */
export const COMMAND_STATUS_TEXT: Record<string, string> = {
  pending: 'pending',
  delivered: 'delivered',
  succeeded: 'succeeded',
  failed: 'failed',
  rejected: 'rejected by the phone',
  cancelled: 'cancelled',
  expired: 'expired',
};

export const COMMAND_NAMES: Record<string, string> = {
  ring: 'Ring',
  'stop-ring': 'Stop ringing',
  lock: 'Lock',
  unlock: 'End Lost Mode',
  locate: 'Locate now',
  wipe: 'Wipe',
};
