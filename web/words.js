// Design from words, on the studio page: the piece described in a sentence, sent to POST /api/design with the
// studio's admin token; what the words were read as ("understood: ...") and the new pieces shown with their
// thumbnails and prices, each with a link that puts it on in the live try-on page (/?items=ID). Words that
// cannot be made come back as the server's reason.
//
// window.studio.words is for the browser tests: busy, made (the new items' ids), error.

import { designCard, designForm } from './design_card.js';

const $ = (id) => document.getElementById(id);
const NAMES = {band_width_mm: 'band width', stone_mm: 'stone', diameter_mm: 'diameter', wire_mm: 'wire',
  length_mm: 'length', size_mm: 'size'};

/** Wire the words panel. `token()`: the admin token field's value; `problem(response)`: a failed response's
 * message in words. */
export function startWords({token, problem}) {
  const el = {
    form: $('words-form'), prompt: $('words-prompt'), count: $('words-count'), make: $('words-make'),
    error: $('words-error'), status: $('words-status'), understood: $('words-understood'), cards: $('words-cards'),
  };
  const state = {busy: false, made: [], error: ''};
  window.studio.words = state;

  function understood(made) {
    const parts = Object.entries(made.parameters).map(([k, v]) => {
      const name = NAMES[k] || k;
      return k.endsWith('_mm') ? `${name} ${v} mm` : `${name} ${String(v).replaceAll('_', ' ')}`;
    });
    return `Understood: ${made.kind}${parts.length ? ', ' + parts.join(', ') : ''}.`;
  }

  const make = designForm({
    el, state, token,
    check: () => (el.prompt.value.trim() ? '' : 'Describe the piece first, for example "small diamond studs in platinum".'),
    submit: async (key) => {
      const r = await fetch('/api/design', {
        method: 'POST', headers: {Authorization: `Bearer ${key}`, 'Content-Type': 'application/json'},
        body: JSON.stringify({prompt: el.prompt.value.trim(), count: Number(el.count.value)}),
      });
      if (!r.ok) throw new Error(await problem(r));
      const made = await r.json();
      el.understood.textContent = understood(made);
      el.understood.hidden = false;
      el.cards.replaceChildren(...made.items.map((item) => designCard(item, made.notes)));
      state.made = made.items.map((item) => item.id);
    },
  });

  el.form.addEventListener('submit', make);
}
