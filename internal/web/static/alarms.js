// Live alarms: new alarms appear at the top of the table without a reload.
(function () {
  'use strict';
  var live = document.getElementById('live');
  var rows = document.getElementById('alarm-rows');
  if (!live || !rows || !window.EventSource) return;
  var es = new EventSource(live.dataset.stream);
  es.addEventListener('alarm', function (ev) {
    var a = JSON.parse(ev.data);
    if (a.status !== 'open') return;
    var empty = rows.querySelector('tr.empty');
    if (empty) empty.remove();
    var tr = document.createElement('tr');
    tr.className = 'alarm-open alarm-new';
    tr.dataset.id = a.id;
    [a.at, a.gate, a.kind_text, a.person || '—', ''].forEach(function (text, i) {
      var td = document.createElement('td');
      if (i === 2) { var b = document.createElement('b'); b.textContent = text; td.appendChild(b); } else { td.textContent = text; }
      tr.appendChild(td);
    });
    var td = document.createElement('td');
    var link = document.createElement('a');
    link.href = '/gates/alarms';
    link.textContent = '⟳';
    td.appendChild(link);
    tr.appendChild(td);
    rows.insertBefore(tr, rows.firstChild);
    document.body.dataset.lastAlarm = a.id;
  });
  es.onerror = function () { live.classList.remove('ok'); };
  es.onopen = function () { live.classList.add('ok'); document.body.dataset.live = 'yes'; };
})();
