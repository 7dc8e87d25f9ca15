// A designed piece shown on the studio page: thumbnail, name, price, id, notes and a "Try it on" link. The
// card is a clone of the page's <template id="design-card-template">, filled from an ItemSummary.

/** A filled card for `item` (GET /api/items' summary) with `notes` (plain words) under it. */
export function designCard(item, notes) {
  const card = document.getElementById('design-card-template').content.firstElementChild.cloneNode(true);
  const thumb = card.querySelector('.design-thumb');
  thumb.src = item.thumbnail;
  thumb.alt = item.name;
  card.querySelector('.design-name').textContent = item.name;
  const price = item.price;
  card.querySelector('.design-price').textContent = price
    ? new Intl.NumberFormat(undefined, {style: 'currency', currency: price.currency, maximumFractionDigits: 0})
      .format(price.amount)
    : 'Price on request';
  card.querySelector('.design-id').textContent = `Item ${item.id}`;
  card.querySelector('.design-notes').replaceChildren(...notes.map((n) => {
    const li = document.createElement('li');
    li.textContent = n;
    return li;
  }));
  card.querySelector('.design-try').href = `/?items=${encodeURIComponent(item.id)}`;
  return card;
}

const NO_TOKEN = "Enter the admin token (at the top of the page): designing is for the brand's staff.";

/** A design panel's form round one request. `el`: its error, status and make elements; `state`: the panel's
 * test-visible state (busy, error). `submit(key)` posts with the admin token `key` and shows what came back;
 * `check()` says what is missing before asking the server ('' when nothing is). Returns the submit handler. */
export function designForm({el, state, token, check, submit}) {
  function showError(text) {
    state.error = text;
    el.error.textContent = text;
    el.error.hidden = !text;
  }
  return async function (event) {
    event.preventDefault();
    showError('');
    const key = token();
    const missing = key ? check() : NO_TOKEN;
    if (missing) {
      showError(missing);
      return;
    }
    state.busy = true;
    el.make.disabled = true;
    el.status.textContent = 'Making the piece…';
    try {
      await submit(key);
      el.status.textContent = 'Made, and in the catalog now.';
    } catch (err) {
      showError(err.message);
      el.status.textContent = 'Nothing was made.';
    } finally {
      state.busy = false;
      el.make.disabled = false;
    }
  };
}
