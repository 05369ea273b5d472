// The live dashboard: one EventSource on /api/stream, each message a full snapshot (see DashboardSnapshot.cs).
// Charts are Chart.js (vendored from npm at a pinned version); text goes in with textContent only, never as HTML.
(() => {
  'use strict';
  const palette = ['#2563eb', '#16a34a', '#f59e0b', '#9333ea', '#0891b2', '#dc2626', '#4b5563', '#db2777', '#65a30d', '#ea580c'];
  const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  const $ = id => document.getElementById(id);
  const time = iso => new Date(iso).toLocaleTimeString([], { hour12: false });
  const hhmm = iso => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  const hour = iso => new Date(iso).toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit', hour12: false });

  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;

  const charts = {};
  function chart(id, config) {
    charts[id] = new Chart($(id), config);
    return charts[id];
  }

  const axes = { x: { ticks: { maxTicksLimit: 8, autoSkip: true } }, y: { beginAtZero: true } };
  chart('chart-per-second', {
    type: 'line',
    data: { labels: [], datasets: [{ label: 'events/s', data: [], borderColor: palette[0], pointRadius: [], pointBackgroundColor: [], borderWidth: 1.5 }] },
    options: { scales: axes, plugins: { legend: { display: false } } },
  });
  chart('chart-per-minute', {
    type: 'bar',
    data: { labels: [], datasets: [
      { label: 'events', data: [], backgroundColor: palette[0], yAxisID: 'y' },
      { label: 'unique visitors', data: [], type: 'line', borderColor: palette[1], backgroundColor: palette[1], yAxisID: 'y1', pointRadius: 0 },
    ] },
    options: { scales: { x: axes.x, y: { beginAtZero: true }, y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } } } },
  });
  chart('chart-per-hour', {
    type: 'bar',
    data: { labels: [], datasets: [{ label: 'events', data: [], backgroundColor: palette[3] }] },
    options: { scales: axes, plugins: { legend: { display: false } } },
  });
  chart('chart-load', {
    type: 'line',
    data: { labels: [], datasets: [
      { label: 'p50', data: [], borderColor: palette[1], pointRadius: 0 },
      { label: 'p99', data: [], borderColor: palette[5], pointRadius: 0 },
    ] },
    options: { scales: axes },
  });
  for (const [id, color] of [['chart-pages', palette[0]], ['chart-menu', palette[2]], ['chart-referrers', palette[4]]]) {
    chart(id, {
      type: 'bar',
      data: { labels: [], datasets: [{ label: 'count', data: [], backgroundColor: color }] },
      options: { indexAxis: 'y', scales: { x: { beginAtZero: true }, y: { ticks: { autoSkip: false } } }, plugins: { legend: { display: false } } },
    });
  }
  chart('chart-agents', {
    type: 'doughnut',
    data: { labels: [], datasets: [{ data: [], backgroundColor: palette }] },
    options: { plugins: { legend: { position: 'right' } } },
  });

  function setChart(id, labels, ...series) {
    const c = charts[id];
    c.data.labels = labels;
    series.forEach((values, i) => { c.data.datasets[i].data = values; });
    c.update('none');
  }

  function rows(tableId, items, cells) {
    const body = $(tableId).tBodies[0];
    const fragment = document.createDocumentFragment();
    for (const item of items) {
      const tr = document.createElement('tr');
      for (const value of cells(item)) {
        const td = document.createElement('td');
        td.textContent = value;
        td.title = value;
        tr.appendChild(td);
      }
      fragment.appendChild(tr);
    }
    body.replaceChildren(fragment);
  }

  function text(id, value) { $(id).textContent = value; }

  function render(s) {
    const t = s.totals;
    text('mode', s.mode);
    text('watermark', s.watermark ? time(s.watermark) : '–');
    text('lag', s.lagSeconds == null ? '–' : `${number.format(s.lagSeconds)} s`);
    text('updated', time(s.generatedAt));
    text('kpi-total', number.format(t.events));
    text('kpi-minute', number.format(t.eventsThisMinute));
    text('kpi-hour', number.format(t.eventsThisHour));
    text('kpi-visitors-hour', number.format(t.visitorsThisHour));
    text('kpi-visitors-day', number.format(t.visitorsToday));
    text('kpi-p50', number.format(t.loadP50));
    text('kpi-p99', number.format(t.loadP99));
    text('kpi-abnormal', number.format(t.abnormalSeconds));
    text('kpi-accepted', number.format(s.ingest.acceptedEvents));
    text('kpi-rejected', number.format(s.ingest.rejectedRequests));
    text('lake', s.lake || 'off');

    const ps = charts['chart-per-second'].data.datasets[0];
    ps.pointRadius = s.perSecond.map(p => (p.abnormal ? 4 : 0));
    ps.pointBackgroundColor = s.perSecond.map(p => (p.abnormal ? palette[5] : palette[0]));
    setChart('chart-per-second', s.perSecond.map(p => time(p.start)), s.perSecond.map(p => p.events));
    setChart('chart-per-minute', s.perMinute.map(p => hhmm(p.start)), s.perMinute.map(p => p.events), s.perMinute.map(p => p.visitors));
    setChart('chart-per-hour', s.perHour.map(p => hour(p.start)), s.perHour.map(p => p.events));
    setChart('chart-load', s.perMinute.map(p => hhmm(p.start)), s.perMinute.map(p => p.p50), s.perMinute.map(p => p.p99));

    const top = s.top || { pages: [], menuItems: [], referrers: [], userAgents: [] };
    text('top-window', s.top ? `(sliding 5 min, ${hhmm(s.top.start)}–${hhmm(s.top.end)})` : '');
    for (const [chartId, tableId, list] of [['chart-pages', 'table-pages', top.pages], ['chart-menu', 'table-menu', top.menuItems],
      ['chart-referrers', 'table-referrers', top.referrers], ['chart-agents', 'table-agents', top.userAgents]]) {
      setChart(chartId, list.map(r => r.item), list.map(r => r.count));
      rows(tableId, list, r => [r.item, number.format(r.count)]);
    }

    rows('table-abnormal', s.abnormal, a => [time(a.start), number.format(a.score), a.feature, number.format(a.events), number.format(a.p99), number.format(a.visitors)]);
    rows('table-recent', s.recent.slice(0, 15), e => [time(e.time), e.page, e.visitor, e.referrer, e.userAgent, number.format(e.loadTimeMs), e.menuItem || '']);
    rows('table-pipelines', s.pipelines, p => [p.name, p.watermark ? time(p.watermark) : '–', number.format(p.recordsIn), number.format(p.lateRecords), number.format(p.deadLetters), number.format(p.openWindows)]);
    rows('table-rejected', Object.entries(s.ingest.rejectedByReason), ([reason, count]) => [reason, number.format(count)]);

    document.body.dataset.version = String(s.version);
    document.body.dataset.total = String(t.events);
  }

  const status = $('status');
  const source = new EventSource('/api/stream');
  // Snapshots can come faster than a busy machine draws: only the newest is rendered, once per frame.
  let latest = null;
  source.addEventListener('metrics', message => {
    status.dataset.state = 'live';
    status.textContent = 'live';
    if (latest === null) {
      requestAnimationFrame(() => {
        const snapshot = latest;
        latest = null;
        render(JSON.parse(snapshot));
      });
    }
    latest = message.data;
  });
  source.onerror = () => {
    status.dataset.state = 'offline';
    status.textContent = 'reconnecting…';
  };
})();
