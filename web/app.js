// Live jewelry try-on.
// The camera goes to the server over WebRTC; the server draws the jewelry on every frame and sends the video
// back, which is shown mirrored. A data channel named "control" carries JSON commands (wear, variants,
// before/after, snapshot, record, ping) and the server's events (stats, clip). The connection itself is in live.js,
// which the kiosk mirror (kiosk.js) shares.

import {
  Recorder, ShownError, channelOpen, closeSession, connectLive, createSession, keepCamera, playRemote,
  readyToGoLive, sendCommand,
} from './live.js';
import { alsoText, familyCard, fetchCatalog, formatName, showOnCard, textElement, variantChoices } from './catalog.js';
import { formatClock, formatRingSize, formatUntil } from './format.js';
import { askStylist, showAdvice, stillOf } from './stylist.js';

const $ = (id) => document.getElementById(id);
const el = {
  stage: $('stage'),
  preview: $('preview'),
  video: $('video'),
  divider: $('divider'),
  dividerHandle: $('divider-handle'),
  hint: $('hint'),
  status: $('status'),
  fps: $('fps'),
  serverFps: $('server-fps'),
  latency: $('latency'),
  error: $('error'),
  errorMessage: $('error-message'),
  errorAction: $('error-action'),
  snapshot: $('snapshot'),
  record: $('record'),
  timer: $('timer'),
  catalog: $('catalog'),
  sections: $('sections'),
  variants: $('variants'),
  sizes: $('sizes'),
  compareToggle: $('compare-toggle'),
  compare: $('compare'),
  downloads: $('downloads'),
  toast: $('toast'),
  suggest: $('suggest'),
  advice: $('advice'),
};

const params = new URLSearchParams(location.search);
const MIRROR = params.get('nomirror') !== '1';

const PING_INTERVAL_MS = 2000;
const COMPARE_THROTTLE_MS = 50; // about 20 compare commands a second while dragging
const DISCONNECT_GRACE_MS = 5000; // ICE may recover from "disconnected" by itself
const TOAST_MS = 4000;

// Colours for the metal and stone chips' swatches; unknown names get no swatch.
const SWATCHES = {
  yellow_gold: 'linear-gradient(135deg, #fbe7a1, #c99a2e)',
  rose_gold: 'linear-gradient(135deg, #f6cdbb, #b76e58)',
  white_gold: 'linear-gradient(135deg, #ffffff, #c9cbc4)',
  silver: 'linear-gradient(135deg, #f4f6f8, #9ea4aa)',
  platinum: 'linear-gradient(135deg, #fbfbfc, #b5b9bf)',
  stainless_steel: 'linear-gradient(135deg, #eceef0, #868c93)',
  diamond: 'radial-gradient(circle at 35% 35%, #ffffff, #cfe3ff)',
  ruby: 'radial-gradient(circle at 35% 35%, #ff6b81, #9b0f28)',
  sapphire: 'radial-gradient(circle at 35% 35%, #6d9bff, #15307d)',
  emerald: 'radial-gradient(circle at 35% 35%, #61e29a, #0d6b38)',
  amethyst: 'radial-gradient(circle at 35% 35%, #c79bff, #5d2a91)',
  pearl: 'radial-gradient(circle at 35% 35%, #ffffff, #e6dccb 60%, #b9ad9a)',
};

// Where pieces go. The server's /api/items says which places each site has and how many pieces one anchor
// (an ear, a finger, a wrist, the neck) holds; this is the same, for a server that does not say.
const FALLBACK_SITES = { ears: { places: { ears: ['left_ear', 'right_ear'] }, max_per_anchor: 1 } };
const HANDS = ['left', 'right'];
// The catalog's sections, by site, in this order (a site not listed gets its own section after these).
const SECTIONS = { ears: 'Earrings', neck: 'Necklaces', finger: 'Rings', wrist: 'Wrist' };
// What the worn pieces need in view, by site (the server's stats say which of these it tracks and sees).
const NEEDS = { ears: 'face', finger: 'hands', wrist: 'hands', neck: 'neck' };
const FINGERS = ['thumb', 'index', 'middle', 'ring', 'little'];

const state = {
  catalogLoaded: false,
  items: [], // as served by /api/items
  itemsById: new Map(),
  families: new Map(), // family id -> {id, name, site, members, defaultItem}
  sites: FALLBACK_SITES, // site -> {places: {where: [anchors]}, max_per_anchor}, from /api/items
  worn: [], // [{id, where}], what the page shows as worn, in the order sent to the server
  confirmed: [], // [{id, where}], what the server last confirmed
  selected: null, // the spec ("id" or "id@where") of the piece the chips edit
  section: null, // the site whose catalog cards are shown
  lastStats: null,
  camera: null, // the local MediaStream, kept across reconnects
  session: createSession(),
};

const recording = new Recorder((command) => send(command), {
  onChange: updateRecordButton,
  onClip: addClip,
  onError: (message) => toast(message),
});

// ---------------------------------------------------------------- small helpers

const formatSize = (mm) => `${mm} mm`;
const pad2 = (n) => String(n).padStart(2, '0');

function formatDuration(seconds) {
  const s = Math.floor(seconds);
  return `${pad2(Math.floor(s / 60))}:${pad2(s % 60)}`;
}

/** Local time for download names, e.g. 2025-01-31-142503. */
function fileStamp(date = new Date()) {
  const day = `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`;
  return `${day}-${pad2(date.getHours())}${pad2(date.getMinutes())}${pad2(date.getSeconds())}`;
}

const formatNumber = (value) => (Number.isFinite(value) ? String(Math.round(value)) : '–');
const unique = (values) => [...new Set(values)];
const wornKey = (specs) => [...specs].sort().join(',');

/** Calls fn at most once per `ms`; the last call of a burst is always made (trailing). */
function throttle(fn, ms) {
  let last = -Infinity;
  let timer = null;
  return () => {
    const wait = last + ms - performance.now();
    if (wait <= 0) {
      last = performance.now();
      fn();
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        last = performance.now();
        fn();
      }, wait);
    }
  };
}

// ---------------------------------------------------------------- status, errors, toast

function setStatus(text, kind = text) {
  el.status.textContent = text;
  el.status.dataset.state = kind;
}

function showError(message, actionLabel) {
  el.errorMessage.textContent = message;
  el.errorAction.textContent = actionLabel;
  el.error.hidden = false;
}

let toastTimer = null;
function toast(message) {
  el.toast.textContent = message;
  el.toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.toast.hidden = true;
  }, TOAST_MS);
}

// ---------------------------------------------------------------- catalog and worn pieces

async function ensureCatalog() {
  if (state.catalogLoaded) return;
  const catalog = await fetchCatalog();
  state.items = catalog.items;
  state.itemsById = catalog.itemsById;
  state.sites = catalog.sites ?? FALLBACK_SITES;
  state.families = catalog.families;
  state.catalogLoaded = true;
  const worn = initialWorn(catalog.defaults);
  state.selected = worn[0] ? specOf(worn[0]) : null;
  state.section = siteOf(worn[0]) ?? null; // the catalog opens on the section of what is worn
  renderCatalog();
  applyWorn(worn);
}

// A worn piece is a placement {id, where}: `where` is one of its site's places ("ears"; "finger", "ring",
// "left_index"...; "wrist", "left_wrist"...). The server takes it as a spec, "id" or "id@where".

/** "id" when worn at its site's default place, else "id@where" (as the server's `items` replies). */
function specOf(placement) {
  const item = state.itemsById.get(placement.id);
  return !item || placement.where === item.site ? placement.id : `${placement.id}@${placement.where}`;
}

/** {id, where} from "id" or "id@where"; null for an unknown id, {error} for a place the item cannot take. */
function parseSpec(spec) {
  const [rawId, ...rest] = String(spec).split('@');
  const item = state.itemsById.get(rawId.trim());
  if (!item) return null;
  const where = rest.join('@').trim() || item.site;
  if (!(where in placesOf(item.site))) return { id: item.id, where, error: `${item.name} cannot be worn at ${where}` };
  return { id: item.id, where };
}

const placesOf = (site) => state.sites[site]?.places ?? {};
const anchorsOf = (placement) => placesOf(siteOf(placement))[placement.where] ?? [];
const siteOf = (placement) => state.itemsById.get(placement?.id)?.site;
const itemOf = (placement) => state.itemsById.get(placement?.id);

/** Each placement's key, as the server's `worn`: its place, with "/2" for a second piece at the same place. */
function placeKeys(worn) {
  const keys = [];
  for (const p of worn) keys.push(keys.includes(p.where) ? `${p.where}/2` : p.where);
  return keys;
}

/** Whether `placement` can join `worn`: no anchor it covers (a finger, a wrist, an ear) would hold too many. */
function fits(worn, placement) {
  const max = state.sites[siteOf(placement)]?.max_per_anchor ?? 1;
  return anchorsOf(placement).every((anchor) => worn.filter((p) => anchorsOf(p).includes(anchor)).length < max);
}

/** Items from `?items=a,b@left_index` (unknown ids and impossible places are ignored with a notice), else
 * the server's defaults. A piece that does not fit next to the earlier ones replaces them at its site. */
function initialWorn(defaultIds) {
  const requested = params.has('items')
    ? params.get('items').split(',').map((s) => s.trim()).filter(Boolean)
    : defaultIds;
  const ignored = [];
  let worn = [];
  for (const spec of requested) {
    const placement = parseSpec(spec);
    if (!placement || placement.error) {
      ignored.push(spec);
    } else if (fits(worn, placement)) {
      worn.push(placement);
    } else {
      worn = [...worn.filter((p) => siteOf(p) !== siteOf(placement)), placement];
    }
  }
  if (ignored.length) toast(`Not in the catalog or not wearable there, ignored: ${ignored.join(', ')}`);
  return worn;
}

/** Placements from the specs the server confirmed (unknown ones dropped). */
function placementsFromSpecs(specs) {
  return specs.map(parseSpec).filter((p) => p && !p.error);
}

const isWornFamily = (family) => state.worn.some((p) => itemOf(p)?.family === family.id);

/** Section tabs over the catalog (Earrings, Necklaces, Rings, Wrist) when it has more than one. */
function renderSections() {
  const sites = unique([...state.families.values()].map((f) => f.site))
    .sort((a, b) => (Object.keys(SECTIONS).indexOf(a) + 1 || 99) - (Object.keys(SECTIONS).indexOf(b) + 1 || 99));
  if (!sites.includes(state.section)) state.section = sites[0] ?? null;
  el.sections.hidden = sites.length < 2;
  el.sections.replaceChildren(...sites.map((site) => {
    const tab = document.createElement('button');
    tab.type = 'button';
    tab.className = 'section-tab';
    tab.dataset.section = site;
    tab.append(textElement('span', 'section-name', SECTIONS[site] ?? formatName(site)));
    tab.append(textElement('span', 'section-count', ''));
    tab.addEventListener('click', () => showSection(site));
    return tab;
  }));
}

function showSection(site) {
  state.section = site;
  updateCatalog();
}

function renderCatalog() {
  renderSections();
  el.catalog.replaceChildren(...[...state.families.values()].map((family) => familyCard(family, toggleFamily)));
}

/** Cards show the worn member when their family is worn, else the family's default member. */
function updateCatalog() {
  const wornItems = state.worn.map(itemOf);
  for (const card of el.catalog.querySelectorAll('.card')) {
    const family = state.families.get(card.dataset.family);
    showOnCard(card, family, wornItems);
    card.hidden = !el.sections.hidden && family.site !== state.section;
  }
  // Each section's tab: pressed when shown, with how many of its pieces are worn.
  for (const tab of el.sections.querySelectorAll('.section-tab')) {
    const worn = state.worn.filter((p) => siteOf(p) === tab.dataset.section).length;
    tab.setAttribute('aria-pressed', String(tab.dataset.section === state.section));
    tab.querySelector('.section-count').textContent = worn ? String(worn) : '';
    tab.setAttribute('aria-label', `${tab.querySelector('.section-name').textContent}${worn ? `, ${worn} worn` : ''}`);
  }
}

function applyWorn(worn) {
  state.worn = worn;
  updateCatalog();
  renderVariants();
}

/**
 * Takes the family off if it is worn. Else wears its default member: earrings replace the pair worn; a ring,
 * wrist piece or necklace goes where the selected one of its kind is (stacked: two rings on a finger, a watch
 * and a bracelet on a wrist, two necklaces layered) or, when that place is full, takes the selected one's
 * place; the first one of its kind goes to its default place (the ring finger, the wrist, of each hand in
 * view; the neck).
 */
function toggleFamily(family) {
  if (isWornFamily(family)) {
    wear(state.worn.filter((p) => itemOf(p)?.family !== family.id));
    return;
  }
  const item = family.defaultItem;
  const sameSite = state.worn.filter((p) => siteOf(p) === item.site);
  const near = sameSite.find((p) => specOf(p) === state.selected) ?? sameSite.at(-1);
  const added = { id: item.id, where: near?.where ?? item.site };
  let worn;
  if (fits(state.worn, added)) {
    const at = near ? state.worn.indexOf(near) + 1 : state.worn.length;
    worn = [...state.worn.slice(0, at), added, ...state.worn.slice(at)];
  } else {
    const rest = state.worn.filter((p) => p !== near);
    worn = fits(rest, added)
      ? state.worn.map((p) => (p === near ? added : p))
      : [...state.worn.filter((p) => siteOf(p) !== item.site), added];
  }
  state.selected = specOf(added);
  wear(worn);
}

/** Moves the selected piece to another place (another finger, hand or wrist), if it has room there. */
function movePlacement(placement, where) {
  if (where === placement.where) return;
  const moved = { id: placement.id, where };
  const rest = state.worn.filter((p) => p !== placement);
  if (!fits(rest, moved)) {
    const max = state.sites[siteOf(placement)]?.max_per_anchor ?? 1;
    toast(`${placeLabel(siteOf(placement), where, true)} already ${max > 1 ? `wears ${max} pieces` : 'has one'}: take one off first.`);
    return;
  }
  state.selected = specOf(moved);
  wear(state.worn.map((p) => (p === placement ? moved : p)));
}

/**
 * Shows the new set at once; the server's reply confirms it, or it is rolled back to the last confirmed set.
 * Before the channel is open the set is only kept here: it goes with the offer or is synced on open.
 */
function wear(worn) {
  applyWorn(worn);
  if (channelOpen(state.session)) {
    send({ cmd: 'set_items', items: worn.map(specOf) }).catch((err) => toast(err.message));
  }
}

// ---------------------------------------------------------------- places: hand, finger, wrist

/** A finger or wrist place as {hand: left | right | both, finger}. */
function placeParts(site, where) {
  if (site === 'wrist') return { hand: where === 'wrist' ? 'both' : where.split('_')[0] };
  if (where === 'finger') return { hand: 'both', finger: 'ring' };
  const [first, second] = where.split('_');
  return second ? { hand: first, finger: second } : { hand: 'both', finger: first };
}

function placeOf(site, { hand, finger }) {
  if (site === 'wrist') return hand === 'both' ? 'wrist' : `${hand}_wrist`;
  return hand === 'both' ? finger : `${hand}_${finger}`;
}

/** "left ring finger", "ring fingers", "thumbs", "left wrist", "both wrists", "ears". */
function placeLabel(site, where, capital = false) {
  let text = formatName(where).toLowerCase();
  if (site === 'finger') {
    const { hand, finger } = placeParts(site, where);
    const name = finger === 'thumb' ? 'thumb' : `${finger} finger`;
    text = hand === 'both' ? `${name}s` : `${hand} ${name}`;
  } else if (site === 'wrist') {
    const { hand } = placeParts(site, where);
    text = hand === 'both' ? 'both wrists' : `${hand} wrist`;
  }
  return capital ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

/** Hand and finger chips for a ring, wrist chips for a bracelet or watch; they move the selected piece. */
function placePicker(placement) {
  const site = siteOf(placement);
  const parts = placeParts(site, placement.where);
  const move = (change) => movePlacement(placement, placeOf(site, { ...parts, ...change }));
  const hands = ['left', 'right', 'both'];
  const handLabel = (h) => (h === 'both' ? 'Both' : formatName(h));
  if (site === 'wrist') {
    return [pickerGroup({ label: 'Wrist', attr: 'wrist', values: hands, current: parts.hand, format: handLabel, onPick: (hand) => move({ hand }) })];
  }
  return [
    pickerGroup({ label: 'Hand', attr: 'hand', values: hands, current: parts.hand, format: handLabel, onPick: (hand) => move({ hand }) }),
    pickerGroup({ label: 'Finger', attr: 'finger', values: FINGERS, current: parts.finger, format: formatName, onPick: (finger) => move({ finger }) }),
  ];
}

// ---------------------------------------------------------------- variant chips

/** The piece the chips edit: the selected one while it is worn, else the first worn. */
function currentPlacement() {
  return state.worn.find((p) => specOf(p) === state.selected) ?? state.worn[0] ?? null;
}

function renderVariants() {
  const focusSelector = selectorFor(document.activeElement);
  const placement = currentPlacement();
  const item = itemOf(placement);
  if (!item) {
    el.variants.replaceChildren(textElement('p', 'variants-note', 'Tap a piece above to try it on.'));
    renderSizes();
    return;
  }
  const key = placeKeys(state.worn)[state.worn.indexOf(placement)];
  const parts = [];
  if (state.worn.length > 1) parts.push(siteTabs(placement));
  const title = item.site === 'ears' || item.site === 'neck' ? item.name : `${item.name} · ${placeLabel(item.site, placement.where)}`;
  parts.push(textElement('p', 'item-name', title));
  const facts = factsOf(item);
  if (facts) parts.push(textElement('p', 'item-facts', facts));
  if (item.site === 'finger' || item.site === 'wrist') parts.push(...placePicker(placement));
  if (!isPearlStrand(item)) {
    parts.push(chipGroup(key, item, { label: 'Metal', attr: 'metal', arg: 'metal', format: formatName }));
  }
  if (variantChoices(item, 'stone').length) {
    parts.push(chipGroup(key, item, { label: 'Stone', attr: 'stone', arg: 'stone', format: formatName }));
  }
  if (variantChoices(item, 'size_mm').length) {
    parts.push(chipGroup(key, item, { label: sizeLabel(item), attr: 'size', arg: 'size_mm', format: formatSize }));
  }
  if (item.site === 'finger') {
    const room = fits(state.worn, { id: item.id, where: placement.where });
    parts.push(textElement('p', 'variants-note', room
      ? `Tap another ring to stack it on the ${placeLabel('finger', placement.where)}.`
      : 'Two rings on this finger: tap another ring to swap this one.'));
  } else if (item.site === 'neck') {
    const room = fits(state.worn, { id: item.id, where: placement.where });
    parts.push(textElement('p', 'variants-note', room
      ? 'Tap another necklace to layer it with this one.'
      : 'Two necklaces layered: tap another necklace to swap this one.'));
  }
  el.variants.replaceChildren(...parts);
  // Re-rendering replaces the buttons; keep keyboard focus on the equivalent one.
  if (focusSelector) el.variants.querySelector(focusSelector)?.focus();
  renderSizes();
}

/** A strand of pearls: pearls knotted on silk, no metal to show (the catalog still names one). */
const isPearlStrand = (item) => item.site === 'neck' && item.kind === 'necklace' && item.stone === 'pearl';

/** What a piece's size is a size of: a pendant's, a pearl's, a chain's width; a ring's or earring's size. */
function sizeLabel(item) {
  if (item.site !== 'neck') return 'Size';
  if (item.kind === 'pendant') return 'Pendant';
  return item.stone === 'pearl' ? 'Pearls' : 'Chain';
}

// Where a necklace of this length (cm) falls on an average neck (the trade's names: choker, princess, ...).
const NECKLACE_LENGTHS = [
  [42, 'sits at the base of the neck'],
  [49, 'sits on the collarbone'],
  [61, 'falls below the collarbone'],
  [Infinity, 'falls to the chest'],
];

/** A line of facts the chips do not show: a necklace's length and where it falls, a pendant's size. */
function factsOf(item) {
  const dims = item.dimensions_mm ?? {};
  if (item.site !== 'neck' || !Number.isFinite(dims.length)) return '';
  const cm = dims.length / 10;
  const mm = (value) => formatMm(value).replace(/\.0$/, '');
  const nb = (text) => text.replaceAll(' ', '\u00a0'); // a measure is not broken over two lines
  const facts = [`${nb(`${formatNumber(cm)} cm`)} long, ${NECKLACE_LENGTHS.find(([max]) => cm < max)[1]}`];
  if (Number.isFinite(dims.pendant_width) && Number.isFinite(dims.pendant_height)) {
    facts.push(`pendant ${nb(`${mm(dims.pendant_width)} × ${mm(dims.pendant_height)} mm`)}`);
  }
  return facts.join(' · ');
}

/** A selector that finds the re-rendered twin of a focused chip or tab, or null. */
function selectorFor(element) {
  if (!el.variants.contains(element)) return null;
  for (const attr of ['metal', 'stone', 'size', 'site', 'hand', 'finger', 'wrist']) {
    if (element.dataset[attr] !== undefined) return `[data-${attr}="${CSS.escape(element.dataset[attr])}"]`;
  }
  return null;
}

/** With several pieces on, tabs choose which one the chips edit. */
function siteTabs(current) {
  const tabs = document.createElement('div');
  tabs.className = 'site-tabs';
  tabs.setAttribute('role', 'group');
  tabs.setAttribute('aria-label', 'Piece to adjust');
  const keys = placeKeys(state.worn);
  state.worn.forEach((placement, i) => {
    const item = itemOf(placement);
    const where = item.site === 'ears' || item.site === 'neck' ? formatName(item.site) : placeLabel(item.site, placement.where, true);
    const tab = textElement('button', 'site-tab', `${where} · ${state.families.get(item.family).name}`);
    tab.type = 'button';
    tab.dataset.site = keys[i];
    tab.setAttribute('aria-pressed', String(placement === current));
    tab.addEventListener('click', () => {
      state.selected = specOf(placement);
      renderVariants();
    });
    tabs.append(tab);
  });
  return tabs;
}

/** A row of chips, one pressed; picking another calls onPick(value). describe(value), where given, says what
 * else picking it changes: shown on the chip after a "·". */
function pickerGroup({ label, attr, values, current, format, onPick, describe = () => '' }) {
  const group = document.createElement('div');
  group.className = 'chip-group';
  group.setAttribute('role', 'group');
  group.setAttribute('aria-label', label);
  group.append(textElement('span', 'chip-label', label));
  for (const value of values) {
    const chip = document.createElement('button');
    chip.type = 'button';
    chip.className = 'chip';
    chip.dataset[attr] = String(value);
    chip.setAttribute('aria-pressed', String(value === current));
    if (SWATCHES[value]) {
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = SWATCHES[value];
      chip.append(swatch);
    }
    chip.append(format(value));
    const also = describe(value);
    if (also) {
      chip.classList.add('changes-more');
      chip.append(textElement('span', 'chip-also', `· ${also}`));
      chip.title = `${format(value)} comes with ${also}`;
    }
    chip.addEventListener('click', () => {
      if (value !== current) onPick(value);
    });
    group.append(chip);
  }
  return group;
}

/** The chips of one variant attribute (arg: "metal", "stone" or "size_mm") of a worn piece: the server's choices
 * for it (each names the member it gives); a chip that changes more than its own value says what. */
function chipGroup(key, item, { label, attr, arg, format }) {
  const choices = variantChoices(item, arg);
  const also = new Map(choices.map((c) => [c.value, alsoText(c.also, formatSize)]));
  return pickerGroup({
    label, attr, values: choices.map((c) => c.value), current: item[arg], format,
    onPick: (value) => chooseVariant(key, arg, value), describe: (value) => also.get(value),
  });
}

function chooseVariant(site, arg, value) {
  send({ cmd: 'set_variant', site, [arg]: value }).catch((err) => toast(err.message));
}

// ---------------------------------------------------------------- measured sizes (from the stats event)

const formatMm = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

/**
 * The measured ring size on the selected ring's finger(s), or the circumference of the selected wrist piece's
 * wrist(s), from the newest stats; hidden for earrings. Estimates: the camera sees the finger's width, not its
 * circumference, and the scale of a hand comes from an average hand.
 */
function renderSizes() {
  const placement = currentPlacement();
  const site = siteOf(placement);
  const live = state.session.live && state.lastStats;
  if (!placement || (site !== 'finger' && site !== 'wrist')) {
    el.sizes.hidden = true;
    el.sizes.replaceChildren();
    return;
  }
  const parts = placeParts(site, placement.where);
  const sides = parts.hand === 'both' ? HANDS : [parts.hand];
  const measured = new Map((live ? state.lastStats.hands ?? [] : []).map((h) => [h.side, h]));
  const rows = [];
  for (const side of sides) {
    const hand = measured.get(side);
    const where = placeLabel(site, placeOf(site, { ...parts, hand: side }), true);
    const row = document.createElement('li');
    row.className = 'size-row';
    row.dataset.side = side;
    row.append(textElement('span', 'size-where', where));
    let value;
    if (site === 'finger') {
      const ring = hand?.ring_size?.[parts.finger];
      value = ring
        ? `⌀ ${formatMm(ring.inner_diameter_mm)} ± ${formatMm(ring.sigma_mm)} mm · ${formatRingSize(ring.us, ring.eu)}`
        : null;
    } else {
      const wrist = hand?.wrist_circumference_mm;
      value = wrist ? `${formatMm(wrist.value, 0)} ± ${formatMm(wrist.sigma, 0)} mm around` : null;
    }
    const text = textElement('span', value ? 'size-value' : 'size-value missing', value ?? `${formatName(side)} hand not in view`);
    row.append(text);
    rows.push(row);
  }
  // With both hands asked for, a hand not in view is only noise once the other one is measured.
  const shown = rows.filter((row) => !row.lastChild.classList.contains('missing'));
  const list = document.createElement('ul');
  list.append(...(shown.length ? shown : rows));
  const title = site === 'finger' ? 'Your ring size (estimate)' : 'Your wrist (estimate)';
  el.sizes.replaceChildren(
    textElement('h2', 'sizes-title', title),
    list,
    textElement('p', 'sizes-note', site === 'finger'
      ? 'Measured by the camera: confirm with a ring sizer before you buy.'
      : 'Measured by the camera: confirm with a tape measure before you buy.'),
  );
  el.sizes.hidden = false;
}

// ---------------------------------------------------------------- control channel

/** Sends a command on the live connection; resolves with the reply, rejects with the server's message. */
const send = (command) => sendCommand(state.session, command);

/** Keeps the worn pieces in step with what the server confirmed or refused, whoever sent the command. */
function trackWorn(command, reply) {
  if (command.cmd === 'set_items') {
    if (reply.ok) state.confirmed = placementsFromSpecs(reply.items ?? command.items);
    applyWorn(state.confirmed);
  } else if (command.cmd === 'set_variant' && reply.ok && reply.item) {
    // The piece changes at its place (the command's `site`: a key of the server's `worn`), the others stay.
    const swap = (worn) => {
      const i = placeKeys(worn).indexOf(command.site);
      return i < 0 ? worn : worn.map((p, j) => (j === i ? { id: reply.item, where: p.where } : p));
    };
    const selected = currentPlacement();
    state.confirmed = reply.items ? placementsFromSpecs(reply.items) : swap(state.confirmed);
    const worn = swap(state.worn);
    if (selected && placeKeys(state.worn)[state.worn.indexOf(selected)] === command.site) {
      state.selected = specOf(worn[state.worn.indexOf(selected)]);
    }
    applyWorn(worn);
  }
}

function handleServerEvent(message) {
  if (message.event === 'stats') showStats(message);
  else if (message.event === 'clip') recording.finished(message);
  else if (message.event === 'closed') fail(state.session, `The try-on ended: ${message.reason}.`, 'Reconnect');
}

// ---------------------------------------------------------------- connection

/** Camera, catalog, then the WebRTC connection. Also the action of the error overlay's button. */
async function start() {
  if (state.session.closed) state.session = createSession();
  const session = state.session;
  el.error.hidden = true;
  try {
    setStatus('starting camera', 'connecting');
    await Promise.all([ensureCamera(), ensureCatalog()]);
    await connect(session);
  } catch (err) {
    fail(session, err instanceof ShownError ? err.message : `Could not connect (${err.message}).`);
  }
}

async function ensureCamera() {
  state.camera = await keepCamera(state.camera, el.preview, () => fail(state.session,
    'The camera stopped. Check that it is connected and not used by another app, then try again.'));
}

async function connect(session) {
  setStatus('connecting');
  const items = state.worn.map(specOf);
  session.offeredKey = wornKey(items);
  const connected = await connectLive(session, state.camera, { items }, {
    onOpen: () => onChannelOpen(session),
    onVideo: (stream) => showRemoteVideo(session, stream),
    onEvent: handleServerEvent,
    onReply: trackWorn,
    onLost: (how) => fail(session, `The connection to the try-on server ${how === 'closed' ? 'closed' : 'was lost'}.`, 'Reconnect'),
    onConnection: (connection) => {
      if (connection === 'disconnected') setStatus('reconnecting', 'connecting');
      else if (connection === 'connected' && session.live) setStatus('live');
    },
    graceMs: DISCONNECT_GRACE_MS,
  });
  if (connected) state.confirmed = placementsFromSpecs(items);
}

function showRemoteVideo(session, stream) {
  playRemote(session, el.video, stream, () => {
    el.stage.dataset.source = 'remote';
    watchDisplayedFrames();
    updateDivider();
    maybeLive(session);
  });
}

function onChannelOpen(session) {
  // The pieces may have changed while the offer was on its way.
  if (wornKey(state.worn.map(specOf)) !== session.offeredKey) wear(state.worn);
  if (el.compareToggle.checked) sendCompare();
  maybeLive(session);
}

function maybeLive(session) {
  if (!readyToGoLive(session)) return;
  session.live = true;
  setStatus('live');
  el.snapshot.disabled = false;
  updateRecordButton();
  startPing(session);
  session.resolveReady();
}

/** Ends the session for good: its `ready` rejects, the page shows the message and a button to start over. */
function fail(session, message, actionLabel = 'Try again') {
  if (session !== state.session || session.closed) return;
  session.rejectReady(new Error(message));
  teardown(session);
  setStatus(`error: ${message}`, 'error');
  showError(message, actionLabel);
}

function teardown(session) {
  closeSession(session);
  el.stage.dataset.source = 'local';
  el.video.srcObject = null;
  el.snapshot.disabled = true;
  el.hint.hidden = true;
  recording.reset();
  showMetrics();
  renderSizes();
  updateDivider();
}

// ---------------------------------------------------------------- metrics: fps, latency, face hint

function startPing(session) {
  let inFlight = false;
  const ping = async () => {
    if (inFlight) return;
    inFlight = true;
    const sentAt = performance.now();
    try {
      await send({ cmd: 'ping', t: sentAt });
      session.rtt = performance.now() - sentAt;
      showMetrics();
    } catch {
      // A lost ping just skips one reading.
    } finally {
      inFlight = false;
    }
  };
  ping();
  session.intervals.push(setInterval(ping, PING_INTERVAL_MS));
}

function showStats(stats) {
  state.lastStats = stats;
  showHint(stats);
  showMetrics();
  renderSizes();
}

/**
 * A hint when nothing the worn pieces need is in view: the face for earrings, a hand for rings, bracelets and
 * watches, the neck and shoulders for necklaces. With several kinds worn, seeing any is enough (one looks at
 * the earrings with the hands down). The face also runs for necklaces (the head's depth) but is not what they
 * need: a necklace needs the shoulders.
 */
function showHint(stats) {
  const tracking = stats.tracking ?? ['face']; // a server that does not say tracks the face
  const seen = { face: stats.face !== false, hands: stats.hand_count > 0, neck: stats.neck !== false };
  const wanted = unique(state.worn.map((p) => NEEDS[siteOf(p)]).filter((need) => tracking.includes(need)));
  const needs = wanted.length ? wanted : tracking.filter((t) => t in seen);
  const missing = needs.filter((need) => !seen[need]);
  const lost = needs.length > 0 && missing.length === needs.length;
  if (lost) {
    el.hint.textContent = hintText(missing);
    el.hint.dataset.missing = missing.join(' ');
  }
  el.hint.hidden = !lost;
}

function hintText(missing) {
  if (missing.length === 1) {
    return {
      face: "Move into view – we can't see your face",
      hands: "Hold up your hand – we can't see it",
      neck: "Step back a little – we can't see your neck and shoulders",
    }[missing[0]];
  }
  const names = missing.map((need) => ({ face: 'your face', hands: 'your hands', neck: 'your shoulders' })[need]);
  return `Move into view – we can't see ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

function showMetrics() {
  const { session, lastStats } = state;
  const stats = session.live ? lastStats : null;
  el.serverFps.textContent = formatNumber(stats?.fps);
  el.serverFps.title = stats ? `${stats.dropped} frames dropped so far` : '';
  el.latency.textContent = `RTT ${formatNumber(session.live ? session.rtt : null)} ms · server ${formatNumber(stats?.process_ms)} ms`;
}

// Displayed frames per second: counted with requestVideoFrameCallback where there is one, else the
// receiver's own count from getStats().
const HAS_FRAME_CALLBACK = 'requestVideoFrameCallback' in HTMLVideoElement.prototype;
let displayedFrames = 0;
let frameCallbackHandle = null;

function watchDisplayedFrames() {
  if (!HAS_FRAME_CALLBACK) return;
  if (frameCallbackHandle !== null) el.video.cancelVideoFrameCallback(frameCallbackHandle);
  const onFrame = () => {
    displayedFrames += 1;
    frameCallbackHandle = el.video.requestVideoFrameCallback(onFrame);
  };
  frameCallbackHandle = el.video.requestVideoFrameCallback(onFrame);
}

function startFpsMeter() {
  let since = performance.now();
  setInterval(async () => {
    const now = performance.now();
    const { session } = state;
    let fps = null;
    if (session.live) {
      fps = HAS_FRAME_CALLBACK
        ? (displayedFrames * 1000) / (now - since)
        : await inboundFps(session.pc).catch(() => null); // the connection may close meanwhile
    }
    el.fps.textContent = formatNumber(fps);
    displayedFrames = 0;
    since = now;
  }, 1000);
}

async function inboundFps(pc) {
  const stats = await pc.getStats();
  for (const report of stats.values()) {
    if (report.type === 'inbound-rtp' && (report.kind ?? report.mediaType) === 'video') {
      return report.framesPerSecond ?? null;
    }
  }
  return null;
}

// ---------------------------------------------------------------- before/after

const splitValue = () => Number(el.compare.value) / 100;

function compareCommand() {
  return el.compareToggle.checked
    ? { cmd: 'compare', on: true, split: splitValue() }
    : { cmd: 'compare', on: false };
}

// Reads the controls when it actually sends, so the trailing call of a drag sends the final position.
const sendCompare = throttle(() => {
  send(compareCommand()).catch((err) => toast(err.message));
}, COMPARE_THROTTLE_MS);

function onCompareChanged() {
  updateDivider();
  if (channelOpen(state.session)) sendCompare();
}

/** The part of the element's box the picture covers under its object-fit (cover or contain). */
function pictureBox(video) {
  const width = video.clientWidth;
  const height = video.clientHeight;
  const vw = video.videoWidth || width;
  const vh = video.videoHeight || height;
  const scales = [width / vw, height / vh];
  const scale = getComputedStyle(video).objectFit === 'cover' ? Math.max(...scales) : Math.min(...scales);
  return { left: (width - vw * scale) / 2, width: vw * scale, top: (height - vh * scale) / 2, height: vh * scale };
}

const shownVideo = () => (el.stage.dataset.source === 'remote' ? el.video : el.preview);

/**
 * The divider goes where the server splits the picture. `split` is a fraction of the mirrored picture's
 * width; without mirroring the same place is at 1 - split. Cropping by object-fit is accounted for.
 */
function updateDivider() {
  const video = shownVideo();
  const box = pictureBox(video);
  const fraction = MIRROR ? splitValue() : 1 - splitValue();
  const x = box.left + fraction * box.width;
  // Only over the picture: not over contain's bars, not past cover's crop.
  el.divider.style.left = `${x}px`;
  el.divider.style.top = `${Math.max(0, box.top)}px`;
  el.divider.style.height = `${Math.min(video.clientHeight, box.height)}px`;
  el.divider.hidden = !el.compareToggle.checked || x < 0 || x > video.clientWidth;
}

/** Dragging the divider's handle over the video moves the slider. */
function dragDivider(event) {
  if (!el.dividerHandle.hasPointerCapture(event.pointerId)) return;
  const video = shownVideo();
  const box = pictureBox(video);
  const fraction = (event.clientX - video.getBoundingClientRect().left - box.left) / box.width;
  const split = Math.min(1, Math.max(0, MIRROR ? fraction : 1 - fraction));
  el.compare.value = String(Math.round(split * 100));
  onCompareChanged();
}

// ---------------------------------------------------------------- the stylist

/** One still of the camera to the stylist; its suggestions shown with one-tap "Try on". */
async function suggestForMe() {
  el.suggest.disabled = true;
  el.suggest.textContent = 'Looking…';
  try {
    await ensureCatalog();
    const advice = await askStylist(await stillOf(el.preview));
    state.advice = advice;
    showAdvice(el.advice, advice, {
      nameOf: (id) => state.itemsById.get(id)?.name ?? null,
      onTry: tryOn,
      onClose: () => { el.advice.hidden = true; },
    });
  } catch (err) {
    toast(`No suggestions: ${err.message}`);
  } finally {
    el.suggest.disabled = false;
    el.suggest.textContent = 'Suggest for me';
  }
}

/** Wears a suggested piece in place of what is worn at its site, at the site's default place. */
function tryOn(id) {
  const item = state.itemsById.get(id);
  if (!item) return;
  const added = { id: item.id, where: item.site };
  state.selected = specOf(added);
  state.section = item.site;
  wear([...state.worn.filter((p) => siteOf(p) !== item.site), added]);
}

// ---------------------------------------------------------------- snapshot, record, downloads

async function takeSnapshot() {
  el.snapshot.disabled = true;
  try {
    const reply = await send({ cmd: 'snapshot' });
    flashStage();
    const name = `tryon-${fileStamp()}.png`;
    downloadFile(reply.url, name);
    addDownload({ kind: 'snapshot', url: reply.url, name, expiresAt: reply.expires_at });
  } catch (err) {
    toast(err.message);
  } finally {
    el.snapshot.disabled = !state.session.live;
  }
}

function flashStage() {
  el.stage.classList.remove('flash');
  void el.stage.offsetWidth; // restart the animation
  el.stage.classList.add('flash');
}

function downloadFile(url, name) {
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
}

function addClip(clip) {
  addDownload({ kind: 'clip', url: clip.url, name: `tryon-${fileStamp()}.mp4`, expiresAt: clip.expires_at, durationS: clip.duration_s });
}

function updateRecordButton() {
  const { active, phase } = recording;
  if (phase === 'recording') {
    el.timer.textContent = `${formatDuration(Math.min(recording.elapsedS, recording.maxS))} / ${formatDuration(recording.maxS)}`;
  }
  el.record.setAttribute('aria-pressed', String(active));
  el.record.setAttribute('aria-label', active ? 'Stop recording' : 'Start recording');
  el.record.disabled = !state.session.live || phase === 'starting' || phase === 'stopping';
  el.timer.hidden = !active;
}

/** Lists a snapshot or clip with its download link, expiry and, where the device can share files, Share. */
function addDownload({ kind, url, name, expiresAt, durationS }) {
  const known = [...el.downloads.querySelectorAll('a[download]')].some((a) => a.getAttribute('href') === url);
  if (known) return;
  const isClip = kind === 'clip';
  const entry = document.createElement('li');
  entry.className = `download ${kind}`;

  let preview;
  if (isClip) {
    preview = textElement('span', 'clip-icon', '▶');
    preview.setAttribute('aria-hidden', 'true');
  } else {
    preview = document.createElement('img');
    preview.src = url;
    preview.alt = '';
  }

  const info = document.createElement('div');
  info.className = 'download-info';
  const title = isClip ? `Clip · ${Number(durationS ?? 0).toFixed(1)} s` : `Snapshot · ${formatClock(new Date())}`;
  const expiry = Date.parse(expiresAt);
  const expiryText = textElement('span', 'expiry',
    Number.isFinite(expiry) ? `link valid until ${formatUntil(new Date(expiry))}` : '');
  info.append(textElement('span', 'download-title', title), expiryText);

  const actions = document.createElement('div');
  actions.className = 'download-actions';
  const link = textElement('a', 'button', 'Download');
  link.href = url;
  link.download = name;
  link.setAttribute('aria-label', `Download ${title}`);
  actions.append(link);

  entry.append(preview, info, actions);
  el.downloads.prepend(entry);
  offerShare(actions, url, name, isClip ? 'My jewelry try-on clip' : 'My jewelry try-on');

  if (Number.isFinite(expiry)) {
    // setTimeout's limit is about 24.8 days; links expire far sooner.
    setTimeout(() => markExpired(entry, link, expiryText), Math.min(expiry - Date.now(), 2 ** 31 - 1));
  }
}

function markExpired(entry, link, expiryText) {
  entry.classList.add('expired');
  expiryText.textContent = 'link expired';
  link.removeAttribute('href');
  link.setAttribute('aria-disabled', 'true');
  entry.querySelector('.share')?.remove();
}

/**
 * Adds a Share button where the device can share this file. The file is fetched first so that the click
 * calls navigator.share straight away (browsers require that to happen right after the tap).
 */
async function offerShare(actions, url, name, title) {
  if (typeof navigator.canShare !== 'function') return;
  let file;
  try {
    const res = await fetch(url);
    if (!res.ok) return;
    const blob = await res.blob();
    file = new File([blob], name, { type: blob.type || (name.endsWith('.mp4') ? 'video/mp4' : 'image/png') });
  } catch {
    return; // no Share button; Download still works
  }
  if (!navigator.canShare({ files: [file] })) return;
  const button = textElement('button', 'button share', 'Share');
  button.type = 'button';
  button.setAttribute('aria-label', `Share ${title.toLowerCase()}`);
  button.addEventListener('click', () => {
    navigator.share({ files: [file], title }).catch((err) => {
      if (err.name !== 'AbortError') toast(`Could not share (${err.message}).`);
    });
  });
  actions.append(button);
}

// ---------------------------------------------------------------- wiring

function init() {
  el.stage.classList.toggle('mirrored', MIRROR);
  el.stage.dataset.source = 'local';
  el.errorAction.addEventListener('click', start);
  el.snapshot.addEventListener('click', takeSnapshot);
  el.record.addEventListener('click', () => recording.toggle());
  el.suggest.addEventListener('click', suggestForMe);
  el.compareToggle.addEventListener('change', onCompareChanged);
  el.compare.addEventListener('input', () => {
    el.compareToggle.checked = true; // moving the slider means "compare"
    onCompareChanged();
  });
  el.dividerHandle.addEventListener('pointerdown', (event) => {
    el.dividerHandle.setPointerCapture(event.pointerId);
  });
  el.dividerHandle.addEventListener('pointermove', dragDivider);
  for (const video of [el.preview, el.video]) video.addEventListener('resize', updateDivider);
  window.addEventListener('resize', updateDivider);
  // Free the server's seat when the page goes away; start over if it comes back from the back/forward cache.
  window.addEventListener('pagehide', () => teardown(state.session));
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) start();
  });
  renderVariants();
  startFpsMeter();
  start();
}

window.tryon = {
  get pc() { return state.session.pc; },
  get channel() { return state.session.channel; },
  send,
  get items() { return state.items; },
  /** What the page shows as worn: the specs ("id" or "id@where"), in the order sent to the server. */
  get worn() { return state.worn.map(specOf); },
  /** What the server last confirmed as worn, as specs. */
  get confirmed() { return state.confirmed.map(specOf); },
  get lastStats() { return state.lastStats; },
  /** The stylist's last advice (JSON of POST /api/advise), or undefined. */
  get advice() { return state.advice; },
  /** Resolves when the returned video plays and the control channel is open (per connection attempt). */
  get ready() { return state.session.ready; },
};

init();
