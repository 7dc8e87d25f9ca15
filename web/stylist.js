// "Suggest for me": one still of the local camera goes to POST /api/advise (the server reads it and forgets it)
// and the stylist's suggestions are shown, each with its reason and one-tap "Try on" buttons. Shared by the
// try-on page (app.js) and the kiosk mirror (kiosk.js).

const MAX_TRY_BUTTONS = 2; // pieces offered per suggestion
const SNAPSHOT_QUALITY = 0.9;
const TOPIC_TITLES = { metal: 'Metal', earrings: 'Earrings', necklace: 'Necklace', ring: 'Ring', wrist: 'Wrist' };

/** The video's current frame as a JPEG blob (the camera's own pixels, not mirrored, at its own size). */
export async function stillOf(video) {
  const w = video.videoWidth;
  const h = video.videoHeight;
  if (!w || !h) throw new Error('The camera is not showing a picture yet.');
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  canvas.getContext('2d').drawImage(video, 0, 0, w, h);
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('Could not take a still.'))),
      'image/jpeg', SNAPSHOT_QUALITY);
  });
}

/** The stylist's advice for a still (JSON, as POST /api/advise documents it). */
export async function askStylist(blob) {
  const body = new FormData();
  body.append('image', blob, 'still.jpg');
  const response = await fetch('/api/advise', { method: 'POST', body });
  const reply = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof reply.detail === 'string' ? reply.detail : `the stylist answered ${response.status}`;
    throw new Error(detail);
  }
  return reply;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const capitalised = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * Fills `container` with the advice: what was read (undertone, face shape), then each suggestion with its
 * reason and up to MAX_TRY_BUTTONS "Try on" buttons. `nameOf(id)` names a piece (null: not in this catalog,
 * no button); `onTry(id)` wears it.
 */
export function showAdvice(container, advice, { nameOf, onTry, onClose }) {
  container.replaceChildren();
  const head = element('div', 'advice-head');
  head.append(element('h2', 'advice-title', 'Suggested for you'));
  const close = element('button', 'advice-close', 'Close');
  close.type = 'button';
  close.addEventListener('click', onClose);
  head.append(close);
  container.append(head);
  const read = [];
  if (advice.undertone) read.push(`${capitalised(advice.undertone.label)} undertone`);
  if (advice.face_shape) read.push(`${advice.face_shape.label} face`);
  if (read.length) container.append(element('p', 'advice-read', read.join(' · ')));
  const list = element('ul', 'advice-list');
  for (const s of advice.suggestions) {
    const row = element('li', 'advice-item');
    row.dataset.topic = s.topic;
    row.append(element('span', 'advice-topic', TOPIC_TITLES[s.topic] ?? s.topic));
    row.append(element('p', 'advice-reason', capitalised(s.reason)));
    const buttons = element('div', 'advice-tries');
    for (const id of s.items.filter((i) => nameOf(i)).slice(0, MAX_TRY_BUTTONS)) {
      const button = element('button', 'advice-try', `Try on ${nameOf(id)}`);
      button.type = 'button';
      button.dataset.item = id;
      button.addEventListener('click', () => onTry(id));
      buttons.append(button);
    }
    if (buttons.childElementCount) row.append(buttons);
    list.append(row);
  }
  container.append(list);
  for (const note of advice.notes ?? []) container.append(element('p', 'advice-note', capitalised(note)));
  container.append(element('p', 'advice-privacy', 'Read from one still of the camera; nothing about you is kept.'));
  container.hidden = false;
}
