// Small formatters the try-on page (app.js) and the kiosk mirror (kiosk.js) share: when a share link expires and
// what ring size a measured finger takes.

const pad2 = (n) => String(n).padStart(2, '0');

/** "14:05" (local time). */
export const formatClock = (date) => `${pad2(date.getHours())}:${pad2(date.getMinutes())}`;

const sameDay = (a, b) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** When a link expires, in the browser's time zone: "14:05" today, else with the date in the browser's locale
 * ("Jun 3, 14:05"): a link that lives a day must not read as if it ended this afternoon. */
export function formatUntil(date, now = new Date()) {
  if (sameDay(date, now)) return formatClock(date);
  const day = date.toLocaleDateString(undefined, {
    month: 'short', day: 'numeric', ...(date.getFullYear() === now.getFullYear() ? {} : { year: 'numeric' }),
  });
  return `${day}, ${formatClock(date)}`;
}

// The US ring sizes shops carry for adults, in half sizes; a measure outside them is said to be outside, not
// turned into a size nobody sells (a little finger measured at 11.8 mm is not "US ¼").
export const US_SIZE_RANGE = [3, 13];
const HALVES = { 0: '', 0.5: '½' };

// US size 0 is 11.63 mm inside, each size 0.8128 mm more; EU (ISO 8653) sizes are the inner circumference in mm.
const euOfUs = (us) => Math.round(Math.PI * (11.63 + 0.8128 * us));

/** A measured ring size (US size, any real number; EU size) as a size sold: "US 6½ · EU 53", or
 * "below US 3 / EU 44" and "above US 13 / EU 70" outside the sizes carried. */
export function formatRingSize(us, eu) {
  if (!Number.isFinite(us)) return 'US – · EU –';
  const [low, high] = US_SIZE_RANGE;
  const half = Math.round(us * 2) / 2;
  if (half < low) return `below US ${low} / EU ${euOfUs(low)}`;
  if (half > high) return `above US ${high} / EU ${euOfUs(high)}`;
  const whole = Math.floor(half);
  return `US ${whole}${HALVES[half - whole]} · EU ${Number.isFinite(eu) ? Math.round(eu) : '–'}`;
}
