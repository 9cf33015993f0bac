// enrol.js: the staff enrolment page's camera. The page provides
//   <video id="cam" autoplay playsinline>, <canvas id="shot" hidden>,
//   <button id="capture" type="button">, an element #enrol-msg, and
//   <form id="enrol-form"> with hidden inputs descriptor, model, photo and a
//   submit button.
// On #capture the current frame is frozen on #shot, exactly one face must be
// in it, and the hidden inputs get the descriptor (JSON array of 128
// numbers), the model id and the photo (JPEG data URL, quality 0.9); then
// the submit button is enabled.
// document.body.dataset.enrol: loading | ready | captured | noface | error
// (noface also covers "more than one face"; data-faces has the count).
// #shot stays hidden; to show the frame that will be saved, style it, e.g.
// body[data-enrol="captured"] #shot { display: block; }
import { MODEL, load, describeAll, freeze, openCamera } from './face.js';

const $ = (id) => document.getElementById(id);
const body = document.body;
const video = $('cam');
const shot = $('shot');
const button = $('capture');
const form = $('enrol-form');
const msg = $('enrol-msg');
const submit = form && form.querySelector('[type="submit"], button:not([type]), button[type="submit"]');

function field(name) {
  return form && form.elements.namedItem(name);
}

function say(text, kind) {
  if (!msg) return;
  msg.textContent = text;
  msg.dataset.kind = kind || '';
  msg.hidden = !text;
}

function clear() {
  for (const n of ['descriptor', 'model', 'photo']) {
    const f = field(n);
    if (f) f.value = '';
  }
  if (submit) submit.disabled = true;
}

function setState(s) {
  body.dataset.enrol = s;
}

async function capture() {
  button.disabled = true;
  clear();
  say('正在识别…', 'info');
  try {
    const frame = freeze(video, shot);
    if (!frame) {
      setState('noface');
      say('摄像头没有画面，请稍候再试', 'error');
      return;
    }
    const faces = await describeAll(frame);
    body.dataset.faces = String(faces.length);
    if (faces.length === 0) {
      setState('noface');
      say('未检测到人脸，请正对摄像头后重试', 'error');
      return;
    }
    if (faces.length > 1) {
      setState('noface');
      say(`画面中有 ${faces.length} 张人脸，请确保只有一人后重试`, 'error');
      return;
    }
    const f = faces[0];
    field('descriptor').value = JSON.stringify(f.descriptor);
    field('model').value = MODEL;
    field('photo').value = frame.toDataURL('image/jpeg', 0.9);
    if (submit) submit.disabled = false;
    setState('captured'); // the page may show #shot (the saved frame) with CSS on this
    say(`已采集（用时 ${f.faceMs} 毫秒），请确认后提交`, 'ok');
  } catch (e) {
    setState('error');
    say(`采集失败：${e && e.message ? e.message : e}`, 'error');
  } finally {
    button.disabled = false;
  }
}

async function main() {
  setState('loading');
  clear();
  button.disabled = true;
  say('正在启动摄像头和识别模型…', 'info');
  try {
    await Promise.all([load(), openCamera(video)]);
  } catch (e) {
    setState('error');
    say(`无法启动：${e && e.message ? e.message : e}`, 'error');
    return;
  }
  button.addEventListener('click', capture);
  // Never submit without a descriptor (e.g. Enter in another field).
  form.addEventListener('submit', (ev) => {
    if (!field('descriptor').value) {
      ev.preventDefault();
      say('请先采集人脸', 'error');
    }
  });
  button.disabled = false;
  setState('ready');
  say('请正对摄像头，点击“采集”', 'info');
}

main();
