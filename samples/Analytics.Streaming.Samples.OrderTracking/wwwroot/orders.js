'use strict';
// The live order-status page: renders each snapshot the server sends over server-sent events (/api/stream).
// Charts are Chart.js (from npm at a pinned version, embedded in the service); text goes in with textContent only.
(function () {
  const $ = (id) => document.getElementById(id);
  const money = (n) => Number(n).toFixed(2);
  const minute = (iso) => iso.substring(11, 16);
  function cell(row, text) { const td = document.createElement('td'); td.textContent = text; row.appendChild(td); }

  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  const palette = ['#2563eb', '#16a34a', '#f59e0b', '#9333ea', '#0891b2', '#dc2626', '#4b5563'];
  const noLegend = { legend: { display: false } };
  const charts = {
    orders: new Chart($('chart-orders'), {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'orders placed', data: [], backgroundColor: palette[0] }] },
      options: { scales: { x: { ticks: { maxTicksLimit: 12 } }, y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: noLegend },
    }),
    revenue: new Chart($('chart-revenue'), {
      type: 'line',
      data: { labels: [], datasets: [{ label: 'revenue', data: [], borderColor: palette[1], backgroundColor: palette[1], pointRadius: 3 }] },
      options: { scales: { x: { ticks: { maxTicksLimit: 12 } }, y: { beginAtZero: true } }, plugins: noLegend },
    }),
    status: new Chart($('chart-status'), {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'orders', data: [], backgroundColor: palette }] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: noLegend },
    }),
  };
  function setChart(chart, labels, values) {
    chart.data.labels = labels;
    chart.data.datasets[0].data = values;
    chart.update('none');
  }

  function render(s) {
    $('mode').textContent = s.mode;
    const labels = s.minutes.map((m) => minute(m.start));
    setChart(charts.orders, labels, s.minutes.map((m) => m.ordersPlaced));
    setChart(charts.revenue, labels, s.minutes.map((m) => m.revenue));
    setChart(charts.status, Object.keys(s.statusCounts), Object.values(s.statusCounts));
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
      cell(tr, minute(m.start));
      cell(tr, m.ordersPlaced);
      cell(tr, money(m.revenue));
      cell(tr, Object.entries(m.statusChanges).map(([k, v]) => k + ' ' + v).join(', '));
      cell(tr, m.topItems.map((i) => i.sku + ' ' + i.quantity).join(', '));
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
