// report.js: the self-report form's room picker. Choosing a building loads
// its units and rooms (addresses only) from the code's own endpoint.
(() => {
  'use strict';
  const form = document.getElementById('report');
  if (!form) return;
  const building = document.getElementById('building');
  const unitRow = document.getElementById('unit-row');
  const unit = document.getElementById('unit');
  const room = document.getElementById('room');
  const fill = (sel, items, first) => {
    sel.innerHTML = '';
    sel.append(new Option(first, ''));
    for (const it of items) sel.append(new Option(it.name, it.id));
  };
  async function load(parent) {
    const res = await fetch(form.dataset.rooms + '?parent=' + encodeURIComponent(parent));
    return res.ok ? res.json() : [];
  }
  building.addEventListener('change', async () => {
    const items = building.value ? await load(building.value) : [];
    const units = items.filter((i) => i.kind === 'unit');
    unitRow.hidden = units.length === 0;
    if (units.length) {
      fill(unit, units, '—');
      fill(room, [], '—');
    } else {
      fill(room, items.filter((i) => i.kind === 'room'), '—');
    }
  });
  const send = document.getElementById('send-code');
  if (send) {
    send.addEventListener('click', async () => {
      const status = document.getElementById('code-status');
      const body = new URLSearchParams({ phone: form.phone.value });
      const res = await fetch(send.dataset.url, { method: 'POST', body, headers: { Accept: 'application/json' } });
      const data = await res.json().catch(() => ({}));
      status.textContent = res.ok ? send.dataset.sent || '✓' : (data.error && data.error.message) || res.status;
      if (res.ok) {
        send.disabled = true;
        setTimeout(() => { send.disabled = false; }, 60000);
      }
    });
  }
  unit.addEventListener('change', async () => {
    fill(room, unit.value ? (await load(unit.value)).filter((i) => i.kind === 'room') : [], '—');
  });
})();
