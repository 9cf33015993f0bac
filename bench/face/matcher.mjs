#!/usr/bin/env node
// matcher.mjs: how long does face-api's own FaceMatcher take for one query
// against 50,000 enrolled descriptors? Compare with Go's
// BenchmarkMatch50k (internal/face).
//
//   npm ci --prefix web/kiosk                       # face-api 1.7.15
//   FACE_BENCH_GALLERY=/tmp/g.json go test -run WriteBenchGallery ./internal/face
//   node bench/face/matcher.mjs /tmp/g.json         # the Go benchmark's exact data
//   node bench/face/matcher.mjs                     # or a generated gallery
//   node bench/face/matcher.mjs --n 10000 --iters 50
//
// A gallery file is JSON: {"query":[128 numbers], "faces":[{"face","person","d":[128]}],
// "expect":{"FaceID","Distance"}} (expect optional). Without a file, a
// gallery is generated the same way as in Go — normal components from a
// seeded generator, normalised to unit length — with a JS generator
// (mulberry32 + Box–Muller), so the numbers differ but not their
// distribution.
//
// FaceMatcher is plain JavaScript (no model, no tfjs kernel); it is loaded
// from face-api's browser bundle in web/kiosk/node_modules. The bundle's
// tfjs would pick its Node platform, which needs the real 'util' module;
// declaring WorkerGlobalScope makes it take the browser platform instead.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

globalThis.WorkerGlobalScope ??= class {};
const here = dirname(fileURLToPath(import.meta.url));
const bundle = resolve(here, '../../web/kiosk/node_modules/@vladmandic/face-api/dist/face-api.esm.js');
const faceapi = await import(bundle).catch((e) => {
  console.error(`cannot load ${bundle}: ${e.message}\nrun: npm ci --prefix web/kiosk`);
  process.exit(2);
});

const DIM = 128;
const THRESHOLD = 0.5;

function parseArgs(argv) {
  const a = { file: '', n: 50000, iters: 20, seed: 2026 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--n') a.n = Number(argv[++i]);
    else if (v === '--iters') a.iters = Number(argv[++i]);
    else if (v === '--seed') a.seed = Number(argv[++i]);
    else if (v === '-h' || v === '--help') {
      console.log('usage: node matcher.mjs [gallery.json] [--n 50000] [--iters 20] [--seed 2026]');
      process.exit(0);
    } else a.file = v;
  }
  return a;
}

function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function unitVector(rand) {
  const d = new Float32Array(DIM);
  let n = 0;
  for (let i = 0; i < DIM; i++) {
    // Box–Muller
    const u = 1 - rand();
    const v = rand();
    const x = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    d[i] = x;
    n += x * x;
  }
  n = Math.sqrt(n);
  for (let i = 0; i < DIM; i++) d[i] /= n;
  return d;
}

function loadGallery(a) {
  if (a.file) {
    const j = JSON.parse(readFileSync(a.file, 'utf8'));
    return {
      source: `${a.file} (${j.generator || 'file'})`,
      faces: j.faces.map((f) => ({ face: f.face, person: f.person, d: new Float32Array(f.d) })),
      query: new Float32Array(j.query),
      expect: j.expect || null,
    };
  }
  const rand = mulberry32(a.seed);
  const faces = [];
  for (let i = 0; i < a.n; i++) faces.push({ face: `f${i}`, person: `p${i >> 1}`, d: unitVector(rand) });
  return { source: `generated, mulberry32(${a.seed}) + Box–Muller, unit vectors`, faces, query: unitVector(rand), expect: null };
}

function time(fn, iters) {
  for (let i = 0; i < 3; i++) fn(); // warm up the JIT
  const ms = [];
  let r;
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    r = fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((x, y) => x - y);
  return { r, median: ms[ms.length >> 1], min: ms[0], mean: ms.reduce((s, x) => s + x, 0) / ms.length };
}

const a = parseArgs(process.argv.slice(2));
const g = loadGallery(a);
const n = g.faces.length;
console.log(`face-api ${faceapi.version}, node ${process.version}; gallery: ${n} faces; ${g.source}`);

// 1. face-api's FaceMatcher, one label per enrolled face (= a 1:N over faces,
//    like Go's Index.Match; FaceMatcher would average the distances of a
//    label's descriptors).
const matcher = new faceapi.FaceMatcher(g.faces.map((f) => new faceapi.LabeledFaceDescriptors(f.face, [f.d])), THRESHOLD);
const fm = time(() => matcher.findBestMatch(g.query), a.iters);
console.log(`FaceMatcher.findBestMatch: ${fm.median.toFixed(2)} ms/query (median of ${a.iters}; min ${fm.min.toFixed(2)}, mean ${fm.mean.toFixed(2)}) -> ${fm.r.label} (${fm.r.distance.toFixed(6)})`);

// 2. The same scan as Go's (contiguous Float32Array, squared distances,
//    sqrt of the best only) in plain JS, for reference.
const slab = new Float32Array(n * DIM);
g.faces.forEach((f, i) => slab.set(f.d, i * DIM));
const q = g.query;
function scan() {
  let best = -1;
  let bd = Infinity;
  for (let i = 0, off = 0; i < n; i++, off += DIM) {
    let s = 0;
    for (let k = 0; k < DIM; k++) {
      const d = slab[off + k] - q[k];
      s += d * d;
    }
    if (s < bd) { bd = s; best = i; }
  }
  return { face: g.faces[best].face, distance: Math.sqrt(bd) };
}
const sc = time(scan, a.iters);
console.log(`plain JS slab scan:        ${sc.median.toFixed(2)} ms/query (median of ${a.iters}; min ${sc.min.toFixed(2)}, mean ${sc.mean.toFixed(2)}) -> ${sc.r.face} (${sc.r.distance.toFixed(6)})`);

if (g.expect) {
  // findBestMatch says "unknown" beyond the threshold; matchDescriptor
  // names the nearest label regardless.
  const near = matcher.matchDescriptor(g.query);
  const ok = near.label === g.expect.FaceID;
  const same = sc.r.face === g.expect.FaceID;
  console.log(`Go's answer: ${g.expect.FaceID} (${Number(g.expect.Distance).toFixed(6)}, found=${g.expect.Found}); ` +
    `FaceMatcher nearest ${near.label} ${ok ? 'agrees' : 'DISAGREES'}, scan ${same ? 'agrees' : 'DISAGREES'}`);
  if (!ok || !same) process.exitCode = 1;
}
