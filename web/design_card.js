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
