// The playground: plain browser JavaScript over the service's own JSON API (see /docs). No build step.
'use strict';

const $ = (id) => document.getElementById(id);

const state = {
  image: null,        // the image as a data: URL, sent as-is in every request
  width: 0,           // its original size: boxes are in these pixels
  height: 0,
  boxes: [],          // boxes drawn by the user, [x1, y1, x2, y2]
  boxLabels: [],      // /v1/regions/classify results, one per box
  detections: [],     // /v1/detections/rescore results
  drag: null,         // the box being drawn
};

// ---- HTTP ----

// A service started with fgclip2.security.api-keys answers 401 without a key: the page then asks for one and keeps
// it for this tab only (sessionStorage), sending it as X-API-Key.
const KEY_STORE = 'fgclip2-api-key';

function withKey(headers) {
  const key = sessionStorage.getItem(KEY_STORE);
  return key ? { ...headers, 'X-API-Key': key } : headers;
}

async function get(path) {
  const response = await fetch(path, { headers: withKey({}) });
  return checked(path, response);
}

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: withKey({ 'Content-Type': 'application/json' }),
    body: JSON.stringify(body),
  });
  return checked(path, response);
}

async function checked(path, response) {
  if (response.status === 401) {
    $('api-key-field').hidden = false;
    throw new Error(`${path}: this service needs an API key; enter it at the top of the page.`);
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    if ((response.headers.get('Content-Type') || '').includes('json')) {
      const problem = await response.json();
      detail = problem.detail + (problem.pointer ? ` (at ${problem.pointer})` : '');
    }
    throw new Error(`${path}: ${detail}`);
  }
  return response;
}

function showError(error) {
  $('error').textContent = error.message;
  $('error').hidden = false;
}

// Runs one user action; a failure is shown on the page rather than thrown into the console.
async function act(action) {
  $('error').hidden = true;
  try {
    await action();
  } catch (error) {
    showError(error);
  }
}

function labels() {
  return $('labels').value.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}

const format = (p) => p.toFixed(4);

// ---- model ----

async function loadModel() {
  const models = await (await get('/v1/models')).json();
  const model = models.data[0];
  $('model-line').textContent = `Model ${model.id} (${model.variant}, ${model.precision}, revision ${model.revision}) on ${model.provider}`;
  if (model.demo) {
    $('demo-banner').textContent = 'Demo model loaded: random, untrained weights. Every score on this page is meaningless; '
      + 'start the service with fgclip2.model.dir set to a FG-CLIP 2 checkpoint for real results (README, "Use a real model").';
    $('demo-banner').hidden = false;
  }
}

// ---- image ----

function readImage(file) {
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    state.image = reader.result;
    $('photo').src = state.image;
  };
  reader.readAsDataURL(file);
}

$('photo').addEventListener('load', () => {
  const photo = $('photo');
  state.width = photo.naturalWidth;
  state.height = photo.naturalHeight;
  state.boxes = [];
  state.boxLabels = [];
  state.detections = [];
  $('overlay').width = state.width;
  $('overlay').height = state.height;
  $('heatmap').hidden = true;
  $('heatmap-legend').hidden = true;
  $('stage').hidden = false;
  renderBoxes();
  renderDetections();
  act(classify);
});

$('file').addEventListener('change', (event) => readImage(event.target.files[0]));
$('drop-zone').addEventListener('dragover', (event) => event.preventDefault());
$('drop-zone').addEventListener('drop', (event) => {
  event.preventDefault();
  readImage(event.dataTransfer.files[0]);
});

// ---- zero-shot labels ----

async function classify() {
  const all = labels();
  const answer = await (await post('/v1/classify', { image: state.image, labels: all, topK: all.length })).json();
  const list = $('label-results');
  list.replaceChildren(...answer.results.map((result) => barItem(result.label, result.probability)));
}

function barItem(label, probability) {
  const item = document.createElement('li');
  item.dataset.label = label;
  item.dataset.probability = probability;
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = label;
  const bar = document.createElement('span');
  bar.className = 'bar';
  const fill = document.createElement('span');
  fill.style.width = `${(probability * 100).toFixed(1)}%`;
  bar.append(fill);
  const value = document.createElement('span');
  value.className = 'value';
  value.textContent = format(probability);
  item.append(name, bar, value);
  return item;
}

$('classify').addEventListener('click', () => act(classify));

// ---- boxes ----

// Mouse position in the image's original pixels (the canvas is the image's size, scaled by CSS).
function imagePoint(event) {
  const rect = $('overlay').getBoundingClientRect();
  const x = (event.clientX - rect.left) * state.width / rect.width;
  const y = (event.clientY - rect.top) * state.height / rect.height;
  return [Math.round(Math.min(Math.max(x, 0), state.width)), Math.round(Math.min(Math.max(y, 0), state.height))];
}

$('overlay').addEventListener('mousedown', (event) => {
  state.drag = { from: imagePoint(event), to: imagePoint(event) };
});
$('overlay').addEventListener('mousemove', (event) => {
  if (!state.drag) return;
  state.drag.to = imagePoint(event);
  draw();
});
window.addEventListener('mouseup', () => {
  if (!state.drag) return;
  const [a, b] = [state.drag.from, state.drag.to];
  state.drag = null;
  const box = [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
  if (box[2] - box[0] >= 4 && box[3] - box[1] >= 4) {
    state.boxes.push(box);
    act(classifyBoxes);
  }
  draw();
});

async function classifyBoxes() {
  const all = labels();
  const answer = await (await post('/v1/regions/classify',
    { image: state.image, boxes: state.boxes, labels: all, topK: Math.min(3, all.length) })).json();
  state.boxLabels = answer.results;
  renderBoxes();
}

function renderBoxes() {
  $('box-results').replaceChildren(...state.boxLabels.map((result) => {
    const item = document.createElement('li');
    item.dataset.box = JSON.stringify(state.boxes[result.index]);
    const title = document.createElement('div');
    title.textContent = `box ${result.index + 1} [${state.boxes[result.index].join(', ')}]`;
    const top = document.createElement('ol');
    top.className = 'bars';
    top.append(...result.labels.map((label) => barItem(label.label, label.probability)));
    item.append(title, top);
    return item;
  }));
  draw();
}

$('clear-boxes').addEventListener('click', () => {
  state.boxes = [];
  state.boxLabels = [];
  renderBoxes();
});

// ---- heatmap ----

async function locate() {
  const body = { image: state.image, texts: [$('phrase').value], format: 'png' };
  if ($('scale').value === 'cosine') body.range = [-1, 1];
  const response = await post('/v1/dense/similarity', body);
  const heatmap = $('heatmap');
  if (heatmap.src) URL.revokeObjectURL(heatmap.src);
  heatmap.src = URL.createObjectURL(await response.blob());
  heatmap.hidden = false;
  const h = (name) => Number(response.headers.get(name)).toFixed(3);
  $('legend-text').textContent = `blue ${h('Fgclip2-Scale-Min')} to red ${h('Fgclip2-Scale-Max')} (cosine; this map spans `
    + `${h('Fgclip2-Similarity-Min')} .. ${h('Fgclip2-Similarity-Max')})`;
  $('heatmap-legend').hidden = false;
}

function applyOpacity() {
  $('heatmap').style.opacity = $('opacity').value / 100;
  $('opacity-value').textContent = `${$('opacity').value}%`;
}

$('locate').addEventListener('click', () => act(locate));
$('opacity').addEventListener('input', applyOpacity);

// ---- detections ----

function rescoreRequest() {
  const pasted = JSON.parse($('detections').value);
  const request = Array.isArray(pasted) ? { detections: pasted } : pasted;
  request.image = state.image;
  if (!request.vocabulary) request.vocabulary = labels();
  return request;
}

async function rescore() {
  let request;
  try {
    request = rescoreRequest();
  } catch (error) {
    throw new Error(`The detections are not valid JSON: ${error.message}`);
  }
  const answer = await (await post('/v1/detections/rescore', request)).json();
  state.detections = answer.detections;
  renderDetections();
}

function renderDetections() {
  const threshold = Number($('threshold').value);
  $('threshold-value').textContent = threshold.toFixed(3);
  const rows = state.detections.map((d) => {
    const row = document.createElement('tr');
    row.className = d.score >= threshold ? 'shown' : 'below';
    for (const cell of [d.index + 1, d.label, format(d.detectorScore), format(d.alignProbability), format(d.score)]) {
      const td = document.createElement('td');
      td.textContent = cell;
      row.append(td);
    }
    return row;
  });
  $('detection-results').tBodies[0].replaceChildren(...rows);
  $('detection-results').hidden = rows.length === 0;
  draw();
}

$('rescore').addEventListener('click', () => act(rescore));
$('threshold').addEventListener('input', renderDetections);

// ---- drawing ----

function draw() {
  const canvas = $('overlay');
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  const line = Math.max(2, canvas.width / 320);
  g.lineWidth = line;
  g.font = `${Math.round(line * 7)}px sans-serif`;
  const threshold = Number($('threshold').value);
  for (const d of state.detections.filter((d) => d.score >= threshold)) {
    outline(g, d.box, '#f59e0b', `${d.label} ${d.score.toFixed(2)}`);
  }
  state.boxes.forEach((box, i) => {
    const top = state.boxLabels[i] ? state.boxLabels[i].labels[0] : null;
    outline(g, box, '#2563eb', `${i + 1}${top ? ` ${top.label} ${top.probability.toFixed(2)}` : ''}`);
  });
  if (state.drag) {
    const [a, b] = [state.drag.from, state.drag.to];
    outline(g, [a[0], a[1], b[0], b[1]], '#16a34a', '');
  }
}

function outline(g, [x1, y1, x2, y2], colour, caption) {
  g.strokeStyle = colour;
  g.strokeRect(x1, y1, x2 - x1, y2 - y1);
  if (!caption) return;
  const height = parseInt(g.font, 10) + 4;
  g.fillStyle = colour;
  g.fillRect(x1, Math.max(0, y1 - height), g.measureText(caption).width + 6, height);
  g.fillStyle = '#fff';
  g.fillText(caption, x1 + 3, Math.max(0, y1 - height) + height - 4);
}

// ---- collection search (shown once the service holds a collection) ----

async function loadCollections() {
  const collections = (await (await get('/v1/collections')).json()).data || [];
  if (collections.length === 0) return; // nothing indexed yet: no search panel
  $('collection').replaceChildren(...collections.map((c) => new Option(c.name, c.name)));
  $('search-panel').hidden = false;
}

async function search() {
  const name = encodeURIComponent($('collection').value);
  const answer = await (await post(`/v1/collections/${name}/search`, { query: { text: $('query').value }, topK: 10 })).json();
  $('search-results').replaceChildren(...(answer.hits || []).map((hit) => {
    const item = document.createElement('li');
    item.textContent = `${hit.id} ${format(hit.score)}` + (hit.region ? ` (box ${hit.region.box.map(Math.round).join(', ')})` : '');
    return item;
  }));
}

$('search').addEventListener('click', () => act(search));

$('api-key').addEventListener('change', () => {
  sessionStorage.setItem(KEY_STORE, $('api-key').value.trim());
  act(async () => {
    await loadModel();
    await loadCollections();
  });
});

applyOpacity();
if (sessionStorage.getItem(KEY_STORE)) $('api-key-field').hidden = false;
act(loadModel);
act(loadCollections);
