// Design from a sketch, on the studio page: an outline drawn on a canvas (mouse, finger or pen, through pointer
// events) or a photo of a drawing on paper, sent to POST /api/design/sketch with the studio's admin token; the
// new piece shown with its thumbnail, price and the notes on what was done to the drawing, and a link that puts
// it on in the live try-on page (/?items=ID).
//
// The canvas is sent as a PNG of black strokes on white. A chosen file is sent as it is (a phone's photo keeps
// its resolution); it is shown on the canvas, and drawing over it sends the canvas instead.
//
// window.studio.sketch is for the browser tests: busy, made (the new item's id), error.

import { designCard, designForm } from './design_card.js';

const $ = (id) => document.getElementById(id);
const INK = '#000';
const PAPER = '#fff';
const PEN_PX = 8; // the pen's width in canvas pixels (the canvas is 800 a side): a felt-tip's line

/** Wire the sketch panel. `token()`: the admin token field's value; `problem(response)`: a failed response's
 * message in words. */
export function startSketch({token, problem}) {
  const el = {
    form: $('sketch-form'), pad: $('pad'), hint: $('pad-hint'), clear: $('pad-clear'), file: $('sketch-file'),
    source: $('sketch-source'), type: $('sketch-type'), height: $('sketch-height'), metal: $('sketch-metal'),
    make: $('make'), error: $('sketch-error'), status: $('sketch-status'), card: $('design-card'),
  };
  const state = {busy: false, made: null, error: ''};
  window.studio.sketch = state;
  const ctx = el.pad.getContext('2d');
  let drawn = false; // anything on the canvas (strokes or a chosen file's picture)
  let file = null; // the chosen file, sent as it is while nothing is drawn over it
  let last = null; // the pen's last point while it is down

  function blank() {
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, el.pad.width, el.pad.height);
    drawn = false;
    file = null;
    showSource();
  }

  function showSource() {
    el.hint.hidden = drawn;
    if (file) el.source.textContent = `${file.name} will be sent (drawing over it sends the canvas instead).`;
    else el.source.textContent = drawn ? 'Your drawing will be sent.' : 'Nothing drawn yet.';
  }

  /** The pointer's place in canvas pixels (the canvas is shown scaled to its box). */
  function at(event) {
    const box = el.pad.getBoundingClientRect();
    return {x: ((event.clientX - box.left) / box.width) * el.pad.width,
            y: ((event.clientY - box.top) / box.height) * el.pad.height};
  }

  function strokeTo(p) {
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    last = p;
  }

  el.pad.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    el.pad.setPointerCapture(event.pointerId);
    Object.assign(ctx, {strokeStyle: INK, lineWidth: PEN_PX, lineCap: 'round', lineJoin: 'round'});
    last = at(event);
    strokeTo({x: last.x + 0.01, y: last.y}); // a tap leaves a dot
    file = null; // drawn over: the canvas is what is sent now
    drawn = true;
    showSource();
  });
  el.pad.addEventListener('pointermove', (event) => {
    if (!last || !el.pad.hasPointerCapture(event.pointerId)) return;
    // A pen or a fast finger gives several points per frame: all of them, or curves turn into corners.
    const points = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of points.length ? points : [event]) strokeTo(at(e));
  });
  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) {
    el.pad.addEventListener(type, () => {
      last = null;
    });
  }

  el.clear.addEventListener('click', blank);
  el.file.addEventListener('change', async () => {
    const chosen = el.file.files[0];
    el.file.value = ''; // choosing the same file again still fires
    if (!chosen) return;
    try {
      const picture = await createImageBitmap(chosen);
      blank();
      const scale = Math.min(el.pad.width / picture.width, el.pad.height / picture.height);
      const w = picture.width * scale;
      const h = picture.height * scale;
      ctx.drawImage(picture, (el.pad.width - w) / 2, (el.pad.height - h) / 2, w, h);
      picture.close();
    } catch {
      blank(); // a format this browser cannot show (HEIC...): sent all the same, the server says if it can read it
    }
    file = chosen;
    drawn = true;
    showSource();
  });

  const make = designForm({
    el, state, token,
    check: () => (drawn ? '' : 'Draw the outline first (one closed line), or upload a drawing.'),
    submit: async (key) => {
      const body = new FormData();
      if (file) body.append('file', file, file.name);
      else body.append('file', await new Promise((done) => el.pad.toBlob(done, 'image/png')), 'drawing.png');
      body.append('type', el.type.value);
      body.append('metal', el.metal.value);
      if (el.height.value.trim()) body.append('size_mm', el.height.value.trim());
      const r = await fetch('/api/design/sketch', {method: 'POST', body, headers: {Authorization: `Bearer ${key}`}});
      if (!r.ok) throw new Error(await problem(r));
      const made = await r.json();
      showPiece(made.items[0], made.notes);
      state.made = made.items[0].id;
    },
  });

  function showPiece(item, notes) {
    const card = designCard(item, notes);
    card.id = 'design-card';
    el.card.replaceWith(card);
    el.card = card;
  }

  el.form.addEventListener('submit', make);
  blank();
}
