// Live jewelry try-on.
// The camera goes to the server over WebRTC; the server draws the jewelry on every frame and sends the video
// back, which is shown mirrored. A data channel named "control" carries JSON commands (wear, variants,
// before/after, snapshot, record, ping) and the server's events (stats, clip).

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
  variants: $('variants'),
  compareToggle: $('compare-toggle'),
  compare: $('compare'),
  downloads: $('downloads'),
  toast: $('toast'),
};

const params = new URLSearchParams(location.search);
const MIRROR = params.get('nomirror') !== '1';

const CAMERA_CONSTRAINTS = {
  video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
  audio: false,
};
const ICE_GATHERING_TIMEOUT_MS = 3000;
const COMMAND_TIMEOUT_MS = 30000;
const PING_INTERVAL_MS = 2000;
const COMPARE_THROTTLE_MS = 50; // about 20 compare commands a second while dragging
const DISCONNECT_GRACE_MS = 5000; // ICE may recover from "disconnected" by itself
const CLIP_WAIT_S = 30; // how long after max_s we wait for the server's clip event
const DEFAULT_MAX_RECORD_S = 30;
const TOAST_MS = 4000;

// Colours for the metal and stone chips' swatches; unknown names get no swatch.
const SWATCHES = {
  yellow_gold: 'linear-gradient(135deg, #fbe7a1, #c99a2e)',
  rose_gold: 'linear-gradient(135deg, #f6cdbb, #b76e58)',
  white_gold: 'linear-gradient(135deg, #ffffff, #c9cbc4)',
  silver: 'linear-gradient(135deg, #f4f6f8, #9ea4aa)',
  platinum: 'linear-gradient(135deg, #fbfbfc, #b5b9bf)',
  diamond: 'radial-gradient(circle at 35% 35%, #ffffff, #cfe3ff)',
  ruby: 'radial-gradient(circle at 35% 35%, #ff6b81, #9b0f28)',
  sapphire: 'radial-gradient(circle at 35% 35%, #6d9bff, #15307d)',
  emerald: 'radial-gradient(circle at 35% 35%, #61e29a, #0d6b38)',
  amethyst: 'radial-gradient(circle at 35% 35%, #c79bff, #5d2a91)',
};

/** An error whose message is already written for the shopper. */
class ShownError extends Error {}

const state = {
  catalogLoaded: false,
  items: [], // as served by /api/items
  itemsById: new Map(),
  families: new Map(), // family id -> {id, name, site, members, defaultItem}
  worn: {}, // {site: item id}, what the page shows as worn
  confirmed: {}, // {site: item id}, what the server last confirmed
  selectedSite: null, // the site whose piece the variant chips edit
  lastStats: null,
  camera: null, // the local MediaStream, kept across reconnects
  session: createSession(),
};

const recording = { phase: 'idle', startedAt: 0, maxS: DEFAULT_MAX_RECORD_S, timer: null };

// ---------------------------------------------------------------- small helpers

function formatName(name) {
  const words = String(name).replace(/[_-]+/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const formatSize = (mm) => `${mm} mm`;
const pad2 = (n) => String(n).padStart(2, '0');
const formatClock = (date) => `${pad2(date.getHours())}:${pad2(date.getMinutes())}`;

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
const wornKey = (ids) => [...ids].sort().join(',');

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

function playVideo(video) {
  // Autoplay of muted video is allowed everywhere; a rejection here only means "not yet".
  video.play().catch(() => {});
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
  let data;
  try {
    const res = await fetch('/api/items');
    if (!res.ok) throw new Error(await errorDetail(res));
    data = await res.json();
  } catch (err) {
    throw new ShownError(`Could not load the jewelry catalog (${err.message}). Please try again.`);
  }
  state.items = data.items;
  state.itemsById = new Map(data.items.map((item) => [item.id, item]));
  state.families = groupFamilies(data.items, data.default ?? []);
  state.catalogLoaded = true;
  const worn = initialWorn(data.default ?? []);
  state.selectedSite = Object.keys(worn)[0] ?? null;
  renderCatalog();
  applyWorn(worn);
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

/** Items from `?items=a,b` (unknown ids are ignored with a notice), else the server's defaults. */
function initialWorn(defaultIds) {
  const requested = params.has('items')
    ? params.get('items').split(',').map((id) => id.trim()).filter(Boolean)
    : defaultIds;
  const unknown = requested.filter((id) => !state.itemsById.has(id));
  if (unknown.length) toast(`Not in the catalog, ignored: ${unknown.join(', ')}`);
  return wornFromIds(requested);
}

/** {site: id} from a list of ids; a later id replaces an earlier one at the same site. */
function wornFromIds(ids) {
  const worn = {};
  for (const id of ids) {
    const item = state.itemsById.get(id);
    if (item) worn[item.site] = id;
  }
  return worn;
}

function wornMemberOf(family) {
  const item = state.itemsById.get(state.worn[family.site]);
  return item?.family === family.id ? item : null;
}

function renderCatalog() {
  const cards = [...state.families.values()].map((family) => {
    const card = document.createElement('button');
    card.type = 'button';
    card.className = 'card';
    card.dataset.family = family.id;
    const img = document.createElement('img');
    img.alt = '';
    img.decoding = 'async';
    const label = document.createElement('span');
    label.className = 'card-name';
    label.textContent = family.name;
    card.append(img, label);
    card.addEventListener('click', () => toggleFamily(family));
    return card;
  });
  el.catalog.replaceChildren(...cards);
}

/** Cards show the worn member when their family is worn, else the family's default member. */
function updateCatalog() {
  for (const card of el.catalog.querySelectorAll('.card')) {
    const family = state.families.get(card.dataset.family);
    const worn = wornMemberOf(family);
    const shown = worn ?? family.defaultItem;
    card.dataset.item = shown.id;
    card.setAttribute('aria-pressed', String(Boolean(worn)));
    const img = card.querySelector('img');
    if (img.getAttribute('src') !== shown.thumbnail) img.src = shown.thumbnail;
  }
}

function applyWorn(worn) {
  state.worn = worn;
  updateCatalog();
  renderVariants();
}

/** Wear the family's default member at its site, or take it off if that family is already worn there. */
function toggleFamily(family) {
  const worn = { ...state.worn };
  if (wornMemberOf(family)) {
    delete worn[family.site];
  } else {
    worn[family.site] = family.defaultItem.id;
    state.selectedSite = family.site;
  }
  wear(worn);
}

/**
 * Shows the new set at once; the server's reply confirms it, or it is rolled back to the last confirmed set.
 * Before the channel is open the set is only kept here: it goes with the offer or is synced on open.
 */
function wear(worn) {
  applyWorn(worn);
  if (channelOpen(state.session)) {
    send({ cmd: 'set_items', items: Object.values(worn) }).catch((err) => toast(err.message));
  }
}

// ---------------------------------------------------------------- variant chips

/** The site the chips edit: the selected one while something is worn there, else any worn site. */
function currentSite() {
  if (state.selectedSite in state.worn) return state.selectedSite;
  return Object.keys(state.worn)[0] ?? null;
}

function renderVariants() {
  const focusSelector = selectorFor(document.activeElement);
  const site = currentSite();
  const item = state.itemsById.get(state.worn[site]);
  if (!item) {
    el.variants.replaceChildren(textElement('p', 'variants-note', 'Tap a piece above to try it on.'));
    return;
  }
  const members = state.families.get(item.family).members;
  const stones = unique(members.map((m) => m.stone).filter(Boolean));
  const sizes = unique(members.map((m) => m.size_mm).filter(Number.isFinite)).sort((a, b) => a - b);
  const parts = [];
  if (Object.keys(state.worn).length > 1) parts.push(siteTabs(site));
  parts.push(textElement('p', 'item-name', item.name));
  parts.push(chipGroup(site, { label: 'Metal', attr: 'metal', arg: 'metal', values: unique(members.map((m) => m.metal)), current: item.metal, format: formatName }));
  if (stones.length) {
    parts.push(chipGroup(site, { label: 'Stone', attr: 'stone', arg: 'stone', values: stones, current: item.stone, format: formatName }));
  }
  if (sizes.length) {
    parts.push(chipGroup(site, { label: 'Size', attr: 'size', arg: 'size_mm', values: sizes, current: item.size_mm, format: formatSize }));
  }
  el.variants.replaceChildren(...parts);
  // Re-rendering replaces the buttons; keep keyboard focus on the equivalent one.
  if (focusSelector) el.variants.querySelector(focusSelector)?.focus();
}

/** A selector that finds the re-rendered twin of a focused chip or site tab, or null. */
function selectorFor(element) {
  if (!el.variants.contains(element)) return null;
  for (const attr of ['metal', 'stone', 'size', 'site']) {
    if (element.dataset[attr] !== undefined) return `[data-${attr}="${CSS.escape(element.dataset[attr])}"]`;
  }
  return null;
}

function textElement(tag, className, text) {
  const element = document.createElement(tag);
  element.className = className;
  element.textContent = text;
  return element;
}

/** With pieces on several sites, tabs choose which one the chips edit. */
function siteTabs(currentSiteName) {
  const tabs = document.createElement('div');
  tabs.className = 'site-tabs';
  tabs.setAttribute('role', 'group');
  tabs.setAttribute('aria-label', 'Piece to adjust');
  for (const site of Object.keys(state.worn)) {
    const tab = textElement('button', 'site-tab', formatName(site));
    tab.type = 'button';
    tab.dataset.site = site;
    tab.setAttribute('aria-pressed', String(site === currentSiteName));
    tab.addEventListener('click', () => {
      state.selectedSite = site;
      renderVariants();
    });
    tabs.append(tab);
  }
  return tabs;
}

function chipGroup(site, { label, attr, arg, values, current, format }) {
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
    chip.addEventListener('click', () => {
      if (value !== current) chooseVariant(site, arg, value);
    });
    group.append(chip);
  }
  return group;
}

function chooseVariant(site, arg, value) {
  send({ cmd: 'set_variant', site, [arg]: value }).catch((err) => toast(err.message));
}

// ---------------------------------------------------------------- control channel

function channelOpen(session) {
  return session.channel?.readyState === 'open';
}

/** Sends a command; resolves with the reply, rejects with the server's message when ok is false. */
function send(command) {
  const session = state.session;
  if (!channelOpen(session)) return Promise.reject(new Error('Not connected yet – please wait a moment.'));
  const id = session.nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.pending.delete(id);
      reject(new Error(`The server did not answer (${command.cmd}).`));
    }, COMMAND_TIMEOUT_MS);
    session.pending.set(id, { command, resolve, reject, timer });
    session.channel.send(JSON.stringify({ ...command, id }));
  });
}

function onChannelMessage(session, event) {
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    return; // not ours to interpret
  }
  if (message.event) {
    handleServerEvent(message);
    return;
  }
  const entry = session.pending.get(message.id);
  if (!entry) return;
  session.pending.delete(message.id);
  clearTimeout(entry.timer);
  trackWorn(entry.command, message);
  if (message.ok) entry.resolve(message);
  else entry.reject(new Error(message.error || 'The server could not do that.'));
}

/** Keeps the worn pieces in step with what the server confirmed or refused, whoever sent the command. */
function trackWorn(command, reply) {
  if (command.cmd === 'set_items') {
    if (reply.ok) {
      state.confirmed = wornFromIds(command.items);
      applyWorn(state.confirmed);
    } else {
      applyWorn(state.confirmed);
    }
  } else if (command.cmd === 'set_variant' && reply.ok && reply.item) {
    state.confirmed = { ...state.confirmed, [command.site]: reply.item };
    applyWorn({ ...state.worn, [command.site]: reply.item });
  }
}

function handleServerEvent(message) {
  if (message.event === 'stats') showStats(message);
  else if (message.event === 'clip') clipReady(message);
}

// ---------------------------------------------------------------- connection

function createSession() {
  let resolveReady;
  let rejectReady;
  const ready = new Promise((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => {}); // failures are shown on the page; whoever awaits `ready` still sees them
  return {
    pc: null,
    channel: null,
    ready,
    resolveReady,
    rejectReady,
    nextId: 1,
    pending: new Map(), // command id -> {command, resolve, reject, timer}
    offeredKey: '', // the worn set sent with the offer
    videoPlaying: false,
    live: false,
    closed: false,
    rtt: null,
    intervals: [],
  };
}

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
  if (state.camera?.getVideoTracks().some((track) => track.readyState === 'live')) return;
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new ShownError(window.isSecureContext
      ? "This browser can't use the camera. Please open the page in a current Chrome, Firefox or Safari."
      : 'The camera only works on a secure page. Please open this page over https:// (or on localhost).');
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia(CAMERA_CONSTRAINTS);
  } catch (err) {
    throw new ShownError(cameraErrorMessage(err));
  }
  state.camera = stream;
  for (const track of stream.getVideoTracks()) {
    track.addEventListener('ended', () => fail(state.session,
      'The camera stopped. Check that it is connected and not used by another app, then try again.'));
  }
  el.preview.srcObject = stream;
  playVideo(el.preview);
}

function cameraErrorMessage(err) {
  switch (err.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Camera access is blocked. Allow the camera for this site (the camera icon in the address bar, '
        + "or your browser's site settings), then try again.";
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found. Connect a camera, then try again.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera is in use or not working. Close other apps that use it, then try again.';
    default:
      return `The camera could not start (${err.message || err.name}).`;
  }
}

async function connect(session) {
  setStatus('connecting');
  const pc = new RTCPeerConnection();
  session.pc = pc;
  for (const track of state.camera.getVideoTracks()) pc.addTrack(track, state.camera);

  // The channel must exist before the offer so that the offer negotiates it.
  const channel = pc.createDataChannel('control');
  session.channel = channel;
  channel.addEventListener('open', () => onChannelOpen(session));
  channel.addEventListener('message', (event) => onChannelMessage(session, event));
  channel.addEventListener('close', () => fail(session, 'The connection to the try-on server closed.', 'Reconnect'));
  pc.addEventListener('track', (event) => showRemoteVideo(session, event));
  watchConnectionState(session);

  await pc.setLocalDescription(await pc.createOffer());
  await waitForIceGathering(pc);
  if (session.closed) return;
  const items = Object.values(state.worn);
  session.offeredKey = wornKey(items);
  const answer = await postOffer(pc.localDescription.sdp, items);
  if (session.closed) return;
  await pc.setRemoteDescription({ type: answer.type, sdp: answer.sdp });
  state.confirmed = wornFromIds(items);
}

/** Resolves when ICE gathering is complete (the offer then carries every candidate), or after a timeout. */
function waitForIceGathering(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onChange);
      resolve();
    };
    const onChange = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, ICE_GATHERING_TIMEOUT_MS);
    pc.addEventListener('icegatheringstatechange', onChange);
  });
}

async function postOffer(sdp, items) {
  let res;
  try {
    res = await fetch('/api/offer', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sdp, type: 'offer', items }),
    });
  } catch {
    throw new ShownError('Could not reach the try-on server. Check your connection, then try again.');
  }
  if (res.status === 503) throw new ShownError('All try-on seats are busy, please try again in a moment');
  if (!res.ok) throw new ShownError(await errorDetail(res));
  return res.json();
}

/** The `detail` of an error response, or a plain description of the status. */
async function errorDetail(res) {
  try {
    const body = await res.json();
    if (typeof body.detail === 'string') return body.detail;
  } catch {
    // not JSON: fall through
  }
  return `the server answered ${res.status} ${res.statusText}`.trim();
}

function showRemoteVideo(session, event) {
  if (session.closed || event.track.kind !== 'video') return;
  el.video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
  el.video.addEventListener('playing', () => {
    if (session.closed) return;
    session.videoPlaying = true;
    el.stage.dataset.source = 'remote';
    watchDisplayedFrames();
    updateDivider();
    maybeLive(session);
  }, { once: true });
  playVideo(el.video);
}

function onChannelOpen(session) {
  // The pieces may have changed while the offer was on its way.
  if (wornKey(Object.values(state.worn)) !== session.offeredKey) wear(state.worn);
  if (el.compareToggle.checked) sendCompare();
  maybeLive(session);
}

function maybeLive(session) {
  if (session.live || session.closed || !session.videoPlaying || !channelOpen(session)) return;
  session.live = true;
  setStatus('live');
  el.snapshot.disabled = false;
  updateRecordButton();
  startPing(session);
  session.resolveReady();
}

function watchConnectionState(session) {
  const { pc } = session;
  let graceTimer = null;
  const onChange = () => {
    const connection = pc.connectionState ?? pc.iceConnectionState; // older Firefox has only the latter
    clearTimeout(graceTimer);
    if (connection === 'failed' || connection === 'closed') {
      fail(session, 'The connection to the try-on server was lost.', 'Reconnect');
    } else if (connection === 'disconnected') {
      setStatus('reconnecting', 'connecting');
      graceTimer = setTimeout(
        () => fail(session, 'The connection to the try-on server was lost.', 'Reconnect'),
        DISCONNECT_GRACE_MS,
      );
    } else if (connection === 'connected' && session.live) {
      setStatus('live');
    }
  };
  pc.addEventListener('connectionstatechange', onChange);
  pc.addEventListener('iceconnectionstatechange', onChange);
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
  session.closed = true;
  session.live = false;
  session.intervals.forEach(clearInterval);
  for (const entry of session.pending.values()) {
    clearTimeout(entry.timer);
    entry.reject(new Error('The connection closed.'));
  }
  session.pending.clear();
  session.channel?.close();
  session.pc?.close();
  el.stage.dataset.source = 'local';
  el.video.srcObject = null;
  el.snapshot.disabled = true;
  el.hint.hidden = true;
  resetRecording();
  showMetrics();
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
  el.hint.hidden = stats.face !== false;
  showMetrics();
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

function toggleRecording() {
  if (recording.phase === 'idle') startRecording();
  else if (recording.phase === 'recording') stopRecording();
}

async function startRecording() {
  recording.phase = 'starting';
  updateRecordButton();
  try {
    const reply = await send({ cmd: 'record', action: 'start' });
    recording.maxS = reply.max_s ?? DEFAULT_MAX_RECORD_S;
    recording.startedAt = performance.now();
    recording.phase = 'recording';
    recording.timer = setInterval(updateTimer, 250);
    updateTimer();
  } catch (err) {
    recording.phase = 'idle';
    toast(err.message);
  }
  updateRecordButton();
}

async function stopRecording() {
  recording.phase = 'stopping';
  updateRecordButton();
  try {
    clipReady(await send({ cmd: 'record', action: 'stop' }));
  } catch (err) {
    // The server may have stopped by itself at max_s, and its clip event already finished the recording.
    if (recording.phase === 'stopping') {
      resetRecording();
      toast(err.message);
    }
  }
}

/** A finished clip, from the stop reply or the server's own "clip" event after max_s. */
function clipReady(clip) {
  resetRecording();
  addDownload({ kind: 'clip', url: clip.url, name: `tryon-${fileStamp()}.mp4`, expiresAt: clip.expires_at, durationS: clip.duration_s });
}

function updateTimer() {
  const elapsed = (performance.now() - recording.startedAt) / 1000;
  if (recording.phase === 'recording') {
    el.timer.textContent = `${formatDuration(Math.min(elapsed, recording.maxS))} / ${formatDuration(recording.maxS)}`;
    if (elapsed >= recording.maxS) {
      recording.phase = 'stopping'; // the server stops at max_s by itself and sends the clip event
      updateRecordButton();
    }
  } else if (elapsed >= recording.maxS + CLIP_WAIT_S) {
    resetRecording();
    toast('The clip did not arrive. Please record again.');
  }
}

function resetRecording() {
  clearInterval(recording.timer);
  recording.phase = 'idle';
  updateRecordButton();
}

function updateRecordButton() {
  const active = recording.phase === 'recording' || recording.phase === 'stopping';
  el.record.setAttribute('aria-pressed', String(active));
  el.record.setAttribute('aria-label', active ? 'Stop recording' : 'Start recording');
  el.record.disabled = !state.session.live || recording.phase === 'starting' || recording.phase === 'stopping';
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
    Number.isFinite(expiry) ? `link valid until ${formatClock(new Date(expiry))}` : '');
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
  el.record.addEventListener('click', toggleRecording);
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
  get worn() { return state.worn; },
  get lastStats() { return state.lastStats; },
  /** Resolves when the returned video plays and the control channel is open (per connection attempt). */
  get ready() { return state.session.ready; },
};

init();
