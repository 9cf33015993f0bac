// face.js: face descriptors in the browser with @vladmandic/face-api 1.7.15
// on the tfjs WASM backend. Shared by the gate kiosk (kiosk.js) and the
// staff enrolment page (enrol.js).
//
// Everything is served by our own server, no CDN:
//   /kiosk/lib/face-api/  -> node_modules/@vladmandic/face-api/ (dist/, model/)
//   /kiosk/lib/tfjs-wasm/ -> node_modules/@tensorflow/tfjs-backend-wasm/dist/
import * as faceapi from '/kiosk/lib/face-api/dist/face-api.esm.js';

// MODEL identifies the descriptors this code makes. The server stores it
// with every descriptor and only compares descriptors of the same model
// (browser and Node differ by ~0.01; other detectors shift descriptors).
export const MODEL = 'face-api-1.7.15/resnet128';

const MODEL_URL = '/kiosk/lib/face-api/model';
const WASM_URL = '/kiosk/lib/tfjs-wasm/';
const MIN_CONFIDENCE = 0.5;

let ready = null;

// load loads the backend and the three models once; later calls share the
// same promise.
export function load() {
  if (!ready) {
    ready = (async () => {
      // Without this the wasm backend fetches its .wasm from a CDN.
      faceapi.tf.setWasmPaths(WASM_URL);
      // Never the threaded build: if the page is ever cross-origin isolated
      // (COOP+COEP), tfjs would start workers from blob: URLs, which the CSP
      // blocks — and then the backend hangs instead of failing. Threads
      // gave no speed-up on 2 cores anyway.
      faceapi.tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      if (!(await faceapi.tf.setBackend('wasm'))) {
        throw new Error('tfjs wasm backend failed to initialise');
      }
      await faceapi.tf.ready();
      await Promise.all([
        faceapi.nets.ssdMobilenetv1.loadFromUri(MODEL_URL),
        faceapi.nets.faceLandmark68Net.loadFromUri(MODEL_URL),
        faceapi.nets.faceRecognitionNet.loadFromUri(MODEL_URL),
      ]);
    })();
    ready.catch(() => { ready = null; }); // allow a retry after a failure
  }
  return ready;
}

// warmUp runs the three networks once on a blank frame, so the first
// person at the gate does not wait for the WASM kernels to settle (the
// first description takes 3–4 times as long as the following ones).
export async function warmUp() {
  await load();
  const c = document.createElement('canvas');
  c.width = 160;
  c.height = 160;
  const g = c.getContext('2d');
  g.fillStyle = '#808080';
  g.fillRect(0, 0, c.width, c.height);
  await faceapi.detectAllFaces(c, options());
  await faceapi.nets.faceLandmark68Net.detectLandmarks(c);
  await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(c);
}

// backend reports what tfjs runs on (for diagnostics).
export function backend() {
  return faceapi.tf.getBackend();
}

let work = null;

// freeze draws the current frame of a video (or an image) onto a canvas at
// its native size and returns the canvas. The face-api pipeline reads its
// input twice (detection, then landmarks/descriptor crops): a live video
// would move on in between, so always describe a frozen frame.
export function freeze(source, canvas) {
  const w = source.videoWidth || source.naturalWidth || source.width;
  const h = source.videoHeight || source.naturalHeight || source.height;
  if (!w || !h) return null;
  const c = canvas || (work ||= document.createElement('canvas'));
  if (c.width !== w) c.width = w;
  if (c.height !== h) c.height = h;
  c.getContext('2d', { willReadFrequently: true }).drawImage(source, 0, 0, w, h);
  return c;
}

function frozen(input) {
  return input instanceof HTMLCanvasElement ? input : freeze(input);
}

const options = () => new faceapi.SsdMobilenetv1Options({ minConfidence: MIN_CONFIDENCE });

// describe returns the descriptor of the most confident face in a canvas
// or video frame, {descriptor: number[128], faceMs}, or null when there is
// no face.
export async function describe(canvasOrVideo) {
  await load();
  const input = frozen(canvasOrVideo);
  if (!input) return null;
  const t0 = performance.now();
  const r = await faceapi.detectSingleFace(input, options()).withFaceLandmarks().withFaceDescriptor();
  const faceMs = Math.round(performance.now() - t0);
  if (!r) return null;
  return { descriptor: Array.from(r.descriptor), faceMs, score: r.detection.score, box: boxOf(r) };
}

// describeAll returns every face in the frame, most confident first
// (enrolment needs exactly one).
export async function describeAll(canvasOrVideo) {
  await load();
  const input = frozen(canvasOrVideo);
  if (!input) return [];
  const t0 = performance.now();
  const rs = await faceapi.detectAllFaces(input, options()).withFaceLandmarks().withFaceDescriptors();
  const faceMs = Math.round(performance.now() - t0);
  return rs
    .map((r) => ({ descriptor: Array.from(r.descriptor), faceMs, score: r.detection.score, box: boxOf(r) }))
    .sort((a, b) => b.score - a.score);
}

function boxOf(r) {
  const b = r.detection.box;
  return { x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) };
}

// openCamera starts the camera at its native size (no rescaling: a scaled
// frame distorts the face). Chromium picks the native mode nearest to
// 1920x1080 with resizeMode "none".
export async function openCamera(video, facingMode = 'user') {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error('camera API unavailable (the page needs https or localhost)');
  }
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { width: { ideal: 1920 }, height: { ideal: 1080 }, resizeMode: 'none', facingMode },
  });
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  await new Promise((resolve) => {
    if (video.readyState >= 2 && video.videoWidth) resolve();
    else video.addEventListener('loadeddata', resolve, { once: true });
  });
  await video.play().catch(() => {});
  return stream;
}
