// The retouch studio's page: photos dropped or chosen, sent as one job (in several uploads when the batch is
// larger than the server takes in one request), its progress polled, each result shown over its original with a
// before/after divider and its marketplace checks, one or all downloaded.
//
// The job's id goes into the address (?job=ID), so a reload, or the link kept for later, shows the job again
// (its originals then come from the server).
//
// Below it, Design from a sketch (sketch.js) uses the same admin token field.
//
// window.studio is for the browser tests: ready once the server's limits are read; jobId, finished, done, failed;
// sketch (sketch.js).

import { startSketch } from './sketch.js';
import { startWords } from './words.js';

const $ = (id) => document.getElementById(id);
const el = {
  form: $('job-form'), drop: $('drop'), files: $('files'), chosen: $('chosen'), clear: $('clear'),
  background: $('background'), colourField: $('colour-field'), colour: $('colour'), shadow: $('shadow'),
  sameLook: $('same-look'), metal: $('metal'), frame: $('frame'), format: $('format'), size: $('size'), token: $('token'),
  submit: $('submit'), formError: $('form-error'), progress: $('progress'), status: $('status'),
  downloadAll: $('download-all'), list: $('result-list'), template: $('result-template'),
};
const POLL_MS = 1000;
const RETRY_MS = 3000;
const MULTIPART_SLACK = 64 * 1024; // the form's own bytes around the files, kept under the server's limit
const TOKEN_KEY = 'tryon-studio-token';
const IMAGE_EXT = /\.(jpe?g|png|webp|tiff?|bmp)$/i;
const CHECK_NAMES = {background: 'Background', fill: 'Fill', size: 'Size', square: 'Square', clipping: 'Not clipped'};

const studio = {ready: false, jobId: null, finished: false, done: 0, failed: 0};
window.studio = studio;

let info = {max_files: 200, max_upload_bytes: 25 * 1024 * 1024};
let chosen = []; // File objects, in the order chosen
let cards = []; // per photo sent: {file, node, url, state}, in the server's order
let pollTimer = null;

// ------------------------------------------------------------------ choosing photos

function formatBytes(n) {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} kB`;
}

function addFiles(list) {
  const known = new Set(chosen.map((f) => `${f.name}|${f.size}|${f.lastModified}`));
  let skipped = 0;
  for (const f of list) {
    if (!(f.type.startsWith('image/') || IMAGE_EXT.test(f.name))) {
      skipped += 1;
      continue;
    }
    const key = `${f.name}|${f.size}|${f.lastModified}`;
    if (!known.has(key)) {
      known.add(key);
      chosen.push(f);
    }
  }
  showChosen(skipped);
}

function showChosen(skipped = 0) {
  const bytes = chosen.reduce((sum, f) => sum + f.size, 0);
  const n = chosen.length;
  let text = n ? `${n} photo${n === 1 ? '' : 's'} chosen (${formatBytes(bytes)}).` : 'No photos chosen yet.';
  if (skipped) text += ` ${skipped} file${skipped === 1 ? ' is' : 's are'} not a photo and stayed out.`;
  if (n > info.max_files) text += ` A job takes at most ${info.max_files}: clear some.`;
  el.chosen.textContent = text;
  el.clear.hidden = n === 0;
  el.submit.disabled = n === 0 || n > info.max_files;
  el.submit.textContent = n ? `Retouch ${n} photo${n === 1 ? '' : 's'}` : 'Retouch';
}

// ------------------------------------------------------------------ sending a job

function options() {
  const bg = el.background.value === 'colour' ? el.colour.value.toUpperCase() : el.background.value;
  return {background: bg, shadow: el.shadow.value, metal: el.metal.value, frame: el.frame.value,
          format: el.format.value, size: el.size.value.trim(), same_look: el.sameLook.checked ? 'true' : 'false'};
}

/** The photos in uploads each under the server's request limit, in order; photos over it alone are returned apart. */
function packUploads(files) {
  const limit = info.max_upload_bytes - MULTIPART_SLACK;
  const uploads = [];
  const tooLarge = [];
  let current = [];
  let bytes = 0;
  for (const f of files) {
    if (f.size > limit) {
      tooLarge.push(f);
      continue;
    }
    if (current.length && bytes + f.size > limit) {
      uploads.push(current);
      current = [];
      bytes = 0;
    }
    current.push(f);
    bytes += f.size;
  }
  if (current.length) uploads.push(current);
  return {uploads, tooLarge};
}

async function problem(response) {
  let detail = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (typeof body.detail === 'string') detail = body.detail;
    else if (Array.isArray(body.detail)) detail = body.detail.map((d) => d.msg).join('; ');
  } catch {
    // not JSON: keep the status line
  }
  if (response.status === 401 || response.status === 403) {
    return `The studio needs this server's admin token (TRYON_ADMIN_TOKEN): ${detail}`;
  }
  return detail;
}

function showFormError(text) {
  el.formError.textContent = text;
  el.formError.hidden = !text;
}

async function submitJob(event) {
  event.preventDefault();
  showFormError('');
  const token = el.token.value.trim();
  if (!token) {
    showFormError("Enter the admin token: the studio is for the brand's staff.");
    el.token.focus();
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  const files = chosen.slice();
  const {uploads, tooLarge} = packUploads(files);
  resetResults();
  for (const f of tooLarge) {
    const card = makeCard(f.name, URL.createObjectURL(f));
    setFailed(card, `${f.name} is ${formatBytes(f.size)}: larger than the ${formatBytes(info.max_upload_bytes)} ` +
                    'the server takes in one request');
  }
  if (!uploads.length) {
    el.status.textContent = 'Nothing could be sent.';
    return;
  }
  el.submit.disabled = true;
  const sent = uploads.flat();
  el.status.textContent = `Sending ${sent.length} photo${sent.length === 1 ? '' : 's'}…`;
  const opts = options();
  let jobId = null;
  try {
    for (let i = 0; i < uploads.length; i += 1) {
      const body = new FormData();
      for (const f of uploads[i]) body.append('files', f, f.name);
      if (jobId) body.append('job', jobId);
      else for (const [k, v] of Object.entries(opts)) body.append(k, v);
      if (i < uploads.length - 1) body.append('more', 'true');
      const r = await fetch('/api/retouch/jobs', {method: 'POST', body, headers: {Authorization: `Bearer ${token}`}});
      if (!r.ok) throw new Error(await problem(r));
      for (const f of uploads[i]) cards.push(makeCard(f.name, URL.createObjectURL(f)));
      if (!jobId) {
        jobId = (await r.json()).id;
        studio.jobId = jobId;
        history.replaceState(null, '', `?job=${encodeURIComponent(jobId)}`);
        poll(jobId);
      }
    }
  } catch (err) {
    showFormError(jobId ? `Not every photo was sent: ${err.message}` : err.message);
    if (!jobId) el.status.textContent = 'Nothing was retouched.';
  } finally {
    el.submit.disabled = chosen.length === 0;
  }
}

// ------------------------------------------------------------------ following the job

function poll(jobId) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(async () => {
    if (studio.jobId !== jobId) return; // a newer job took over
    try {
      const r = await fetch(`/api/retouch/jobs/${encodeURIComponent(jobId)}`, {cache: 'no-store'});
      if (!r.ok) throw new Error(await problem(r));
      const job = await r.json();
      if (studio.jobId !== jobId) return;
      showJob(job);
      if (!job.finished) poll(jobId);
    } catch (err) {
      el.status.textContent = `Lost touch with the server (${err.message}); trying again…`;
      pollTimer = setTimeout(() => poll(jobId), RETRY_MS);
    }
  }, POLL_MS);
}

function showJob(job) {
  studio.done = job.done;
  studio.failed = job.failed;
  el.progress.hidden = false;
  el.progress.max = Math.max(1, job.total);
  el.progress.value = job.done + job.failed;
  let text = `${job.done} of ${job.total} retouched`;
  if (job.failed) text += `, ${job.failed} failed`;
  text += job.finished ? '. Finished.' : '…';
  if (job.held) text += ' Paused while a live try-on session runs.';
  el.status.textContent = text;
  for (const f of job.files) {
    const card = cards[f.index];
    if (!card) continue;
    if (f.status === 'done' && card.state !== 'done') setDone(card, f);
    else if (f.status === 'failed' && card.state !== 'failed') setFailed(card, f.error);
    else if (f.status === 'pending') {
      card.node.querySelector('.result-state').textContent = f.index === job.current ? 'Retouching…' : 'Waiting';
    }
  }
  if (job.done) {
    el.downloadAll.hidden = false;
    el.downloadAll.href = job.zip;
    el.downloadAll.setAttribute('download', `retouch-${job.id.slice(0, 8)}.zip`);
    el.downloadAll.setAttribute('aria-disabled', 'false');
    el.downloadAll.textContent = job.finished ? 'Download all (zip)' : 'Download those done (zip)';
  }
  studio.finished = job.finished;
}

// ------------------------------------------------------------------ the results

function resetResults() {
  clearTimeout(pollTimer);
  for (const c of el.list.querySelectorAll('img.before')) if (c.src.startsWith('blob:')) URL.revokeObjectURL(c.src);
  el.list.replaceChildren();
  cards = [];
  Object.assign(studio, {jobId: null, finished: false, done: 0, failed: 0});
  el.progress.hidden = true;
  el.downloadAll.hidden = true;
  el.downloadAll.setAttribute('aria-disabled', 'true');
}

/** A result's card: `name` and the original's address (an object URL of the chosen file, or the server's copy). */
function makeCard(name, originalSrc) {
  const node = el.template.content.firstElementChild.cloneNode(true);
  const card = {name, node, state: 'pending'};
  node.querySelector('.result-name').textContent = name;
  node.querySelector('.result-state').textContent = 'Waiting';
  const before = node.querySelector('.before');
  before.src = originalSrc;
  before.alt = `${name}, as photographed`;
  const slider = node.querySelector('.slider');
  slider.setAttribute('aria-label', `Before/after divider for ${name}`);
  slider.disabled = true;
  slider.addEventListener('input', () => setSplit(card, Number(slider.value)));
  const compare = node.querySelector('.compare');
  compare.addEventListener('pointerdown', (event) => {
    if (card.state !== 'done') return;
    compare.setPointerCapture(event.pointerId);
    dragTo(card, event);
  });
  compare.addEventListener('pointermove', (event) => {
    if (compare.hasPointerCapture(event.pointerId)) dragTo(card, event);
  });
  setSplit(card, 50);
  el.list.append(node);
  return card;
}

function dragTo(card, event) {
  const box = card.node.querySelector('.compare').getBoundingClientRect();
  setSplit(card, Math.round(((event.clientX - box.left) / box.width) * 100));
}

/** The divider at `pct` % of the width: the original left of it, the result right of it. */
function setSplit(card, pct) {
  const p = Math.min(100, Math.max(0, pct));
  card.node.style.setProperty('--split', `${p}%`);
  const slider = card.node.querySelector('.slider');
  slider.value = String(p);
  slider.setAttribute('aria-valuetext', `${p}% original, ${100 - p}% retouched`);
}

function setDone(card, f) {
  card.state = 'done';
  card.node.dataset.state = 'done';
  card.node.querySelector('.result-state').textContent = f.passed ? 'Ready' : 'Ready, checks failed';
  const after = card.node.querySelector('.after');
  after.alt = `${f.name}, retouched`;
  after.src = f.url;
  card.node.querySelector('.slider').disabled = false;
  const link = card.node.querySelector('.download');
  link.href = f.url;
  link.setAttribute('download', f.output);
  link.textContent = `Download ${f.output}`;
  link.hidden = false;
  const chips = Object.entries(f.checks || {}).map(([name, c]) => {
    const li = document.createElement('li');
    li.className = `check ${c.ok ? 'ok' : 'fail'}`;
    const label = CHECK_NAMES[name] || name;
    li.textContent = `${c.ok ? '✓' : '✗'} ${label}`;
    li.title = `${c.rule} (${typeof c.value === 'number' ? c.value : JSON.stringify(c.value)})`;
    li.setAttribute('aria-label', `${label}: ${c.ok ? 'passed' : 'failed'}`); // the rule is its title
    return li;
  });
  card.node.querySelector('.checks').replaceChildren(...chips);
}

function setFailed(card, message) {
  card.state = 'failed';
  card.node.dataset.state = 'failed';
  card.node.querySelector('.result-state').textContent = 'Failed';
  const p = card.node.querySelector('.result-error');
  p.textContent = message || 'This photo could not be retouched.';
  p.hidden = false;
}

// ------------------------------------------------------------------ wiring

function wire() {
  el.files.addEventListener('change', () => {
    addFiles(el.files.files);
    el.files.value = ''; // choosing the same files again still fires
  });
  for (const type of ['dragenter', 'dragover']) {
    el.drop.addEventListener(type, (event) => {
      event.preventDefault();
      el.drop.classList.add('over');
    });
  }
  for (const type of ['dragleave', 'drop']) el.drop.addEventListener(type, () => el.drop.classList.remove('over'));
  el.drop.addEventListener('drop', (event) => {
    event.preventDefault();
    addFiles(event.dataTransfer.files);
  });
  // A photo dropped beside the zone must not navigate away from the page.
  for (const type of ['dragover', 'drop']) window.addEventListener(type, (event) => event.preventDefault());
  el.clear.addEventListener('click', () => {
    chosen = [];
    showChosen();
  });
  el.background.addEventListener('change', () => {
    el.colourField.hidden = el.background.value !== 'colour';
  });
  el.form.addEventListener('submit', submitJob);
  el.token.value = sessionStorage.getItem(TOKEN_KEY) || '';
}

/** The form set to a job's options (what its results were made with). */
function showOptions(o) {
  const colour = typeof o.background === 'string' && o.background.startsWith('#');
  el.background.value = colour ? 'colour' : o.background;
  if (colour) el.colour.value = o.background.toLowerCase();
  el.colourField.hidden = !colour;
  for (const k of ['shadow', 'metal', 'frame', 'format']) el[k].value = o[k];
  el.size.value = o.size_px ?? '';
}

/** The job in the address, shown again: its originals from the server, its progress followed. */
async function reopen(jobId) {
  try {
    const r = await fetch(`/api/retouch/jobs/${encodeURIComponent(jobId)}`, {cache: 'no-store'});
    if (!r.ok) throw new Error(await problem(r));
    const job = await r.json();
    showOptions(job.options);
    cards = job.files.map((f) => makeCard(f.name, f.original));
    studio.jobId = jobId;
    showJob(job);
    if (!job.finished) poll(jobId);
  } catch (err) {
    el.status.textContent = `The job in this address could not be shown: ${err.message}`;
    history.replaceState(null, '', location.pathname);
  }
}

async function start() {
  wire();
  const staff = {
    token: () => {
      const token = el.token.value.trim();
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      return token;
    },
    problem,
  };
  startSketch(staff);
  startWords(staff);
  try {
    const r = await fetch('/api/retouch');
    if (r.ok) info = await r.json();
  } catch {
    // the defaults stand; a send will say what is wrong
  }
  showChosen();
  const jobId = new URLSearchParams(location.search).get('job');
  if (jobId) await reopen(jobId);
  studio.ready = true;
}

start();
