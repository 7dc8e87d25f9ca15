// The in-store kiosk mirror. The same live connection as the try-on page (live.js): the camera goes to the server,
// which draws the jewelry and sends the video back, shown mirrored and full-screen. Around it: big touch controls,
// the catalog with prices, the piece's facts (metal, stones, weight), and a QR code after each photo or video that
// opens a short-lived page on the customer's phone. With nobody in front an attract loop plays; once nobody has
// been seen or has touched the screen for a while, the kiosk resets for the next customer.

import {
  Recorder, ShownError, channelOpen, closeSession, connectLive, createSession, errorDetail, keepCamera, playRemote,
  readyToGoLive, sendCommand,
} from './live.js';
import { alsoText, familyCard, fetchCatalog, formatName, showOnCard, textElement, variantChoices } from './catalog.js';
import { formatUntil } from './format.js';
import { askStylist, showAdvice, stillOf } from './stylist.js';

const $ = (id) => document.getElementById(id);
const el = {
  stage: $('stage'),
  preview: $('preview'),
  video: $('video'),
  status: $('status'),
  piece: $('piece'),
  pieceName: $('piece-name'),
  piecePrice: $('piece-price'),
  pieceFacts: $('piece-facts'),
  pieceVariants: $('piece-variants'),
  handoff: $('handoff'),
  qr: $('qr'),
  handoffTitle: $('handoff-title'),
  handoffExpiry: $('handoff-expiry'),
  handoffClose: $('handoff-close'),
  snapshot: $('snapshot'),
  record: $('record'),
  recordLabel: $('record-label'),
  sections: $('sections'),
  strip: $('strip'),
  takes: $('takes'),
  privacy: $('privacy'),
  attract: $('attract'),
  attractImage: $('attract-image'),
  attractName: $('attract-name'),
  attractPrice: $('attract-price'),
  attractPrivacy: $('attract-privacy'),
  error: $('error'),
  errorMessage: $('error-message'),
  suggest: $('suggest'),
  advice: $('advice'),
};

const params = new URLSearchParams(location.search);
const TICK_MS = 250;
const RETRY_MS = 4000; // unattended: a lost connection or camera is retried by itself
const NOTICE_MS = 4000;
const ATTRACT_CYCLE_MS = 3500;
const SECTIONS = { ears: 'Earrings', neck: 'Necklaces', finger: 'Rings', wrist: 'Wrist' };

const state = {
  config: { attract_after_s: 8, reset_after_s: 60, link_ttl_s: 900 }, // from /api/kiosk
  catalogLoaded: false,
  items: [],
  itemsById: new Map(),
  families: new Map(), // family id -> {id, name, site, members, defaultItem}
  defaults: [], // item ids worn at first and after a reset
  worn: [], // item ids, each at its site's default place
  selected: null, // the id whose facts and variants are shown
  section: null,
  facts: new Map(), // item id -> Promise of its /api/items/{id} entry
  camera: null,
  session: createSession(),
  lastStats: null,
  lastSeen: performance.now(), // when the server last saw a face or a hand
  lastTouch: performance.now(),
  takes: [], // {kind, url, expiresAt, durationS}: this customer's photos and videos
  shown: null, // the take whose QR code is on screen
  resets: 0,
  attractIndex: 0,
  attractTimer: null,
};

const recording = new Recorder((command) => send(command), {
  onChange: updateRecordButton,
  onClip: (clip) => addTake({ kind: 'clip', url: clip.url, expiresAt: clip.expires_at, durationS: clip.duration_s }),
  onError: notice,
});

// ---------------------------------------------------------------- formatting

const pad2 = (n) => String(n).padStart(2, '0');
const formatDuration = (s) => `${pad2(Math.floor(s / 60))}:${pad2(Math.floor(s % 60))}`;
const unique = (values) => [...new Set(values)];

function formatPrice(price) {
  if (!price || !Number.isFinite(price.amount)) return '';
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: price.currency || 'USD', maximumFractionDigits: 0 })
      .format(price.amount);
  } catch {
    return `${Math.round(price.amount)} ${price.currency ?? ''}`.trim();
  }
}

/** "15 minutes", "1 minute", "2 hours", "30 seconds". */
function formatSpan(seconds) {
  const [value, unit] = seconds >= 7200 ? [seconds / 3600, 'hour'] : seconds >= 60 ? [seconds / 60, 'minute'] : [seconds, 'second'];
  const n = Math.round(value);
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

let noticeTimer = null;
function setStatus(text, kind) {
  clearTimeout(noticeTimer);
  el.status.textContent = text;
  el.status.dataset.state = kind;
  el.status.hidden = !text;
}

function notice(text) {
  setStatus(text, 'notice');
  noticeTimer = setTimeout(() => setStatus('', 'live'), NOTICE_MS);
}

// ---------------------------------------------------------------- orientation

// Laid out for the screen's shape (portrait: the mirror above the catalog; landscape: the catalog beside it),
// unless the kiosk was started with --portrait or --landscape (?layout=).
const forcedLayout = ['portrait', 'landscape'].includes(params.get('layout')) ? params.get('layout') : null;
const portraitQuery = window.matchMedia('(orientation: portrait)');

function applyOrientation() {
  document.documentElement.dataset.orientation = forcedLayout ?? (portraitQuery.matches ? 'portrait' : 'landscape');
}

// ---------------------------------------------------------------- catalog, worn pieces, facts

async function ensureCatalog() {
  if (state.catalogLoaded) return;
  const [catalog, config] = await Promise.all([fetchCatalog(), fetchConfig()]);
  state.config = config;
  state.items = catalog.items;
  state.itemsById = catalog.itemsById;
  state.families = catalog.families;
  const requested = params.has('items') ? params.get('items').split(',').map((s) => s.trim()) : catalog.defaults;
  state.defaults = requested.filter((id) => state.itemsById.has(id));
  state.catalogLoaded = true;
  showPrivacy();
  startOver();
}

/** The kiosk's settings: attract and reset times, the links' lifetime. */
async function fetchConfig() {
  try {
    const res = await fetch('/api/kiosk');
    if (!res.ok) throw new Error(await errorDetail(res));
    return await res.json();
  } catch (err) {
    throw new ShownError(`Could not load the mirror's settings (${err.message}).`);
  }
}

const itemOf = (id) => state.itemsById.get(id);

/** The screen as a new customer finds it: the default pieces, their section, nothing taken. */
function startOver() {
  el.advice.hidden = true; // the last customer's suggestions go with them
  el.advice.replaceChildren();
  state.worn = [...state.defaults];
  state.selected = state.worn[0] ?? null;
  state.section = itemOf(state.selected)?.site ?? state.families.values().next().value?.site ?? null;
  clearTakes();
  renderCatalog();
  renderPiece();
}

function renderCatalog() {
  const sites = unique([...state.families.values()].map((f) => f.site))
    .sort((a, b) => (Object.keys(SECTIONS).indexOf(a) + 1 || 99) - (Object.keys(SECTIONS).indexOf(b) + 1 || 99));
  el.sections.replaceChildren(...sites.map((site) => {
    const tab = textElement('button', 'section-tab', SECTIONS[site] ?? formatName(site));
    tab.type = 'button';
    tab.dataset.section = site;
    tab.addEventListener('click', () => {
      state.section = site;
      updateCatalog();
      el.strip.scrollTo({ top: 0, left: 0 });
    });
    return tab;
  }));
  el.sections.hidden = sites.length < 2;
  el.strip.replaceChildren(...[...state.families.values()].map(
    (family) => familyCard(family, toggleFamily, textElement('span', 'card-price', '')),
  ));
  updateCatalog();
}

/** Cards show the worn member of their family, else its default member, with that piece's price. */
function updateCatalog() {
  const wornItems = state.worn.map(itemOf);
  for (const card of el.strip.querySelectorAll('.card')) {
    const family = state.families.get(card.dataset.family);
    const shown = showOnCard(card, family, wornItems);
    card.querySelector('.card-price').textContent = formatPrice(shown.price);
    card.hidden = !el.sections.hidden && family.site !== state.section;
  }
  for (const tab of el.sections.querySelectorAll('.section-tab')) {
    tab.setAttribute('aria-pressed', String(tab.dataset.section === state.section));
  }
}

/** Tapped: taken off if worn, else worn in place of the piece at its site (one piece per site at the kiosk). */
function toggleFamily(family) {
  const worn = state.worn.find((id) => itemOf(id)?.family === family.id);
  if (worn) {
    wear(state.worn.filter((id) => id !== worn), state.worn.find((id) => id !== worn) ?? null);
  } else {
    const item = family.defaultItem;
    wear([...state.worn.filter((id) => itemOf(id)?.site !== item.site), item.id], item.id);
  }
}

/** One still of the mirror's camera to the stylist; its suggestions shown with one-tap "Try on". */
async function suggestForMe() {
  el.suggest.disabled = true;
  el.suggest.textContent = 'Looking…';
  try {
    const advice = await askStylist(await stillOf(el.preview));
    showAdvice(el.advice, advice, {
      nameOf: (id) => state.itemsById.get(id)?.name ?? null,
      onTry: (id) => {
        const item = state.itemsById.get(id);
        if (item) wear([...state.worn.filter((w) => itemOf(w)?.site !== item.site), id], id);
      },
      onClose: () => { el.advice.hidden = true; },
    });
  } catch (err) {
    notice(`No suggestions: ${err.message}`);
  } finally {
    el.suggest.disabled = false;
    el.suggest.textContent = 'Suggest for me';
  }
}

/** Shows the set at once; the server's reply confirms it (or puts back what it wears). */
function wear(ids, selected = state.selected) {
  state.worn = ids;
  state.selected = selected;
  updateCatalog();
  renderPiece();
  if (channelOpen(state.session)) send({ cmd: 'set_items', items: ids }).catch((err) => notice(err.message));
}

/** Keeps the pieces in step with the server's replies, whoever sent the command. */
function onReply(command, reply) {
  if (!reply.ok || !Array.isArray(reply.items)) return;
  const ids = reply.items.map((spec) => spec.split('@')[0]);
  if (command.cmd === 'set_variant' && reply.item) state.selected = reply.item;
  if (!ids.includes(state.selected)) state.selected = ids.at(-1) ?? null;
  state.worn = ids;
  updateCatalog();
  renderPiece();
}

function factsOf(id) {
  if (!state.facts.has(id)) {
    const promise = fetch(`/api/items/${encodeURIComponent(id)}`).then((res) => (res.ok ? res.json() : null)).catch(() => null);
    state.facts.set(id, promise);
  }
  return state.facts.get(id);
}

/** The selected piece: its name, price, metal, stones and weight (from the catalog's facts), its metal and size chips. */
async function renderPiece() {
  const item = itemOf(state.selected);
  el.piece.hidden = !item;
  if (!item) return;
  el.pieceName.textContent = item.name;
  el.piecePrice.textContent = formatPrice(item.price) + (item.site === 'ears' ? ' the pair' : '');
  el.piece.dataset.item = item.id;
  renderVariants(item);
  const entry = await factsOf(item.id);
  if (state.selected !== item.id) return; // another piece was chosen meanwhile
  const rows = entry?.facts ? factRows(item, entry.facts) : [];
  el.pieceFacts.replaceChildren(...rows.flatMap(([term, value]) => [textElement('dt', '', term), textElement('dd', '', value)]));
}

/** [[term, value]]: the metal (its alloy's short name), each kind of stone, the weight. */
function factRows(item, facts) {
  const rows = [];
  if (facts.alloy) rows.push(['Metal', facts.alloy.split(',')[0]]);
  else if (item.metal) rows.push(['Metal', formatName(item.metal)]);
  const stones = (facts.stones ?? []).map((s) => {
    const size = Number.isFinite(s.diameter_mm) ? ` ${s.diameter_mm.toFixed(1).replace(/\.0$/, '')} mm` : '';
    const carats = Number.isFinite(s.carat_total) && s.carat_total > 0 ? `, ${s.carat_total.toFixed(2)} ct` : '';
    return `${s.count} × ${formatName(s.name).toLowerCase()}${size}${carats}`;
  });
  if (stones.length) rows.push([stones.length > 1 ? 'Stones' : 'Stone', stones.join(' · ')]);
  if (Number.isFinite(facts.total_weight_g)) {
    rows.push(['Weight', `${facts.total_weight_g.toFixed(1)} g${item.site === 'ears' ? ' each' : ''}`]);
  }
  return rows;
}

/** Metal and size chips for the selected piece's family (the server's choices: a chip that changes more than its
 * own value says what). */
function renderVariants(item) {
  const groups = [];
  const metals = variantChoices(item, 'metal');
  if (metals.length > 1) groups.push(chips('metal', metals, item.metal, formatName));
  const sizes = variantChoices(item, 'size_mm');
  if (sizes.length > 1) groups.push(chips('size_mm', sizes, item.size_mm, (mm) => `${mm} mm`));
  el.pieceVariants.replaceChildren(...groups);
}

function chips(arg, choices, current, format) {
  const group = document.createElement('div');
  group.className = 'chips';
  group.setAttribute('role', 'group');
  group.setAttribute('aria-label', arg === 'metal' ? 'Metal' : 'Size');
  for (const { value, also } of choices) {
    const chip = textElement('button', 'chip', format(value));
    const more = alsoText(also);
    if (more) {
      chip.classList.add('changes-more');
      chip.append(textElement('span', 'chip-also', ` · ${more}`));
    }
    chip.type = 'button';
    chip.dataset[arg === 'metal' ? 'metal' : 'size'] = String(value);
    chip.setAttribute('aria-pressed', String(value === current));
    chip.addEventListener('click', () => {
      if (value === current) return;
      const site = itemOf(state.selected)?.site;
      send({ cmd: 'set_variant', site, [arg]: value }).catch((err) => notice(err.message));
    });
    group.append(chip);
  }
  return group;
}

// ---------------------------------------------------------------- photos, videos and the phone hand-off

async function takeSnapshot() {
  el.snapshot.disabled = true;
  try {
    const reply = await send({ cmd: 'snapshot' });
    flash();
    addTake({ kind: 'snapshot', url: reply.url, expiresAt: reply.expires_at });
  } catch (err) {
    notice(err.message);
  } finally {
    el.snapshot.disabled = !state.session.live;
  }
}

function flash() {
  el.stage.classList.remove('flash');
  void el.stage.offsetWidth; // restart the animation
  el.stage.classList.add('flash');
}

function updateRecordButton() {
  const { active, phase } = recording;
  el.record.setAttribute('aria-pressed', String(active));
  el.recordLabel.textContent = active ? `Stop ${formatDuration(Math.min(recording.elapsedS, recording.maxS))}` : 'Video';
  el.record.disabled = !state.session.live || phase === 'starting' || phase === 'stopping';
}

/** This customer's photo or video: listed, and its QR code shown. */
function addTake(take) {
  if (state.takes.some((t) => t.url === take.url)) return;
  state.takes.push(take);
  const expiry = Date.parse(take.expiresAt);
  if (Number.isFinite(expiry)) {
    take.expiryTimer = setTimeout(() => removeTake(take), Math.min(expiry - Date.now(), 2 ** 31 - 1));
  }
  renderTakes();
  showHandoff(take);
}

function removeTake(take) {
  clearTimeout(take.expiryTimer);
  state.takes = state.takes.filter((t) => t !== take);
  if (state.shown === take) hideHandoff();
  renderTakes();
}

function clearTakes() {
  for (const take of state.takes) clearTimeout(take.expiryTimer);
  state.takes = [];
  hideHandoff();
  renderTakes();
}

function renderTakes() {
  el.takes.hidden = state.takes.length === 0;
  el.takes.replaceChildren(...state.takes.map((take) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = `take ${take.kind}`;
    button.dataset.url = take.url;
    button.setAttribute('aria-label', take.kind === 'clip' ? 'Show the code for your video' : 'Show the code for your photo');
    if (take.kind === 'clip') {
      button.append(textElement('span', 'take-icon', '▶'));
    } else {
      const img = document.createElement('img');
      img.src = take.url;
      img.alt = '';
      button.append(img);
    }
    button.addEventListener('click', () => showHandoff(take));
    return button;
  }));
}

function showHandoff(take) {
  state.shown = take;
  el.qr.src = `${take.url}/qr.svg`;
  el.handoff.dataset.url = take.url;
  el.handoffTitle.textContent = take.kind === 'clip' ? 'Your video is ready' : 'Your photo is ready';
  const expiry = new Date(take.expiresAt);
  el.handoffExpiry.textContent = Number.isNaN(expiry.getTime()) ? ''
    : `The link works until ${formatUntil(expiry)} (${formatSpan(state.config.link_ttl_s)}), then it is deleted.`;
  el.handoff.hidden = false;
}

function hideHandoff() {
  state.shown = null;
  el.handoff.hidden = true;
  el.qr.removeAttribute('src');
}

function showPrivacy() {
  const span = formatSpan(state.config.link_ttl_s);
  const text = 'Privacy: the camera picture is processed live and never stored. Photos and videos you take are '
    + `kept only for your phone link, for ${span}, then deleted; they leave this screen when you do.`;
  el.privacy.textContent = text;
  el.attractPrivacy.textContent = text;
}

// ---------------------------------------------------------------- attract loop and reset

/** Someone is there while the server sees a face or a hand, or the screen was touched lately. */
function tick() {
  const now = performance.now();
  const idleS = (now - Math.max(state.lastSeen, state.lastTouch)) / 1000;
  setAttract(idleS >= state.config.attract_after_s);
  if (idleS >= state.config.reset_after_s && needsReset()) resetForNextCustomer();
}

function setAttract(on) {
  if (on === !el.attract.hidden) return;
  el.attract.hidden = !on;
  document.documentElement.dataset.attract = String(on);
  clearInterval(state.attractTimer);
  if (on) {
    showAttractPiece();
    state.attractTimer = setInterval(showAttractPiece, ATTRACT_CYCLE_MS);
  }
}

/** The attract loop goes through the catalog, one family at a time. */
function showAttractPiece() {
  const families = [...state.families.values()];
  if (!families.length) return;
  const item = families[state.attractIndex % families.length].defaultItem;
  state.attractIndex += 1;
  el.attractImage.src = item.thumbnail;
  el.attractName.textContent = state.families.get(item.family).name;
  el.attractPrice.textContent = formatPrice(item.price) ? `from ${formatPrice(lowestPrice(item.family))}` : '';
  el.attractImage.parentElement.classList.remove('enter');
  void el.attractImage.offsetWidth; // restart the animation
  el.attractImage.parentElement.classList.add('enter');
}

function lowestPrice(familyId) {
  const prices = state.families.get(familyId).members.map((m) => m.price).filter((p) => Number.isFinite(p?.amount));
  return prices.reduce((low, p) => (p.amount < low.amount ? p : low), prices[0]);
}

function needsReset() {
  const changed = state.worn.join(',') !== state.defaults.join(',') || state.selected !== (state.defaults[0] ?? null);
  return changed || state.takes.length > 0 || recording.phase !== 'idle' || !el.handoff.hidden;
}

/**
 * The next customer's turn: the screen forgets the last one's photos, videos and pieces at once; the server
 * drops a recording, revokes the links no phone opened and puts the default pieces back.
 */
let resetting = false;
async function resetForNextCustomer() {
  if (resetting) return;
  resetting = true;
  recording.reset();
  startOver();
  try {
    if (channelOpen(state.session)) await send({ cmd: 'reset' });
  } catch {
    // A session that is gone took its links with it; the next one starts clean.
  } finally {
    state.resets += 1;
    resetting = false;
  }
}

function onActivity() {
  state.lastTouch = performance.now();
  tick();
}

// ---------------------------------------------------------------- connection

const send = (command) => sendCommand(state.session, command);

function onEvent(message) {
  if (message.event === 'stats') {
    state.lastStats = message;
    if (message.face || message.hand_count > 0) state.lastSeen = performance.now();
    tick();
  } else if (message.event === 'clip') {
    recording.finished(message);
  } else if (message.event === 'closed') {
    fail(state.session, `The mirror stopped: ${message.reason}.`);
  }
}

async function start() {
  if (state.session.closed) state.session = createSession();
  const session = state.session;
  el.error.hidden = true;
  try {
    setStatus('Starting the mirror…', 'connecting');
    await Promise.all([ensureCamera(), ensureCatalog()]);
    await connect(session);
  } catch (err) {
    fail(session, err instanceof ShownError ? err.message : `Could not connect (${err.message}).`);
  }
}

async function ensureCamera() {
  state.camera = await keepCamera(state.camera, el.preview, () => fail(state.session, 'The camera stopped.'));
}

async function connect(session) {
  session.offeredKey = state.worn.join(',');
  await connectLive(session, state.camera, { items: state.worn, kiosk: true }, {
    onOpen: () => {
      if (state.worn.join(',') !== session.offeredKey) wear(state.worn); // changed while the offer was on its way
      maybeLive(session);
    },
    onVideo: (stream) => playRemote(session, el.video, stream, () => {
      el.stage.dataset.source = 'remote';
      maybeLive(session);
    }),
    onEvent,
    onReply,
    onLost: () => fail(session, 'The connection to the mirror was lost.'),
  });
}

function maybeLive(session) {
  if (!readyToGoLive(session)) return;
  session.live = true;
  setStatus('', 'live');
  el.snapshot.disabled = false;
  updateRecordButton();
  session.resolveReady();
}

/** Unattended: the message shows, and the kiosk tries again by itself. */
function fail(session, message) {
  if (session !== state.session || session.closed) return;
  session.rejectReady(new Error(message));
  closeSession(session);
  el.stage.dataset.source = 'local';
  el.video.srcObject = null;
  el.snapshot.disabled = true;
  recording.reset();
  setStatus('', 'error');
  el.errorMessage.textContent = message;
  el.error.hidden = false;
  setTimeout(start, RETRY_MS);
}

// ---------------------------------------------------------------- wiring

function init() {
  applyOrientation();
  portraitQuery.addEventListener('change', applyOrientation);
  el.stage.dataset.source = 'local';
  el.snapshot.addEventListener('click', takeSnapshot);
  el.record.addEventListener('click', () => recording.toggle());
  el.suggest.addEventListener('click', suggestForMe);
  el.handoffClose.addEventListener('click', hideHandoff);
  // Any touch is someone there: the attract loop gives way at once.
  for (const type of ['pointerdown', 'keydown']) window.addEventListener(type, onActivity, { capture: true });
  window.addEventListener('contextmenu', (event) => event.preventDefault()); // long presses on a touch screen
  window.addEventListener('pagehide', () => closeSession(state.session));
  setInterval(tick, TICK_MS);
  start();
}

window.kiosk = {
  get ready() { return state.session.ready; },
  get channel() { return state.session.channel; },
  send,
  get config() { return state.config; },
  get lastStats() { return state.lastStats; },
  /** The item ids worn, as the page shows them. */
  get worn() { return [...state.worn]; },
  get defaults() { return [...state.defaults]; },
  /** This customer's photos and videos: {kind: snapshot | clip, url, expiresAt}. */
  get takes() { return state.takes.map(({ kind, url, expiresAt }) => ({ kind, url, expiresAt })); },
  get resets() { return state.resets; },
};

init();
