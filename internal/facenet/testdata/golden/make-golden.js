// Reference outputs of face-api's own JavaScript build, for Rollcall's Go
// implementation of the networks (internal/facenet). Tooling only: run with
// `npm ci && node make-golden.js` in this directory; it writes nets.json and
// images.json here and prints the reference's timings.
//
// Backend: tfjs's pure-JavaScript 'cpu' backend (deterministic); the 'wasm'
// backend is run too and must agree, and is what the timings use.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const jpeg = require('jpeg-js');
const { PNG } = require('pngjs');

const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
const samplesDir = path.join(__dirname, '..', '..', 'samples');
const nonfacesDir = path.join(__dirname, '..', 'nonfaces');
const losslessDir = path.join(__dirname, '..', 'lossless');
const options = { inputSize: 416, scoreThreshold: 0.5 };

async function loadNets() {
  const load = async (net, name) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, `${name}-weights_manifest.json`)));
    const buf = fs.readFileSync(path.join(modelDir, manifest[0].paths[0]));
    const weights = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), manifest[0].weights);
    net.loadFromWeightMap(weights);
  };
  await load(faceapi.nets.tinyFaceDetector, 'tiny_face_detector_model');
  await load(faceapi.nets.faceLandmark68Net, 'face_landmark_68_model');
  await load(faceapi.nets.faceRecognitionNet, 'face_recognition_model');
}

// pattern is the deterministic input of the network tests: v(y,x,c) =
// (7x + 13y + 29c) mod 256, an n×n RGB image at the network's input size.
function pattern(n) {
  const d = new Int32Array(n * n * 3);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) for (let c = 0; c < 3; c++) d[(y * n + x) * 3 + c] = (x * 7 + y * 13 + c * 29) % 256;
  return tf.tensor3d(d, [n, n, 3], 'int32');
}

async function nets() {
  const det = await faceapi.nets.tinyFaceDetector.forward(pattern(416), 416);
  const lm = await faceapi.nets.faceLandmark68Net.forward(pattern(112));
  const desc = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(pattern(150));
  return {
    input: 'v(y,x,c) = (7x + 13y + 29c) mod 256 at each network\'s input size',
    detector: { size: 416, shape: det.shape, output: Array.from(await det.data()) },
    landmarks: { size: 112, output: Array.from(await lm.data()) },
    recognition: { size: 150, descriptor: Array.from(desc) },
  };
}

function decode(file) {
  const raw = fs.readFileSync(file);
  const img = file.endsWith('.png') ? PNG.sync.read(raw) : jpeg.decode(raw, { useTArray: true });
  const rgb = new Int32Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = img.data[4 * i + c];
  return { width: img.width, height: img.height, tensor: tf.tensor3d(rgb, [img.height, img.width, 3], 'int32') };
}

const box = (b) => ({ x: b.x, y: b.y, width: b.width, height: b.height });

async function faces(file) {
  const { width, height, tensor } = decode(file);
  const found = await faceapi.detectAllFaces(tensor, new faceapi.TinyFaceDetectorOptions(options)).withFaceLandmarks().withFaceDescriptors();
  tensor.dispose();
  return {
    width, height,
    faces: found.map((f) => ({
      score: f.detection.score,
      box: box(f.detection.box),
      landmarks: f.landmarks.positions.map((p) => [p.x, p.y]),
      descriptor: Array.from(f.descriptor),
    })).sort((a, b) => a.box.x - b.box.x),
  };
}

async function images() {
  const files = [
    ...fs.readdirSync(samplesDir).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(samplesDir, f)),
    ...fs.readdirSync(losslessDir).filter((f) => f.endsWith('.png')).sort().map((f) => path.join(losslessDir, f)),
    ...fs.readdirSync(nonfacesDir).filter((f) => f.endsWith('.png')).sort().map((f) => path.join(nonfacesDir, f)),
  ];
  const out = {};
  for (const f of files) out[path.relative(path.join(__dirname, '..', '..'), f)] = await faces(f);
  return out;
}

function maxDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function timings() {
  await tf.setBackend('wasm');
  await tf.ready();
  const { tensor } = decode(path.join(samplesDir, 'sample2.jpg'));
  const opts = new faceapi.TinyFaceDetectorOptions(options);
  const median = async (fn) => {
    await fn();
    const ts = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      await fn();
      ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return ts.sort((a, b) => a - b)[2];
  };
  const detect = await median(() => faceapi.detectAllFaces(tensor, opts));
  const all = await median(() => faceapi.detectAllFaces(tensor, opts).withFaceLandmarks().withFaceDescriptors());
  return { detect, all };
}

(async () => {
  wasm.setThreadsCount(1);
  await tf.setBackend('cpu');
  await tf.ready();
  await loadNets();
  const golden = { nets: await nets(), images: await images() };
  // The wasm backend must agree with the cpu one.
  await tf.setBackend('wasm');
  await tf.ready();
  const check = await nets();
  console.log('cpu vs wasm, largest difference: detector %s, landmarks %s, descriptor %s',
    maxDiff(golden.nets.detector.output, check.detector.output).toExponential(2),
    maxDiff(golden.nets.landmarks.output, check.landmarks.output).toExponential(2),
    maxDiff(golden.nets.recognition.descriptor, check.recognition.descriptor).toExponential(2));
  const meta = { package: '@vladmandic/face-api@1.7.15', tfjs: tf.version.tfjs, backend: 'cpu', options };
  fs.writeFileSync(path.join(__dirname, 'nets.json'), JSON.stringify({ ...meta, ...golden.nets }) + '\n');
  fs.writeFileSync(path.join(__dirname, 'images.json'), JSON.stringify({ ...meta, images: golden.images }, null, 1) + '\n');
  for (const [name, r] of Object.entries(golden.images)) console.log('%s: %d×%d, %d faces', name, r.width, r.height, r.faces.length);
  const t = await timings();
  console.log('wasm backend, one thread, sample2.jpg (1920×1367), input 416: detection %s ms, detection + landmarks + descriptor of its face %s ms (medians of 5)', t.detect.toFixed(1), t.all.toFixed(1));
})();
