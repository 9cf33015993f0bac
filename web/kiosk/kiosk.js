// kiosk.js: the gate's screen. Camera -> face descriptor (or QR pass) ->
// POST /api/device/v1/decide -> show the answer.
//
// Configuration: /kiosk/?device=GATE_ID[&direction=out]#token=DEVICE_TOKEN
// The token is moved into sessionStorage and removed from the address bar.
//
// For tests: document.body.dataset.state is idle|checking|allow|deny|review,
// data-reason / data-person (person_id) / data-name (masked name) describe
// the last answer shown, and window.kioskLog keeps the last 50 decisions.
import { MODEL, load, warmUp, describe, freeze, openCamera, backend } from './face.js';

const DECIDE_URL = '/api/device/v1/decide';
const RESULT_MS = 3000;      // how long a result stays on screen
const CONFIRM_MS = 2500;     // two "allow" frames must be this close together
const IDLE_POLL_MS = 150;    // pause between frames with no face
const QR_REPEAT_MS = 65000;  // the same QR text is not sent again while it lives (a code opens once)
const LOG_MAX = 50;
const TOKEN_KEY = 'shequ.kiosk.token';

const $ = (id) => document.getElementById(id);
const body = document.body;
const video = $('cam');
const canvas = $('frame');
const tempInput = $('temperature');

const params = new URLSearchParams(location.search);
const device = params.get('device') || '';
const direction = params.get('direction') === 'out' ? 'out' : 'in';

// Reason codes -> screen text, used when the server sends no message.
const REASON_TEXT = {
  ok: '请通行',
  override: '请通行',
  unknown_person: '未登记人员，请到岗亭登记',
  not_authorised: '无通行权限',
  pass_expired: '通行码已过期，请刷新后重试',
  pass_used: '通行码已使用，请刷新后重试',
  fever: '体温异常，请到岗亭复测',
  code_colour: '健康码异常，禁止通行',
  code_unknown: '请出示健康码',
  test_missing: '请出示有效核酸检测证明',
  test_positive: '检测结果异常，禁止通行',
  vaccination: '未满足疫苗接种要求',
  monitoring: '管控期间，禁止外出进入',
  curfew: '当前时段禁止进入',
  visitor_rule: '访客不符合进入规定',
  temperature_unknown: '请测量体温',
  network: '网络异常，请人工核验',
  unauthorised_device: '设备未授权，请联系管理员',
  server_error: '系统异常，请人工核验',
};

const TITLES = {
  idle: '等待',
  checking: '识别中',
  allow: '请通行',
  deny: '禁止通行',
  review: '请人工核验',
};

// --- token: from the URL fragment into sessionStorage ----------------------
function takeToken() {
  const frag = new URLSearchParams(location.hash.replace(/^#/, ''));
  const t = frag.get('token');
  if (t) {
    try { sessionStorage.setItem(TOKEN_KEY, t); } catch { /* private mode: keep in memory */ }
    history.replaceState(null, '', location.pathname + location.search);
    return t;
  }
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}
const token = takeToken();

// --- screen -----------------------------------------------------------------
window.kioskLog = [];

function show(state, { reason = '', person = '', name = '', text } = {}) {
  body.dataset.state = state;
  body.dataset.reason = reason;
  body.dataset.person = person;
  body.dataset.name = name;
  $('status-title').textContent = TITLES[state];
  $('status-name').textContent = state === 'allow' ? name : '';
  if (text === undefined) {
    text = state === 'idle' ? '请正对摄像头' : state === 'checking' ? '请保持不动' : (REASON_TEXT[reason] || '');
  }
  $('status-text').textContent = text;
}

function notice(msg) {
  $('notice').textContent = msg || '';
}

function logDecision(kind, r, extra = {}) {
  window.kioskLog.push({
    at: new Date().toISOString(),
    kind,
    outcome: r.outcome,
    reason: r.reason || '',
    person_id: r.person_id || '',
    distance: typeof r.distance === 'number' ? r.distance : null,
    decision_id: r.decision_id || '',
    ...extra,
  });
  if (window.kioskLog.length > LOG_MAX) window.kioskLog.splice(0, window.kioskLog.length - LOG_MAX);
}

function tick() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  $('clock').textContent = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// --- server -----------------------------------------------------------------
function eventID() {
  if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts only
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function temperature() {
  const t = parseFloat(tempInput.value);
  return Number.isFinite(t) && t > 0 ? Math.round(t * 10) / 10 : 0;
}

// decide posts one attempt. Failures come back as a "review" answer with a
// local reason, so the screen always says something.
async function decide(credential) {
  const req = {
    event_id: eventID(),
    credential,
    direction,
    device_time: new Date().toISOString(),
  };
  const t = temperature();
  if (t) req.temperature = t;
  let res;
  try {
    res = await fetch(DECIDE_URL, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        Authorization: `Bearer ${token}`,
      },
      body: JSON.stringify(req),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    return { outcome: 'review', reason: 'network', message: REASON_TEXT.network, local: String(e) };
  }
  if (res.status === 401 || res.status === 403) {
    return { outcome: 'review', reason: 'unauthorised_device', message: REASON_TEXT.unauthorised_device, local: `HTTP ${res.status}` };
  }
  if (!res.ok) {
    let msg = '';
    try { msg = (await res.json()).error?.message || ''; } catch { /* not JSON */ }
    return { outcome: 'review', reason: 'server_error', message: REASON_TEXT.server_error, local: `HTTP ${res.status} ${msg}` };
  }
  try {
    return await res.json();
  } catch {
    return { outcome: 'review', reason: 'server_error', message: REASON_TEXT.server_error, local: 'bad JSON' };
  }
}

// --- the loop ----------------------------------------------------------------
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let pending = null; // first "allow" frame waiting for its confirmation
let lastQR = { text: '', at: 0 };

async function showResult(r) {
  const state = ['allow', 'deny', 'review'].includes(r.outcome) ? r.outcome : 'review';
  show(state, {
    reason: r.reason || '',
    person: r.person_id || '',
    name: r.person || '',
    text: r.message || REASON_TEXT[r.reason] || undefined,
  });
  if (r.local) notice(r.local);
  await sleep(RESULT_MS);
  notice('');
  show('idle');
}

// QR passes: the browser's own BarcodeDetector where it has one (Android,
// ChromeOS, macOS), else jsQR (npm, served from node_modules) on the frame.
let detector = null;
async function qrDetector() {
  if ('BarcodeDetector' in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes('qr_code')) {
        const d = new window.BarcodeDetector({ formats: ['qr_code'] });
        return async (frame) => {
          const c = (await d.detect(frame)).find((x) => x.rawValue);
          return c ? c.rawValue : '';
        };
      }
    } catch { /* fall through to jsQR */ }
  }
  if (typeof window.jsQR !== 'function') return null;
  return async (frame) => {
    const ctx = frame.getContext('2d', { willReadFrequently: true });
    const img = ctx.getImageData(0, 0, frame.width, frame.height);
    const c = window.jsQR(img.data, img.width, img.height, { inversionAttempts: 'dontInvert' });
    return c ? c.data : '';
  };
}

async function scanQR(frame) {
  if (!detector) return '';
  try {
    return await detector(frame);
  } catch {
    return '';
  }
}

async function step() {
  const frame = freeze(video, canvas);
  if (!frame) {
    await sleep(IDLE_POLL_MS);
    return;
  }

  // A QR pass shown to the camera wins over a face.
  const qr = await scanQR(frame);
  if (qr && !(qr === lastQR.text && Date.now() - lastQR.at < QR_REPEAT_MS)) {
    lastQR = { text: qr, at: Date.now() };
    pending = null;
    show('checking');
    const r = await decide({ kind: 'qr', value: qr });
    logDecision('qr', r);
    await showResult(r);
    return;
  }

  const f = await describe(frame);
  if (!f) { // no face: stay idle and do not bother the server
    pending = null;
    if (body.dataset.state !== 'idle') show('idle');
    await sleep(IDLE_POLL_MS);
    return;
  }
  show('checking');
  const r = await decide({ kind: 'face', descriptor: f.descriptor, model: MODEL });
  logDecision('face', r, { face_ms: f.faceMs });

  if (r.outcome === 'allow') {
    // Open only after two consecutive "allow" frames for the same person.
    const now = Date.now();
    if (pending && r.person_id && pending.person_id === r.person_id && now - pending.at <= CONFIRM_MS) {
      pending = null;
      await showResult(r);
    } else {
      pending = { person_id: r.person_id || '', at: now };
    }
    return;
  }
  // deny / review: at once.
  pending = null;
  await showResult(r);
}

async function main() {
  tick();
  setInterval(tick, 1000);
  if (device) $('gate-name').textContent = `门禁 ${device}`;
  show('idle', { text: '正在启动…' });
  if (!token) notice('未配置设备令牌（#token=…）');
  try {
    await Promise.all([load().then(warmUp), openCamera(video)]);
  } catch (e) {
    show('review', { reason: 'startup', text: '设备故障，请人工核验' });
    notice(String(e && e.message ? e.message : e));
    body.dataset.error = String(e && e.message ? e.message : e);
    return;
  }
  detector = await qrDetector();
  body.dataset.backend = backend();
  body.dataset.camera = `${video.videoWidth}x${video.videoHeight}`;
  body.dataset.ready = '1';
  show('idle');
  for (;;) {
    try {
      await step();
    } catch (e) {
      notice(String(e && e.message ? e.message : e));
      pending = null;
      show('idle');
      await sleep(1000);
    }
  }
}

main();
