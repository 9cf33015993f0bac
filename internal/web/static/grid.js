// grid.js: the grid worker's phone app. It draws every screen from the
// worker's bundle (/api/grid/v1/bundle, kept by the service worker for
// offline use), queues visits and patrols in IndexedDB, and sends them when
// the network is there, most urgent first. A visit the server finds in
// conflict with someone else's change is shown side by side for the worker
// to decide; nothing queued is dropped without the worker saying so.
(() => {
  'use strict';
  const I18N = JSON.parse(document.getElementById('grid-i18n').textContent || '{}');
  const t = (k, ...a) => { let i = 0; return (I18N[k] || k).replace(/%v/g, () => String(a[i++] ?? '')); };
  const app = document.getElementById('grid-app');
  const screen = document.getElementById('screen');
  const netbar = document.getElementById('netbar');
  const MAX_PHOTO = 2 << 20;
  let bundle = null;

  // ---- small helpers ----
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const h = (html) => { screen.innerHTML = html; window.scrollTo(0, 0); };
  const day = (iso) => (iso ? new Date(iso).toLocaleDateString('zh-CN', { timeZone: 'Asia/Shanghai' }) : '');
  const uid = () => {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  };
  const today = () => new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);

  // ---- the queue (IndexedDB) ----
  const DB = new Promise((resolve, reject) => {
    const r = indexedDB.open('shequ-grid', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('queue', { keyPath: 'client_id' });
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  async function tx(mode, fn) {
    const db = await DB;
    return new Promise((resolve, reject) => {
      const x = db.transaction('queue', mode);
      const out = fn(x.objectStore('queue'));
      x.oncomplete = () => resolve(out && 'result' in out ? out.result : undefined);
      x.onerror = () => reject(x.error);
    });
  }
  const queueAll = () => tx('readonly', (s) => s.getAll());
  const queuePut = (item) => tx('readwrite', (s) => s.put(item));
  const queueDel = (id) => tx('readwrite', (s) => s.delete(id));

  // Most urgent first: lead verifications, then problems found on patrol,
  // then campaign households, then routine visits, then patrols without
  // findings.
  function priority(item) {
    if (item.type === 'lead') return 0;
    if (item.type === 'patrol') return item.body.problem || Object.values(item.body.answers || {}).includes('problem') ? 1 : 4;
    return bundle && bundle.tasks.some((k) => k.room_id === item.body.room_id) ? 2 : 3;
  }

  async function enqueue(type, body, clientID = body.client_id) {
    const item = { client_id: clientID, type, body, created: Date.now(), status: 'waiting', user: bundle.user_id };
    item.priority = priority(item);
    await queuePut(item);
    window.gridLog.push({ queued: type, client_id: body.client_id });
    sync();
  }

  // ---- sending ----
  let sending = false;
  async function sync() {
    if (sending || !navigator.onLine) return showNet();
    sending = true;
    let delivered = 0;
    try {
      // Only the logged-in worker's records: another worker's wait for them.
      const items = (await queueAll()).filter((i) => i.status === 'waiting' && bundle && i.user === bundle.user_id)
        .sort((a, b) => a.priority - b.priority || a.created - b.created);
      for (const item of items) {
        let res;
        try {
          const url = { visit: '/api/grid/v1/visits', patrol: '/api/grid/v1/patrols' }[item.type] || `/api/grid/v1/leads/${encodeURIComponent(item.client_id.slice(5))}/verify`;
          res = await fetch(url, {
            method: 'POST', credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
            body: JSON.stringify(item.body),
          });
        } catch {
          break; // no network after all: try again later
        }
        const data = await res.json().catch(() => ({}));
        if (res.ok) {
          await queueDel(item.client_id);
          delivered++;
          window.gridLog.push({ sent: item.type, client_id: item.client_id, duplicate: !!data.duplicate });
        } else if (res.status === 409) {
          Object.assign(item, { status: 'conflict', current: data.current, error: data.error && data.error.message });
          await queuePut(item);
        } else if (res.status === 401) {
          netbar.hidden = false;
          netbar.textContent = t('grid.login_again');
          break;
        } else {
          Object.assign(item, { status: 'error', error: (data.error && data.error.message) || res.status });
          await queuePut(item);
        }
      }
    } finally {
      sending = false;
    }
    if (delivered) await loadBundle(true);
    await showNet();
    if (location.hash === '' || location.hash === '#' || location.hash === '#queue') route();
  }

  async function showNet() {
    const items = await queueAll();
    const waiting = items.filter((i) => i.status === 'waiting').length;
    const trouble = items.length - waiting;
    app.dataset.queued = String(items.length);
    app.dataset.online = navigator.onLine ? '1' : '0';
    const parts = [];
    if (!navigator.onLine) parts.push(t('grid.offline'));
    if (waiting) parts.push(t('grid.waiting', waiting));
    if (trouble) parts.push(t('grid.attention', trouble));
    netbar.hidden = parts.length === 0;
    netbar.className = 'netbar' + (trouble ? ' bad' : navigator.onLine ? '' : ' off');
    netbar.innerHTML = parts.length ? `<a href="#queue">${esc(parts.join(' · '))}</a>` : '';
  }

  // The bundle (rooms, tasks, points) draws the home page; who lives in
  // each room follows in a second, larger answer.
  let households = null;
  async function loadBundle(fresh) {
    const get = async (path) => {
      const res = await fetch(path, { credentials: 'same-origin', cache: fresh ? 'no-store' : 'default' });
      if (res.ok && !res.redirected) return res.json();
      if (res.status === 401 || res.redirected) netbar.textContent = t('grid.login_again');
      return null;
    };
    try {
      bundle = (await get('/api/grid/v1/bundle')) || bundle;
      common = null;
      if (bundle) mergeHouseholds();
      households = (await get('/api/grid/v1/households')) || households;
      if (bundle) mergeHouseholds();
    } catch {
      /* offline and never loaded: the screens say so */
    }
  }
  function mergeHouseholds() {
    for (const r of bundle.rooms) r.households = (households && households[r.id]) || r.households || [];
  }

  // ---- screens ----
  const roomOf = (id) => bundle.rooms.find((r) => r.id === id);
  // Addresses without what all of the worker's rooms share (city, district,
  // street, village): "10号301室" rather than a whole line.
  let common = null;
  function short(addr) {
    if (common === null) {
      const all = bundle.rooms.map((r) => r.address);
      common = all.length ? all.reduce((p, a) => { let i = 0; while (i < p.length && p[i] === a[i]) i++; return p.slice(0, i); }) : '';
      common = common.replace(/[0-9A-Za-z-]+$/, '');
    }
    return addr.startsWith(common) && addr.length > common.length ? addr.slice(common.length) : addr;
  }
  const surveyBadge = (s) => `<span class="badge survey-${esc(s)}">${esc(t('survey.' + s))}</span>`;

  function home() {
    const tasks = bundle.tasks;
    const overdue = tasks.filter((k) => k.overdue);
    // Due first: not yet surveyed, then the longest since a visit (never first).
    const since = (r) => (r.last_visit ? Date.parse(r.last_visit) : 0);
    const rooms = [...bundle.rooms].filter((r) => r.people > 0 || r.survey === 'pending')
      .sort((a, b) => (b.survey === 'pending') - (a.survey === 'pending') || since(a) - since(b));
    const q = (document.getElementById('find') || {}).value || '';
    const shown = q ? rooms.filter((r) => r.address.includes(q)) : rooms.slice(0, 60);
    h(`<section class="card">
        <h1>${esc(t('grid.mine'))}</h1>
        <p class="muted">${esc(bundle.worker)} · ${bundle.grids.map((g) => esc(g.name)).join('、')}</p>
        <div class="stats3"><div><b>${bundle.rooms.length}</b><span>${esc(t('grid.households'))}</span></div>
        <div><b>${bundle.rooms.filter((r) => r.survey === 'pending').length}</b><span>${esc(t('survey.pending'))}</span></div>
        <div class="${overdue.length ? 'bad' : ''}"><b>${tasks.length}</b><span>${esc(t('grid.tasks'))}${overdue.length ? ' · ' + esc(t('grid.overdue_n', overdue.length)) : ''}</span></div></div>
      </section>
      ${bundle.leads.length ? `<section class="card leads"><h2>${esc(t('grid.leads'))}</h2><ul class="list" id="leads">${bundle.leads.map((l) => `<li class="${l.overdue ? 'overdue' : ''}">
        <a href="#lead/${esc(l.id)}">${esc(l.name)} · ${esc(short(l.address))}</a><span class="muted">${esc(l.reason)} · ${esc(t('grid.deadline'))} ${esc(l.deadline)}${l.overdue ? ' · <b class="bad">' + esc(t('grid.overdue')) + '</b>' : ''}</span></li>`).join('')}</ul></section>` : ''}
      <section class="card"><h2>${esc(t('grid.tasks'))}</h2>
        ${tasks.length ? `<ul class="list" id="tasks">${tasks.slice(0, 30).map((k) => `<li class="${k.overdue ? 'overdue' : ''}"><a href="#visit/${esc(k.room_id)}?campaign=${esc(k.campaign_id)}">${esc(short(k.address))}</a>
          <span class="muted">${esc(k.campaign)} · ${esc(t('grid.deadline'))} ${esc(k.deadline)}${k.overdue ? ' · <b class="bad">' + esc(t('grid.overdue')) + '</b>' : ''}</span></li>`).join('')}</ul>` : `<p class="muted">${esc(t('grid.no_tasks'))}</p>`}
      </section>
      <section class="card"><h2>${esc(t('grid.points'))}</h2>
        ${bundle.points.length ? `<ul class="list" id="points">${bundle.points.map((p) => `<li><a href="#point/${esc(p.token)}">${esc(p.name)}</a>
          <span class="muted">${esc(t('point.' + p.kind))}${p.last_at ? ' · ' + esc(day(p.last_at)) : ''}${p.last_status === 'problem' ? ' · <b class="bad">' + esc(t('grid.problem')) + '</b>' : ''}</span></li>`).join('')}</ul>` : `<p class="muted">${esc(t('grid.no_points'))}</p>`}
      </section>
      <section class="card"><h2>${esc(t('grid.households'))}</h2>
        <input id="find" type="search" placeholder="${esc(t('grid.find'))}" value="${esc(q)}">
        <ul class="list" id="rooms">${shown.map((r) => `<li><a href="#room/${esc(r.id)}">${esc(short(r.address))}</a>
          ${surveyBadge(r.survey)} <span class="muted">${r.people} ${esc(t('grid.people'))}${r.last_visit ? ' · ' + esc(t('grid.visited')) + ' ' + esc(day(r.last_visit)) : ''}</span></li>`).join('')}</ul>
        ${!q && rooms.length > shown.length ? `<p class="muted">${esc(t('grid.more', rooms.length - shown.length))}</p>` : ''}
      </section>`);
    const find = document.getElementById('find');
    find.addEventListener('input', () => { const pos = find.value; home(); const f = document.getElementById('find'); f.focus(); f.value = pos; });
  }

  function memberLine(m) {
    const bits = [m.age >= 0 ? t('grid.age', m.age) : '', t('rel.' + m.relation), t('grid.doses', m.doses)];
    if (m.test_result) bits.push(t('grid.test', t('grid.result_' + m.test_result), day(m.test_at)));
    return `<b>${esc(m.name)}</b> <span class="muted">${bits.filter(Boolean).map(esc).join(' · ')}</span>${m.monitoring ? ` <span class="badge bad">${esc(t('monitoring.' + m.monitoring))}</span>` : ''}`;
  }

  function householdsHTML(room) {
    if (!(room.households || []).length) return `<p class="muted">${esc(t('grid.nobody'))}</p>`;
    return room.households.map((hh) => `<div class="household"><h3>${esc(t('grid.household_' + hh.kind))}</h3>
      <ul class="list">${hh.members.map((m) => `<li>${memberLine(m)}</li>`).join('')}</ul></div>`).join('');
  }

  async function roomScreen(id) {
    const room = roomOf(id);
    if (!room) return notFound();
    h(`<p><a href="#">‹ ${esc(t('grid.back'))}</a></p>
      <section class="card" id="room" data-room="${esc(room.id)}"><h1>${esc(room.address)}</h1>
        <p>${surveyBadge(room.survey)} ${room.last_visit ? esc(t('grid.last_visit', day(room.last_visit), room.last_visit_by || '')) : esc(t('grid.never_visited'))}</p>
        ${room.last_note ? `<p class="muted">“${esc(room.last_note)}”</p>` : ''}
        ${householdsHTML(room)}
        <p><a class="button primary" href="#visit/${esc(room.id)}">${esc(t('grid.visit'))}</a></p></section>
      <section class="card"><h2>${esc(t('grid.history'))}</h2><div id="history" class="muted">${esc(navigator.onLine ? t('grid.loading') : t('grid.offline'))}</div></section>`);
    try {
      const res = await fetch(`/api/grid/v1/rooms/${encodeURIComponent(id)}/visits`, { credentials: 'same-origin' });
      const data = await res.json();
      const el = document.getElementById('history');
      if (el) el.innerHTML = data.visits.length ? `<ol class="timeline">${data.visits.map((v) => `<li><time>${esc(v.at)}</time> <b>${esc(v.by)}</b> ${esc(v.notes)}${v.needs ? ' · ' + v.needs.split(',').map((n) => esc(t('need.' + n))).join('、') : ''}</li>`).join('')}</ol>` : esc(t('grid.never_visited'));
    } catch { /* offline: the last visit above is what we have */ }
  }

  function visitScreen(id, params) {
    const room = roomOf(id);
    if (!room) return notFound();
    const task = bundle.tasks.find((k) => k.room_id === id && (!params.get('campaign') || k.campaign_id === params.get('campaign')));
    const list = task && task.checklist_id ? bundle.checklists.find((c) => c.id === task.checklist_id) : null;
    const members = room.households.flatMap((hh) => hh.members.map((m) => ({ ...m, household: hh.id })));
    h(`<p><a href="#room/${esc(id)}">‹ ${esc(short(room.address))}</a></p>
      <form id="visit" class="card stack" novalidate><h1>${esc(t('grid.visit'))} · ${esc(short(room.address))}</h1>
        ${task ? `<p class="muted">${esc(task.campaign)} · ${esc(t('grid.deadline'))} ${esc(task.deadline)}</p>` : ''}
        <label>${esc(t('grid.met'))}<input name="met" maxlength="200"></label>
        <h2>${esc(t('grid.members'))}</h2>
        ${members.map((m) => `<label class="member">${memberLine(m)}<select name="change" data-person="${esc(m.person_id)}" data-household="${esc(m.household)}">
          <option value="">${esc(t('grid.no_change'))}</option><option value="moved_out">${esc(t('grid.moved_out'))}</option><option value="deceased">${esc(t('grid.deceased'))}</option></select></label>`).join('')}
        <details id="newperson"><summary>${esc(t('grid.add_person'))}</summary><div class="stack">
          <label>${esc(t('grid.new_kind'))}<select name="new_kind"><option value="new_tenant">${esc(t('grid.new_tenant'))}</option><option value="newborn">${esc(t('grid.newborn'))}</option><option value="new_member">${esc(t('grid.new_member'))}</option></select></label>
          <label>${esc(t('grid.household'))}<select name="new_household">${room.households.map((hh, i) => `<option value="${esc(hh.id)}">${esc(t('grid.household_' + hh.kind))} ${i + 1}</option>`).join('')}<option value="">${esc(t('grid.new_household'))}</option></select></label>
          <label>${esc(t('grid.name'))}<input name="new_name" maxlength="50"></label>
          <label>${esc(t('grid.id_number'))}<input name="new_id" class="mono" maxlength="18" autocomplete="off"></label>
          <label>${esc(t('grid.phone'))}<input name="new_phone" type="tel" autocomplete="off"></label></div></details>
        <details id="health"><summary>${esc(t('grid.add_health'))}</summary><div class="stack">
          <label>${esc(t('grid.person'))}<select name="h_person"><option value=""></option>${members.map((m) => `<option value="${esc(m.person_id)}">${esc(m.name)}</option>`).join('')}</select></label>
          <label>${esc(t('grid.health_kind'))}<select name="h_kind"><option value="vaccination">${esc(t('grid.vaccination'))}</option><option value="test">${esc(t('grid.test_kind'))}</option></select></label>
          <div class="row2"><label>${esc(t('grid.vaccine'))}<input name="h_vaccine"></label><label>${esc(t('grid.dose'))}<input name="h_dose" type="number" min="1" max="10"></label></div>
          <label>${esc(t('grid.date'))}<input name="h_date" type="date" value="${today()}"></label>
          <label>${esc(t('grid.result'))}<select name="h_result"><option value="negative">${esc(t('grid.result_negative'))}</option><option value="positive">${esc(t('grid.result_positive'))}</option><option value="pending">${esc(t('grid.result_pending'))}</option></select></label></div></details>
        ${list ? `<h2>${esc(list.name)}</h2>${list.items.map((it, i) => answerRow('a' + i, it)).join('')}` : ''}
        <fieldset class="checks"><legend>${esc(t('grid.needs'))}</legend>${bundle.needs.map((n) => `<label><input type="checkbox" name="need" value="${esc(n)}"> ${esc(t('need.' + n))}</label>`).join('')}</fieldset>
        <label>${esc(t('grid.notes'))}<textarea name="notes" rows="3" maxlength="2000"></textarea></label>
        <label>${esc(t('grid.photos'))}<input name="photos" type="file" accept="image/jpeg,image/png,image/webp" capture="environment" multiple></label>
        <label class="inline"><input type="checkbox" name="where"> ${esc(t('grid.location'))}</label>
        <p id="form-error" class="error" role="alert" hidden></p>
        <button type="submit" class="primary">${esc(t('grid.save'))}</button></form>`);
    document.getElementById('visit').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = ev.target;
      const fail = (msg) => { const e = document.getElementById('form-error'); e.hidden = false; e.textContent = msg; };
      const body = { client_id: uid(), room_id: id, base_version: room.version, at: new Date().toISOString(), met: f.met.value.trim(),
        changes: [], health: [], needs: [...f.querySelectorAll('[name=need]:checked')].map((c) => c.value), notes: f.notes.value.trim(), photos: [] };
      for (const sel of f.querySelectorAll('select[name=change]')) {
        if (sel.value) body.changes.push({ kind: sel.value, person_id: sel.dataset.person, household_id: sel.dataset.household, on: today() });
      }
      if (f.new_name.value.trim()) {
        body.changes.push({ kind: f.new_kind.value, household_id: f.new_household.value, name: f.new_name.value.trim(), id_number: f.new_id.value.trim(), phone: f.new_phone.value.trim(), on: today() });
      }
      if (f.h_person.value) {
        const e = { person_id: f.h_person.value, kind: f.h_kind.value };
        if (e.kind === 'vaccination') Object.assign(e, { vaccine: f.h_vaccine.value.trim(), dose: Number(f.h_dose.value), given_on: f.h_date.value });
        else Object.assign(e, { test_kind: 'nucleic', result: f.h_result.value, sampled_at: new Date(f.h_date.value + 'T08:00:00+08:00').toISOString() });
        body.health.push(e);
      }
      if (list) {
        body.answers = {};
        list.items.forEach((it, i) => { const c = f.querySelector(`[name=a${i}]:checked`); if (c) body.answers[it] = c.value; });
      }
      for (const file of f.photos.files) {
        if (!/^image\/(jpeg|png|webp)$/.test(file.type)) return fail(t('err.visit.photo_type'));
        if (file.size > MAX_PHOTO) return fail(t('err.visit.photo_size', 2));
        body.photos.push({ data: await base64(file) });
      }
      if (f.where.checked && navigator.geolocation) {
        await new Promise((res) => navigator.geolocation.getCurrentPosition((p) => { body.lat = p.coords.latitude; body.lng = p.coords.longitude; res(); }, res, { timeout: 5000 }));
      }
      await enqueue('visit', body);
      location.hash = '';
      flash(navigator.onLine ? t('grid.saved') : t('grid.saved_offline'));
    });
  }

  const answerRow = (name, label) => `<div class="answer"><span>${esc(label)}</span>
    <label><input type="radio" name="${name}" value="ok" checked> ${esc(t('grid.ok'))}</label>
    <label><input type="radio" name="${name}" value="problem"> ${esc(t('grid.problem'))}</label>
    <label><input type="radio" name="${name}" value="na"> ${esc(t('grid.na'))}</label></div>`;

  const base64 = (file) => new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });

  function leadScreen(id) {
    const l = bundle.leads.find((x) => x.id === id);
    if (!l) return notFound();
    const opt = (list, prefix) => list.map((v) => `<option value="${v}">${esc(t(prefix + v))}</option>`).join('');
    h(`<p><a href="#">‹ ${esc(t('grid.back'))}</a></p>
      <section class="card"><h1>${esc(l.name)}</h1><p class="mono">${esc(l.id_mask)} ${esc(l.phone_mask)}</p><p>${esc(l.address)}</p>
        <p class="muted">${esc(l.reason)} · ${esc(t('grid.deadline'))} ${esc(l.deadline)}</p></section>
      <form id="verify" class="card stack" novalidate><h2>${esc(t('lead.verify'))}</h2>
        <fieldset class="checks"><legend>${esc(t('lead.method'))}</legend>
          <label><input type="radio" name="method" value="visit" checked> ${esc(t('lead.method_visit'))}</label>
          <label><input type="radio" name="method" value="phone"> ${esc(t('lead.method_phone'))}</label></fieldset>
        <label>${esc(t('lead.outcome'))}<select name="outcome">${opt(['found', 'left', 'not_found', 'wrong_info', 'handled'], 'outcome.')}</select></label>
        <label>${esc(t('lead.left_to'))}<input name="left_to" maxlength="100"></label>
        <label>${esc(t('lead.note'))}<textarea name="note" rows="3" maxlength="2000"></textarea></label>
        <label>${esc(t('lead.photo'))}<input name="photo" type="file" accept="image/jpeg,image/png,image/webp" capture="environment"></label>
        <label>${esc(t('lead.call_record'))}<input name="call_record" maxlength="100"></label>
        ${l.person ? `<div class="row2"><label>${esc(t('lead.measure'))}<select name="measure">${opt(['none', 'health_monitoring', 'home_quarantine', 'test'], 'measure.')}</select></label>
          <label>${esc(t('lead.days'))}<input name="days" type="number" min="1" max="28" value="7"></label></div>` : ''}
        <p id="form-error" class="error" role="alert" hidden></p>
        <button type="submit" class="primary">${esc(t('lead.submit'))}</button></form>`);
    document.getElementById('verify').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = ev.target;
      const fail = (msg) => { const e = document.getElementById('form-error'); e.hidden = false; e.textContent = msg; };
      const method = f.querySelector('[name=method]:checked').value;
      const body = { method, outcome: f.outcome.value, left_to: f.left_to.value.trim(), note: f.note.value.trim(), call_record: f.call_record.value.trim(),
        measure: f.measure ? f.measure.value : 'none', days: f.days ? Number(f.days.value) : 0 };
      if (!body.note) return fail(t('err.lead.note'));
      if (body.outcome === 'left' && !body.left_to) return fail(t('err.lead.left_to'));
      if (method === 'phone' && !body.call_record) return fail(t('err.lead.call'));
      const file = f.photo.files[0];
      if (method === 'visit' && !file) return fail(t('err.lead.photo'));
      if (file) {
        if (!/^image\/(jpeg|png|webp)$/.test(file.type)) return fail(t('err.visit.photo_type'));
        if (file.size > MAX_PHOTO) return fail(t('err.visit.photo_size', 2));
        body.photo = await base64(file);
      }
      await enqueue('lead', body, 'lead-' + l.id);
      bundle.leads = bundle.leads.filter((x) => x.id !== l.id);
      location.hash = '';
      flash(navigator.onLine ? t('grid.saved') : t('grid.saved_offline'));
    });
  }

  function pointScreen(token) {
    const pt = bundle.points.find((p) => p.token === token);
    if (!pt) return notFound(t('grid.point_unknown'));
    const list = bundle.checklists.find((c) => c.id === pt.checklist_id);
    const items = list ? list.items : [];
    h(`<p><a href="#">‹ ${esc(t('grid.back'))}</a></p>
      <form id="patrol" class="card stack"><h1>${esc(t('grid.patrol'))} · ${esc(pt.name)}</h1>
        <p class="muted">${esc(t('point.' + pt.kind))}${pt.last_at ? ' · ' + esc(t('grid.last_check', day(pt.last_at))) : ''}</p>
        ${items.map((it, i) => answerRow('a' + i, it)).join('')}
        <label>${esc(t('grid.problem_found'))}<textarea name="problem" rows="3" maxlength="2000"></textarea></label>
        <button type="submit" class="primary">${esc(t('grid.check_in'))}</button></form>`);
    document.getElementById('patrol').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = ev.target;
      const answers = {};
      items.forEach((it, i) => { const c = f.querySelector(`[name=a${i}]:checked`); if (c) answers[it] = c.value; });
      await enqueue('patrol', { client_id: uid(), point_id: pt.id, at: new Date().toISOString(), answers, problem: f.problem.value.trim() });
      location.hash = '';
      flash(navigator.onLine ? t('grid.saved') : t('grid.saved_offline'));
    });
  }

  async function queueScreen() {
    const items = (await queueAll()).sort((a, b) => a.priority - b.priority || a.created - b.created);
    const label = (i) => (i.type === 'visit' ? (roomOf(i.body.room_id) || {}).address || i.body.room_id
      : i.type === 'lead' ? t('outcome.' + i.body.outcome) : (bundle.points.find((p) => p.id === i.body.point_id) || {}).name || '');
    h(`<p><a href="#">‹ ${esc(t('grid.back'))}</a></p><section class="card" id="queue"><h1>${esc(t('grid.queue'))}</h1>
      ${items.length ? items.map((i) => `<div class="qitem ${esc(i.status)}" data-id="${esc(i.client_id)}">
        <p><b>${esc(t('grid.q_' + i.type))}</b> ${esc(label(i))} <span class="badge">${esc(t('grid.status_' + i.status))}</span></p>
        ${i.error ? `<p class="error">${esc(i.error)}</p>` : ''}
        ${i.status === 'conflict' ? conflictHTML(i) : ''}
        ${i.status !== 'waiting' ? `<p class="actions">${i.status === 'conflict' ? `<button data-act="force" class="primary">${esc(t('grid.keep_mine'))}</button> <button data-act="drop_changes">${esc(t('grid.drop_changes'))}</button>` : `<button data-act="retry">${esc(t('grid.retry'))}</button>`}
          <button data-act="discard" class="danger">${esc(t('grid.discard'))}</button></p>` : ''}</div>`).join('') : `<p class="muted">${esc(t('grid.queue_empty'))}</p>`}</section>`);
    for (const b of screen.querySelectorAll('button[data-act]')) {
      b.addEventListener('click', async () => {
        const id = b.closest('.qitem').dataset.id;
        const item = (await queueAll()).find((x) => x.client_id === id);
        if (!item) return;
        if (b.dataset.act === 'discard') {
          if (!confirm(t('grid.discard_sure'))) return;
          await queueDel(id);
        } else {
          if (b.dataset.act === 'force') item.body.force = true;
          if (b.dataset.act === 'drop_changes') item.body.changes = [];
          Object.assign(item, { status: 'waiting', error: '', current: null });
          await queuePut(item);
        }
        await sync();
        queueScreen();
      });
    }
  }

  // Mine beside theirs: the member changes the worker recorded, and who
  // lives in the room now according to the server.
  function conflictHTML(item) {
    const room = roomOf(item.body.room_id) || { households: [] };
    const names = Object.fromEntries(room.households.flatMap((hh) => hh.members.map((m) => [m.person_id, m.name])));
    const mine = item.body.changes.map((c) => `<li>${esc(t('grid.' + c.kind))} ${esc(c.name || names[c.person_id] || '')}</li>`).join('');
    return `<div class="sidebyside"><div><h3>${esc(t('grid.mine_record'))}</h3><ul>${mine}</ul></div>
      <div><h3>${esc(t('grid.now_on_server'))}</h3>${householdsHTML(item.current || { households: [] })}</div></div>`;
  }

  function notFound(msg) {
    h(`<section class="card"><p>${esc(msg || t('grid.not_found'))}</p><p><a href="#">${esc(t('grid.back'))}</a></p></section>`);
  }

  function flash(msg) {
    const el = document.createElement('div');
    el.className = 'flash';
    el.setAttribute('role', 'status');
    el.textContent = msg;
    app.prepend(el);
    setTimeout(() => el.remove(), 4000);
  }

  async function route() {
    if (!bundle) {
      h(`<section class="card"><p>${esc(navigator.onLine ? t('grid.load_failed') : t('grid.offline_no_data'))}</p></section>`);
      return;
    }
    const [path, query] = location.hash.replace(/^#/, '').split('?');
    const params = new URLSearchParams(query || '');
    const [name, id] = path.split('/');
    app.dataset.screen = name || 'home';
    if (name === 'room') return roomScreen(id);
    if (name === 'visit') return visitScreen(id, params);
    if (name === 'point') return pointScreen(id);
    if (name === 'lead') return leadScreen(id);
    if (name === 'queue') return queueScreen();
    return home();
  }

  window.gridLog = [];
  window.addEventListener('hashchange', route);
  window.addEventListener('online', sync);
  window.addEventListener('offline', showNet);
  setInterval(() => { if (navigator.onLine) sync(); }, 30000);

  (async () => {
    if ('serviceWorker' in navigator) navigator.serviceWorker.register('/grid/sw.js', { scope: '/grid/' }).catch(() => {});
    await loadBundle(false);
    // A patrol sticker's QR code opens /grid/?point=TOKEN.
    const point = new URLSearchParams(location.search).get('point');
    if (point && !location.hash) location.hash = 'point/' + point;
    await route();
    await showNet();
    app.dataset.state = bundle ? 'ready' : 'nodata';
    sync();
  })();
})();
