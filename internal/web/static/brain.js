// The big screen: panels are redrawn from the server every few seconds and
// alarms arrive the moment they are raised, all over one event stream.
(function () {
  'use strict';
  var root = document.getElementById('brain');
  if (!root || !window.EventSource) return;
  var clock = document.getElementById('brain-clock');
  // China time (UTC+8, no summer time), as the server writes every time on
  // the screen, whatever the zone of the computer driving the display.
  function tick() {
    var d = new Date(Date.now() + 8 * 3600 * 1000);
    var p = function (n) { return (n < 10 ? '0' : '') + n; };
    if (clock) clock.textContent = d.getUTCFullYear() + '-' + p(d.getUTCMonth() + 1) + '-' + p(d.getUTCDate()) + ' ' + p(d.getUTCHours()) + ':' + p(d.getUTCMinutes()) + ':' + p(d.getUTCSeconds());
  }
  tick();
  setInterval(tick, 1000);
  var es = new EventSource(root.dataset.stream);
  es.addEventListener('board', function (ev) {
    var d = JSON.parse(ev.data);
    var panels = document.getElementById('panels');
    if (panels && d.html) panels.innerHTML = d.html;
    root.dataset.updated = d.at || '';
  });
  es.addEventListener('alarm', function (ev) {
    var a = JSON.parse(ev.data);
    var list = document.getElementById('alarm-list');
    if (list) {
      var empty = list.querySelector('.empty');
      if (empty) empty.remove();
      var li = document.createElement('li');
      li.className = 'alarm-new';
      li.dataset.id = a.id;
      var t = document.createElement('time');
      t.textContent = a.at;
      var b = document.createElement('b');
      b.textContent = a.kind_text;
      li.appendChild(t);
      li.appendChild(document.createTextNode(' ' + a.gate + ' '));
      li.appendChild(b);
      if (a.person) li.appendChild(document.createTextNode(' ' + a.person));
      list.insertBefore(li, list.firstChild);
    }
    // The gate on the site plan flashes.
    var gates = document.querySelectorAll('#brain-plan .sp-gate');
    for (var i = 0; i < gates.length; i++) {
      if (gates[i].getAttribute('data-gate-name') === a.gate) {
        gates[i].classList.add('sp-gate-alarm', 'sp-flash');
        document.body.dataset.gateFlash = a.gate;
      }
    }
    var n = document.getElementById('alarms-open');
    if (n) n.textContent = String((parseInt(n.textContent, 10) || 0) + 1);
    root.classList.remove('alarm-flash');
    void root.offsetWidth;
    root.classList.add('alarm-flash');
    document.body.dataset.lastAlarm = a.id;
  });
  es.onopen = function () { root.dataset.live = 'yes'; };
  es.onerror = function () { root.dataset.live = 'no'; };
})();
