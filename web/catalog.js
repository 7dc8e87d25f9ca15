// The catalog as the try-on page (app.js) and the kiosk mirror (kiosk.js) load it: GET /api/items, grouped into
// families (one card per family; its members are the metal, stone and size variants).

import { ShownError, errorDetail } from './live.js';

/** {items, itemsById, families, sites, defaults} from the server; a ShownError when it cannot be loaded. */
export async function fetchCatalog() {
  let data;
  try {
    const res = await fetch('/api/items');
    if (!res.ok) throw new Error(await errorDetail(res));
    data = await res.json();
  } catch (err) {
    throw new ShownError(`Could not load the jewelry catalog (${err.message}). Please try again.`);
  }
  const defaults = data.default ?? [];
  return {
    items: data.items,
    itemsById: new Map(data.items.map((item) => [item.id, item])),
    families: groupFamilies(data.items, defaults),
    sites: data.sites,
    defaults,
  };
}

/** One entry per family, in catalog order; its default member is the server's default if it lists one. */
function groupFamilies(items, defaultIds) {
  const families = new Map();
  for (const item of items) {
    if (!families.has(item.family)) {
      families.set(item.family, { id: item.family, name: item.family_name, site: item.site, members: [] });
    }
    families.get(item.family).members.push(item);
  }
  for (const family of families.values()) {
    family.defaultItem = family.members.find((m) => defaultIds.includes(m.id)) ?? family.members[0];
  }
  return families;
}

/** "yellow_gold" -> "Yellow gold". */
export function formatName(name) {
  const words = String(name).replace(/[_-]+/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A new element with a class and plain text (never HTML). */
export function textElement(tag, className, text) {
  const element = document.createElement(tag);
  element.className = className;
  element.textContent = text;
  return element;
}

/** A catalog card: a button for one family, with its thumbnail, its name and any further children. */
export function familyCard(family, onClick, ...extra) {
  const card = document.createElement('button');
  card.type = 'button';
  card.className = 'card';
  card.dataset.family = family.id;
  card.dataset.site = family.site;
  const img = document.createElement('img');
  img.alt = '';
  img.decoding = 'async';
  card.append(img, textElement('span', 'card-name', family.name), ...extra);
  card.addEventListener('click', () => onClick(family));
  return card;
}

/** Points a family's card at the piece it shows: the worn member (wornItems: the items worn), else the
 * family's default member; pressed when worn. Returns the piece shown. */
export function showOnCard(card, family, wornItems) {
  const worn = wornItems.find((item) => item?.family === family.id);
  const shown = worn ?? family.defaultItem;
  card.dataset.item = shown.id;
  card.setAttribute('aria-pressed', String(Boolean(worn)));
  const img = card.querySelector('img');
  if (img.getAttribute('src') !== shown.thumbnail) img.src = shown.thumbnail;
  return shown;
}

/** The chips a piece offers for one of its family's variant attributes ("metal", "stone", "size_mm"), from the
 * server (item.variants): [{value, item, also}], where `also` is what else choosing it changes. */
export const variantChoices = (item, attr) => item.variants?.[attr] ?? [];

const ALSO_ORDER = ['stone', 'size_mm', 'metal'];

/** What else a choice changes, in words: {stone: 'amethyst', size_mm: 10} -> "amethyst, 10 mm" ('' for nothing).
 * A chip never changes what it does not say. */
export function alsoText(also, formatSize = (mm) => `${mm} mm`) {
  return ALSO_ORDER.filter((k) => also && k in also).map((k) => {
    if (k === 'size_mm') return formatSize(also[k]);
    return also[k] === null ? `no ${k}` : formatName(also[k]).toLowerCase();
  }).join(', ');
}
