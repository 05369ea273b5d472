'use strict';
// The live order-status page: renders each snapshot the server sends over server-sent events (/api/stream).
(function () {
  const $ = (id) => document.getElementById(id);
  const money = (n) => Number(n).toFixed(2);
  function cell(row, text) { const td = document.createElement('td'); td.textContent = text; row.appendChild(td); }
  function render(s) {
    $('mode').textContent = s.mode;
    const counts = $('status-counts');
    counts.replaceChildren();
    for (const [status, n] of Object.entries(s.statusCounts)) {
      const div = document.createElement('div');
      div.className = 'count';
      div.dataset.status = status;
      const strong = document.createElement('strong');
      strong.textContent = n;
      div.append(strong, status);
      counts.appendChild(div);
    }
    const dl = $('counters');
    dl.replaceChildren();
    for (const [name, n] of Object.entries(s.counters)) {
      const dt = document.createElement('dt'); dt.textContent = name;
      const dd = document.createElement('dd'); dd.textContent = n; dd.id = 'counter-' + name;
      dl.append(dt, dd);
    }
    const minutes = $('minutes');
    minutes.replaceChildren();
    for (const m of s.minutes.slice().reverse()) {
      const tr = document.createElement('tr');
      cell(tr, m.start.substring(11, 16));
      cell(tr, m.ordersPlaced);
      cell(tr, money(m.revenue));
      cell(tr, Object.entries(m.statusChanges).map(([k, v]) => k + ' ' + v).join(', '));
      cell(tr, m.closed ? 'final' : 'live');
      minutes.appendChild(tr);
    }
    const recent = $('recent');
    recent.replaceChildren();
    for (const c of s.recent) {
      const tr = document.createElement('tr');
      cell(tr, c.orderId); cell(tr, c.customerId); cell(tr, c.status); cell(tr, c.version);
      cell(tr, new Date(c.time).toLocaleTimeString()); cell(tr, money(c.amount));
      recent.appendChild(tr);
    }
  }
  const events = new EventSource('/api/stream');
  events.addEventListener('snapshot', (e) => { $('connection').textContent = 'live'; render(JSON.parse(e.data)); });
  events.onerror = () => { $('connection').textContent = 'reconnecting…'; };
  $('lookup').addEventListener('submit', async (e) => {
    e.preventDefault();
    const id = $('order-id').value.trim();
    const response = await fetch('/orders/' + encodeURIComponent(id));
    $('order').textContent = JSON.stringify(await response.json(), null, 2);
  });
})();
