// Site plan: live gate alarms (the gate flashes, no reload) and, for staff,
// drawing a building's outline (a rectangle placed and dragged, or corner
// by corner) or placing a gate by clicking the plan.
(function () {
  'use strict';
  var frame = document.getElementById('siteplan');
  var svg = frame && frame.querySelector('svg.siteplan-svg');
  if (!svg) return;
  var NS = 'http://www.w3.org/2000/svg';
  var ox = parseFloat(svg.dataset.ox), oy = parseFloat(svg.dataset.oy);

  // ---- Zoom and pan (a transform on the plan's viewport group) -----------
  var view = svg.querySelector('g.sp-viewport');
  var vb = svg.viewBox.baseVal;
  var planH = parseFloat(svg.querySelector('rect.sp-bg').getAttribute('height'));
  var k = 1, tx = 0, ty = 0;
  var bar = svg.querySelector('.sp-scalebar text');
  function apply() {
    k = Math.min(16, Math.max(1, k));
    tx = Math.min(0, Math.max(vb.width * (1 - k), tx));
    ty = Math.min(0, Math.max(planH * (1 - k), ty));
    view.setAttribute('transform', 'translate(' + tx + ' ' + ty + ') scale(' + k + ')');
    frame.dataset.zoom = k.toFixed(2);
    if (bar) {
      var m = parseFloat(bar.dataset.metres) / k;
      bar.textContent = bar.dataset.label.replace('0', m >= 10 ? Math.round(m) : m.toFixed(1));
    }
  }
  function svgPoint(ev) {
    var pt = svg.createSVGPoint();
    pt.x = ev.clientX; pt.y = ev.clientY;
    return pt.matrixTransform(svg.getScreenCTM().inverse());
  }
  function zoomAt(f, p) {
    var nk = Math.min(16, Math.max(1, k * f));
    tx = p.x - (p.x - tx) * nk / k; ty = p.y - (p.y - ty) * nk / k; k = nk;
    apply();
  }
  svg.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    zoomAt(ev.deltaY < 0 ? 1.25 : 0.8, svgPoint(ev));
  }, { passive: false });
  Array.prototype.forEach.call(frame.querySelectorAll('[data-zoom]'), function (b) {
    b.addEventListener('click', function () {
      var c = { x: vb.width / 2, y: planH / 2 };
      if (b.dataset.zoom === 'in') zoomAt(1.5, c);
      else if (b.dataset.zoom === 'out') zoomAt(1 / 1.5, c);
      else { k = 1; tx = 0; ty = 0; apply(); }
    });
  });
  var pan = null, panned = false;
  svg.addEventListener('pointerdown', function (ev) {
    if (ev.button !== 0 || ev.target.classList.contains('sp-draft')) return;
    pan = { x: ev.clientX, y: ev.clientY, tx: tx, ty: ty, id: ev.pointerId, on: false };
    panned = false;
  });
  svg.addEventListener('pointermove', function (ev) {
    if (!pan) return;
    if (!pan.on && Math.abs(ev.clientX - pan.x) + Math.abs(ev.clientY - pan.y) > 5) {
      pan.on = true;
      svg.setPointerCapture(pan.id);
    }
    if (pan.on) {
      var scale = vb.width / svg.getBoundingClientRect().width;
      tx = pan.tx + (ev.clientX - pan.x) * scale; ty = pan.ty + (ev.clientY - pan.y) * scale;
      apply();
    }
  });
  svg.addEventListener('pointerup', function () { if (pan && pan.on) panned = true; pan = null; });
  // A drag is not a click: it neither opens a building nor places anything.
  svg.addEventListener('click', function (ev) {
    if (panned) { ev.preventDefault(); ev.stopImmediatePropagation(); panned = false; }
  }, true);

  // ---- Live alarms -------------------------------------------------------
  var live = document.getElementById('sp-live');
  function gatesNamed(name) {
    return Array.prototype.filter.call(svg.querySelectorAll('g.sp-gate'), function (g) { return g.dataset.gateName === name; });
  }
  function setStatus(g, status) {
    g.classList.remove('sp-gate-online', 'sp-gate-offline', 'sp-gate-unknown');
    g.classList.add('sp-gate-' + status);
    g.dataset.status = status;
  }
  if (live && window.EventSource) {
    var es = new EventSource(live.dataset.stream);
    es.addEventListener('alarm', function (ev) {
      var a = JSON.parse(ev.data);
      gatesNamed(a.gate).forEach(function (g) {
        if (a.status !== 'open') return;
        if (a.kind === 'device_offline') setStatus(g, 'offline');
        g.classList.add('sp-gate-alarm', 'sp-flash');
        var t = g.querySelector('title');
        if (t) t.textContent = a.gate + ' · ' + a.kind_text + ' ' + a.at;
        document.body.dataset.flashed = g.dataset.gate;
        clearTimeout(g._flash);
        g._flash = setTimeout(function () { g.classList.remove('sp-flash'); }, 12000);
      });
    });
    es.onopen = function () { live.classList.add('ok'); document.body.dataset.live = 'yes'; };
    es.onerror = function () { live.classList.remove('ok'); };
  }

  // ---- Drawing -----------------------------------------------------------
  var form = document.getElementById('draw-building');
  var gateForm = document.getElementById('draw-gate');
  if (!form) return;
  var place = document.getElementById('draw-place');
  var pointsBox = document.getElementById('draw-points');
  var wIn = document.getElementById('draw-w'), dIn = document.getElementById('draw-d'), degIn = document.getElementById('draw-deg');
  var gx = document.getElementById('draw-x'), gy = document.getElementById('draw-y');
  var tool = null; // 'rect', 'poly' or 'gate' while the plan takes clicks
  var centre = null, corners = [];

  var layer = document.createElementNS(NS, 'g');
  layer.setAttribute('class', 'sp-preview');
  view.appendChild(layer);

  // Where a pointer is, in local metres.
  function local(ev) {
    var pt = svg.createSVGPoint();
    pt.x = ev.clientX; pt.y = ev.clientY;
    var p = pt.matrixTransform(view.getScreenCTM().inverse());
    return { x: p.x + ox, y: oy - p.y };
  }
  function r1(v) { return Math.round(v * 10) / 10; }
  function mode() { var m = form.querySelector('input[name=mode]:checked'); return m ? m.value : 'rect'; }

  function rectCorners() {
    if (!centre) return [];
    var w = parseFloat(wIn.value) || 10, d = parseFloat(dIn.value) || 10, a = (parseFloat(degIn.value) || 0) * Math.PI / 180;
    var c = Math.cos(a), s = Math.sin(a);
    return [[-w / 2, -d / 2], [w / 2, -d / 2], [w / 2, d / 2], [-w / 2, d / 2]].map(function (k) {
      return { x: r1(centre.x + k[0] * c - k[1] * s), y: r1(centre.y + k[0] * s + k[1] * c) };
    });
  }
  function writePoints() {
    pointsBox.value = corners.map(function (p) { return r1(p.x) + ',' + r1(p.y); }).join('\n');
  }
  function readPoints() {
    corners = pointsBox.value.split(/[\n;]+/).map(function (l) {
      var xy = l.split(/[,，]/);
      return xy.length === 2 ? { x: parseFloat(xy[0]), y: parseFloat(xy[1]) } : null;
    }).filter(function (p) { return p && isFinite(p.x) && isFinite(p.y); });
  }
  function draw() {
    while (layer.firstChild) layer.removeChild(layer.firstChild);
    if (corners.length) {
      var poly = document.createElementNS(NS, corners.length > 2 ? 'polygon' : 'polyline');
      poly.setAttribute('points', corners.map(function (p) { return (p.x - ox) + ',' + (oy - p.y); }).join(' '));
      poly.setAttribute('class', 'sp-draft');
      layer.appendChild(poly);
      corners.forEach(function (p) {
        var c = document.createElementNS(NS, 'circle');
        c.setAttribute('cx', p.x - ox); c.setAttribute('cy', oy - p.y);
        c.setAttribute('r', svg.viewBox.baseVal.width / 400);
        c.setAttribute('class', 'sp-corner');
        layer.appendChild(c);
      });
    }
    if (tool === 'gate' && gx.value !== '' && gy.value !== '') {
      var g = document.createElementNS(NS, 'circle');
      g.setAttribute('cx', parseFloat(gx.value) - ox); g.setAttribute('cy', oy - parseFloat(gy.value));
      g.setAttribute('r', svg.viewBox.baseVal.width / 150);
      g.setAttribute('class', 'sp-gatepin');
      layer.appendChild(g);
    }
  }
  function setTool(t) {
    tool = t;
    frame.classList.toggle('drawing', !!t);
  }

  // Choosing a building shows its outline; a new one starts from the
  // usual size of its kind.
  place.addEventListener('change', function () {
    var opt = place.selectedOptions[0];
    centre = null;
    pointsBox.value = (opt && opt.dataset.ring) || '';
    readPoints();
    if (opt && !opt.dataset.ring && opt.dataset.kind === 'house') { wIn.value = 10; dIn.value = 12; }
    setTool(mode());
    draw();
  });
  form.addEventListener('change', function (ev) {
    if (ev.target.name === 'mode') { setTool(mode()); if (mode() === 'poly') { centre = null; } draw(); }
    if (ev.target === wIn || ev.target === dIn || ev.target === degIn) { if (mode() === 'rect' && centre) { corners = rectCorners(); writePoints(); draw(); } }
  });
  [wIn, dIn, degIn].forEach(function (el) { el.addEventListener('focus', function () { setTool('rect'); }); });
  pointsBox.addEventListener('input', function () { readPoints(); draw(); });
  pointsBox.addEventListener('focus', function () { setTool(mode()); });
  place.addEventListener('focus', function () { setTool(mode()); });
  document.getElementById('draw-clear').addEventListener('click', function () {
    corners = []; centre = null; pointsBox.value = ''; draw();
  });
  if (gateForm) {
    gateForm.addEventListener('focusin', function () { setTool('gate'); });
    gateForm.addEventListener('input', draw);
  }

  document.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') setTool(null); });

  // Clicks on the plan while drawing place things instead of opening the
  // building.
  var dragging = null;
  svg.addEventListener('click', function (ev) {
    if (!tool || dragging && dragging.moved) return;
    ev.preventDefault();
    var p = local(ev);
    if (tool === 'gate') {
      gx.value = r1(p.x); gy.value = r1(p.y);
    } else if (tool === 'rect') {
      centre = p; corners = rectCorners(); writePoints();
    } else {
      corners.push({ x: r1(p.x), y: r1(p.y) }); writePoints();
    }
    draw();
  });
  // Dragging the drawn outline moves it.
  svg.addEventListener('pointerdown', function (ev) {
    if (!tool || tool === 'gate' || !ev.target.classList.contains('sp-draft')) return;
    ev.preventDefault();
    ev.stopPropagation();
    dragging = { from: local(ev), corners: corners.slice(), centre: centre, moved: false };
    svg.setPointerCapture(ev.pointerId);
  });
  svg.addEventListener('pointermove', function (ev) {
    if (!dragging) return;
    var p = local(ev), dx = p.x - dragging.from.x, dy = p.y - dragging.from.y;
    if (Math.abs(dx) + Math.abs(dy) > 0.2) dragging.moved = true;
    corners = dragging.corners.map(function (c) { return { x: r1(c.x + dx), y: r1(c.y + dy) }; });
    if (dragging.centre) centre = { x: dragging.centre.x + dx, y: dragging.centre.y + dy };
    writePoints(); draw();
  });
  svg.addEventListener('pointerup', function () {
    if (!dragging) return;
    var d = dragging;
    setTimeout(function () { if (dragging === d) dragging = null; }, 0);
  });
})();
