/*
 * AIQ Circles viewer: upload images, follow their jobs, draw the circles found.
 *
 * Plain browser JavaScript, no framework and no build step: the page must work offline and be served
 * as-is from the gateway's webroot. The API is the one described in /openapi.yaml.
 *
 * DOM hooks kept stable for the browser test (do not rename without updating the test):
 *   input[type=file]#file-input            the picker (multiple)
 *   .upload-card[data-job-id][data-image-id][data-status]
 *       data-status: "uploading" while the upload is in flight (no API answer yet), then exactly the
 *       API's job status (queued | processing | succeeded | failed), or "error" when the page cannot get
 *       a result at all (upload refused, job unknown, server unreachable after retries).
 *   .upload-card .status                   the status word (same value as data-status)
 *   .upload-card .error                    present only when there is an error to show
 *   svg.overlay circle.detection           one per detection AT OR ABOVE the threshold: detections
 *                                          below it are REMOVED from the DOM (not merely hidden)
 *   input[type=range]#threshold            0–1, step 0.01; "input" and "change" both re-filter
 *   .upload-card .visible-count            the number of circles shown (digits only)
 *   table.objects tbody tr                 one row per shown detection
 *   #recent li                             one per recent image
 */
(() => {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const API_KEY_STORAGE = 'aiq-circles.apiKey';
  /** Seconds the server may hold a job query (Prefer: wait=N); it caps this at http.max-wait-seconds. */
  const POLL_WAIT_SECONDS = 10;
  /** Client-side abort for one request: the long-poll plus generous slack for a slow backend. */
  const REQUEST_TIMEOUT_MS = (POLL_WAIT_SECONDS + 20) * 1000;
  /** How often a 429/503 is retried (after its Retry-After) before the card gives up. */
  const MAX_RETRIES = 6;
  /** How often a request that got no answer at all is retried: a user should hear soon that the server is gone. */
  const MAX_NETWORK_RETRIES = 3;
  const RECENT_LIMIT = 12;
  const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'error']);

  /** Readable titles for the API's error codes (openapi.yaml, components.schemas.Error). */
  const ERROR_TITLES = {
    bad_request: 'Bad request',
    missing_file: 'No file',
    invalid_id: 'Invalid id',
    unauthorized: 'API key needed',
    forbidden: 'API key not allowed here',
    not_found: 'Not found',
    method_not_allowed: 'Not allowed',
    request_timeout: 'Upload too slow',
    payload_too_large: 'File too large',
    image_too_large: 'Image too large',
    unsupported_media_type: 'Not an accepted image',
    corrupt_image: 'Corrupt image',
    rate_limited: 'Too many requests',
    internal_error: 'Server error',
    unavailable: 'Service unavailable',
    // job failure codes (components.schemas.Job.error.code)
    image_missing: 'Image missing',
    model_error: 'Detector error',
    not_processed: 'Not processed',
  };
  const STATUS_TITLES = {
    400: 'Bad request', 401: 'API key needed', 403: 'API key not allowed here', 404: 'Not found',
    408: 'Upload too slow', 409: 'Already uploaded', 413: 'Too large', 415: 'Not an accepted image',
    422: 'Corrupt image', 429: 'Too many requests', 500: 'Server error', 502: 'Bad gateway',
    503: 'Service unavailable', 504: 'Gateway timeout',
  };

  // ---- small helpers -------------------------------------------------------------------------

  const $ = (selector, root = document) => root.querySelector(selector);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Creates an HTML element; text is always set as text, never parsed as HTML. */
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c != null) el.append(c);
    return el;
  }

  function svg(tag, attrs = {}) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    return el;
  }

  const fmt1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '–');
  const fmtScore = (n) => (Number.isFinite(n) ? n.toFixed(3) : '–');

  function fmtBytes(n) {
    if (!Number.isFinite(n)) return '';
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  }

  function fmtTime(iso) {
    const d = iso ? new Date(iso) : null;
    return d && !Number.isNaN(d.getTime()) ? d.toLocaleString() : '';
  }

  // ---- API access ----------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(message, { status = 0, code = null, retryAfter = null, body = null } = {}) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
      this.body = body;
    }
  }

  const apiKey = () => localStorage.getItem(API_KEY_STORAGE) || '';

  /**
   * Sends one request; resolves with {status, ok, body, headers} whatever the HTTP status, and rejects
   * only when no answer came (network down, aborted by our timeout) with an ApiError of status 0.
   */
  async function api(path, { method = 'GET', headers = {}, body = null } = {}) {
    const h2 = { Accept: 'application/json', ...headers };
    const key = apiKey();
    // Keys only guard uploads (and model endpoints) server-side; sending it everywhere is harmless.
    if (key) h2['X-API-Key'] = key;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
    let res;
    try {
      res = await fetch(path, { method, headers: h2, body, signal: abort.signal, cache: 'no-store' });
    } catch (e) {
      throw new ApiError(abort.signal.aborted
        ? 'The server did not answer in time.'
        : 'Cannot reach the server (network down or server stopped).', { status: 0 });
    } finally {
      clearTimeout(timer);
    }
    let parsed = null;
    const type = res.headers.get('Content-Type') || '';
    try {
      parsed = type.includes('json') ? await res.json() : await res.text();
    } catch (e) {
      parsed = null; // an empty or malformed body: the status still says what happened
    }
    return { status: res.status, ok: res.ok, body: parsed, headers: res.headers };
  }

  /** "Title: message" from the API's {"error": {"code", "message"}}, or a fallback for non-JSON. */
  function errorText(status, body) {
    const err = body && typeof body === 'object' ? body.error : null;
    const code = err && err.code;
    const title = (code && ERROR_TITLES[code]) || STATUS_TITLES[status] || `HTTP ${status}`;
    const message = err && err.message;
    return message ? `${title}: ${message}` : title;
  }

  function toApiError(res) {
    const err = res.body && typeof res.body === 'object' ? res.body.error : null;
    return new ApiError(errorText(res.status, res.body), {
      status: res.status, code: err && err.code, retryAfter: retryAfterSeconds(res.headers), body: res.body,
    });
  }

  /** Retry-After is seconds or an HTTP date (RFC 9110); 5 s when absent, kept within 1–60 s. */
  function retryAfterSeconds(headers) {
    const raw = headers && headers.get('Retry-After');
    let s = 5;
    if (raw) {
      const n = Number(raw);
      if (Number.isFinite(n)) s = n;
      else {
        const at = Date.parse(raw);
        if (!Number.isNaN(at)) s = (at - Date.now()) / 1000;
      }
    }
    return Math.min(60, Math.max(1, Math.ceil(s)));
  }

  const retryable = (status) => status === 0 || status === 429 || status === 503;

  /** Backoff for network failures, which carry no Retry-After: 1, 2, 4 s. */
  const backoffSeconds = (attempt) => Math.min(8, 2 ** attempt);

  /**
   * Caps the requests in flight that may be held long (uploads, long-polls). Browsers open at most six
   * HTTP/1.1 connections per host; with ten cards each holding a 10 s long-poll, quick requests (the
   * objects, the recent list) would otherwise queue behind them.
   */
  function limiter(n) {
    let active = 0;
    const queue = [];
    const next = () => {
      if (active >= n || queue.length === 0) return;
      active++;
      const { fn, resolve, reject } = queue.shift();
      fn().then(resolve, reject).finally(() => { active--; next(); });
    };
    return (fn) => new Promise((resolve, reject) => { queue.push({ fn, resolve, reject }); next(); });
  }
  const longSlots = limiter(4);

  /**
   * GET with retries on 429/503 (after Retry-After) and network failures (with backoff).
   * onWait(message) tells the card why it is waiting. Rejects with an ApiError otherwise.
   */
  async function getJson(path, { onWait = () => {}, isCancelled = () => false } = {}) {
    for (let attempt = 0, offline = 0; ; attempt++) {
      let res;
      try {
        res = await api(path);
      } catch (e) {
        if (offline >= MAX_NETWORK_RETRIES || isCancelled()) throw e;
        const s = backoffSeconds(offline++);
        onWait(`${e.message} Retrying in ${s} s…`);
        await sleep(s * 1000);
        continue;
      }
      if (res.ok) return res.body;
      const err = toApiError(res);
      if (!retryable(res.status) || attempt >= MAX_RETRIES || isCancelled()) throw err;
      onWait(`${err.message} — retrying in ${err.retryAfter} s…`);
      await sleep(err.retryAfter * 1000);
    }
  }

  // ---- detections ----------------------------------------------------------------------------

  /**
   * One detection in original image pixels. GET /images/{id}/objects lists {object_id, bbox, score}
   * only (openapi ObjectSummary); the centroid and radius of GET .../objects/{objectId} are defined
   * from the box (ObjectDetail: "the centre of the box", "half the mean of the box's width and height",
   * and contracts Detection.java derives them exactly so). Deriving them here saves one request per
   * object, which the per-client rate limit on /images* would otherwise soon refuse. Should the list
   * ever carry centroid/radius, those are used as given.
   */
  function toDetection(o) {
    const b = Array.isArray(o.bbox) ? o.bbox.map(Number) : [NaN, NaN, NaN, NaN];
    const [x0, y0, x1, y1] = b;
    const cx = Array.isArray(o.centroid) ? Number(o.centroid[0]) : (x0 + x1) / 2;
    const cy = Array.isArray(o.centroid) ? Number(o.centroid[1]) : (y0 + y1) / 2;
    const r = typeof o.radius === 'number' ? o.radius : ((x1 - x0) + (y1 - y0)) / 4;
    const score = typeof o.score === 'number' ? o.score : 1;
    return { id: o.object_id, bbox: b, cx, cy, r, score };
  }

  // ---- threshold -----------------------------------------------------------------------------

  const thresholdInput = $('#threshold');
  const thresholdOutput = $('#threshold-value');

  function threshold() {
    const t = Number(thresholdInput.value);
    return Number.isFinite(t) ? t : 0;
  }

  function onThreshold() {
    thresholdOutput.value = threshold().toFixed(2);
    for (const card of cards) if (card.detections) renderDetections(card);
  }
  // "input" fires while dragging, "change" on release and on some programmatic/keyboard changes
  // (e.g. a test setting the value and dispatching "change"): both re-filter.
  thresholdInput.addEventListener('input', onThreshold);
  thresholdInput.addEventListener('change', onThreshold);

  // ---- cards ---------------------------------------------------------------------------------

  const uploadsEl = $('#uploads');
  const uploadsEmpty = $('#uploads-empty');
  const cards = new Set();

  function createCard(file) {
    const card = {
      file,
      url: URL.createObjectURL(file),
      jobId: '',
      imageId: '',
      status: 'uploading',
      job: null,
      image: null,
      detections: null,
      cancelled: false,
    };
    const statusEl = h('span', { class: 'status', 'aria-live': 'polite', text: 'uploading' });
    const dismiss = h('button', {
      type: 'button', class: 'dismiss', 'aria-label': `Remove ${file.name} from the page`, title: 'Remove',
      text: '×',
    });
    const el = h('article', {
      class: 'upload-card', 'data-job-id': '', 'data-image-id': '', 'data-status': 'uploading',
      'aria-label': file.name,
    },
    h('header', { class: 'card-head' },
      h('div', { class: 'card-title' },
        h('h3', { class: 'file-name', text: file.name }),
        h('p', { class: 'meta', text: `${fmtBytes(file.size)}${file.type ? ` · ${file.type}` : ''}` })),
      statusEl,
      dismiss),
    h('p', { class: 'notice', role: 'status', hidden: true }),
    h('div', { class: 'result', hidden: true }));
    card.el = el;
    card.statusEl = statusEl;
    dismiss.addEventListener('click', () => removeCard(card));
    cards.add(card);
    uploadsEl.prepend(el);
    uploadsEmpty.hidden = true;
    return card;
  }

  function removeCard(card) {
    card.cancelled = true; // loops check this and stop
    cards.delete(card);
    card.el.remove();
    URL.revokeObjectURL(card.url);
    uploadsEmpty.hidden = cards.size > 0;
  }

  function setStatus(card, status) {
    card.status = status;
    card.el.dataset.status = status;
    card.statusEl.textContent = status;
  }

  function setIds(card, jobId, imageId) {
    if (jobId) { card.jobId = jobId; card.el.dataset.jobId = jobId; }
    if (imageId) { card.imageId = imageId; card.el.dataset.imageId = imageId; }
  }

  /**
   * A non-error message: a transient one (waiting for a retry) or, with sticky, one that stays
   * ("already uploaded"). notice(card, null) clears the transient one and shows the sticky one again.
   */
  function notice(card, text, sticky = false) {
    if (sticky) card.stickyNotice = text;
    const shown = text || card.stickyNotice || '';
    const p = $('.notice', card.el);
    p.textContent = shown;
    p.hidden = !shown;
  }

  /** Shows an error in the card; the .error element exists only while there is one. */
  function showError(card, text) {
    let p = $('.error', card.el);
    if (!p) {
      p = h('p', { class: 'error', role: 'alert' });
      $('.card-head', card.el).after(p);
    }
    p.textContent = text;
  }

  /**
   * Shows an error. Before the job has finished the card becomes "error" (no result will come); once
   * the API said the job finished, data-status keeps the API's word and only the message is added.
   */
  function fail(card, text) {
    notice(card, null);
    if (card.status !== 'succeeded' && card.status !== 'failed') setStatus(card, 'error');
    showError(card, text);
  }

  // ---- the flow: upload → long-poll the job → fetch the objects ---------------------------------

  async function process(card) {
    try {
      const submitted = await upload(card);
      if (!submitted || card.cancelled) return;
      await follow(card);
      if (card.cancelled) return;
      if (card.status === 'succeeded') await showResult(card);
    } catch (e) {
      if (!card.cancelled) fail(card, e instanceof ApiError ? e.message : `Unexpected error: ${e.message || e}`);
    } finally {
      scheduleRecentRefresh();
    }
  }

  /** POST /images (multipart field "file"). Resolves true once a job id is known. */
  async function upload(card) {
    const form = new FormData();
    form.append('file', card.file, card.file.name);
    for (let attempt = 0, offline = 0; ; attempt++) {
      let res;
      try {
        res = await longSlots(() => api('/images', { method: 'POST', body: form }));
      } catch (e) {
        if (offline >= MAX_NETWORK_RETRIES || card.cancelled) throw e;
        const s = backoffSeconds(offline++);
        notice(card, `${e.message} Retrying in ${s} s…`);
        await sleep(s * 1000);
        continue;
      }
      if (card.cancelled) return false;
      const body = res.body && typeof res.body === 'object' ? res.body : {};
      // 202: queued (Submission). 200 only answers a Prefer: wait upload (we send none), body = Job.
      if (res.status === 202 || res.status === 200) {
        notice(card, null);
        setIds(card, body.jobId, body.imageId);
        setStatus(card, body.status || 'queued');
        return true;
      }
      // 409 duplicate_image: the same bytes were uploaded before. The body is the error plus the
      // existing Submission (jobId, imageId, status, links): follow that job like a new one.
      if (res.status === 409 && body.jobId) {
        setIds(card, body.jobId, body.imageId);
        setStatus(card, body.status || 'queued');
        notice(card, 'Already uploaded — showing the existing result.', true);
        return true;
      }
      const err = toApiError(res);
      if (res.status === 401 || res.status === 403) {
        $('#settings').open = true; // point the user at the API key field
      }
      if (retryable(res.status) && attempt < MAX_RETRIES) {
        notice(card, `${err.message} — retrying in ${err.retryAfter} s…`);
        await sleep(err.retryAfter * 1000);
        continue;
      }
      fail(card, err.message);
      return false;
    }
  }

  /**
   * Follows GET /jobs/{jobId}/events (Server-Sent Events): one "status" event per transition, the job
   * as GET /jobs/{jobId} answers it, until it is finished. Resolves true once a finished job was
   * received; false when the stream cannot be used (no EventSource, a refusal such as 503, the stream
   * lost midway), and the caller falls back to long-polling. The stream is closed on a finished job
   * (the server ends it too; left open, EventSource would reconnect).
   */
  function streamJob(card) {
    if (typeof EventSource !== 'function') return Promise.resolve(false);
    return new Promise((resolve) => {
      const es = new EventSource(`/jobs/${encodeURIComponent(card.jobId)}/events`);
      let done = false;
      const finish = (ok) => {
        if (done) return;
        done = true;
        es.close();
        resolve(ok);
      };
      es.addEventListener('status', (ev) => {
        if (card.cancelled) { finish(false); return; }
        let job;
        try { job = JSON.parse(ev.data); } catch (e) { finish(false); return; }
        notice(card, null);
        card.job = job;
        setIds(card, job.jobId, job.imageId);
        setStatus(card, job.status || card.status);
        if (TERMINAL.has(card.status)) finish(true);
      });
      // a refused or lost stream: long-polling takes over (it has the retries and their messages)
      es.onerror = () => finish(false);
    });
  }

  /**
   * Follows the job until it is finished: its event stream first (streamJob), else long-polls
   * GET /jobs/{jobId} with Prefer: wait.
   */
  async function follow(card) {
    let failures = 0; // 429/503 answers in a row
    let offline = 0; // requests in a row that got no answer
    // At least one query even when the upload's answer was already final (a 409 for a finished job):
    // the job carries the failure reason, the model and the object count.
    let queried = false;
    if (!card.cancelled && await longSlots(() => streamJob(card))) queried = true;
    while ((!queried || !TERMINAL.has(card.status)) && !card.cancelled) {
      const started = Date.now();
      let res;
      try {
        res = await longSlots(() => api(`/jobs/${encodeURIComponent(card.jobId)}`, {
          headers: { Prefer: `wait=${POLL_WAIT_SECONDS}` },
        }));
      } catch (e) {
        if (offline >= MAX_NETWORK_RETRIES) throw e;
        const s = backoffSeconds(offline++);
        notice(card, `${e.message} Retrying in ${s} s…`);
        await sleep(s * 1000);
        continue;
      }
      if (card.cancelled) return;
      if (res.ok && res.body && typeof res.body === 'object') {
        failures = 0;
        offline = 0;
        queried = true;
        notice(card, null);
        card.job = res.body;
        setIds(card, res.body.jobId, res.body.imageId);
        setStatus(card, res.body.status || card.status);
        if (!TERMINAL.has(card.status) && Date.now() - started < 1000) {
          // The server answered at once although the job is unfinished (a proxy dropped Prefer, or a
          // lower http.max-wait-seconds): don't spin; one query a second is plenty.
          await sleep(1000);
        }
        continue;
      }
      const err = toApiError(res);
      if (retryable(res.status) && ++failures <= MAX_RETRIES) {
        notice(card, `${err.message} — retrying in ${err.retryAfter} s…`);
        await sleep(err.retryAfter * 1000);
        continue;
      }
      throw err;
    }
    if (card.status === 'cancelled') {
      notice(card, 'The job was cancelled before it finished (DELETE /jobs/{jobId}).', true);
      showMeta(card);
    }
    if (card.status === 'failed') {
      const e = card.job && card.job.error;
      showError(card, e && (e.message || e.code)
        ? `Detection failed — ${errorText(0, { error: { code: e.code, message: e.message } })}`
        : 'Detection failed (the server gave no reason).');
      showMeta(card);
    }
  }

  /** GET the objects (and the image's size); draws them over the local file. */
  async function showResult(card) {
    const opts = { onWait: (m) => notice(card, m), isCancelled: () => card.cancelled };
    const id = encodeURIComponent(card.imageId);
    const expected = card.job && Number.isInteger(card.job.objectCount) ? card.job.objectCount : null;
    let list;
    // The objects come from "the latest successful job" of the image. Right after our job succeeds the
    // read side may briefly still show an older job's (or no) detections; ask again a few times.
    for (let attempt = 0; attempt < 4; attempt++) {
      list = await getJson(`/images/${id}/objects`, opts);
      const sameJob = !list.jobId || list.jobId === card.jobId;
      const countOk = expected == null || (list.objects || []).length === expected;
      if (sameJob && countOk) break;
      await sleep(750);
    }
    // Width and height are what the detector saw; if this fails, the picture's own size is used.
    card.image = await getJson(`/images/${id}`, opts).catch(() => null);
    if (card.cancelled) return;
    card.detections = (list.objects || []).map(toDetection);
    if (list.jobId && list.jobId !== card.jobId) {
      notice(card, `These detections are from job ${list.jobId}, the image's latest successful one.`, true);
    } else {
      notice(card, null);
    }
    showMeta(card);
    buildResult(card);
  }

  function showMeta(card) {
    const parts = [fmtBytes(card.file.size)];
    const img = card.image;
    if (img && img.width && img.height) parts.push(`${img.width} × ${img.height} px`);
    if (img && img.format) parts.push(img.format.toUpperCase());
    const job = card.job;
    if (job && job.model && job.model.name) {
      parts.push(`model ${job.model.name}${job.model.version ? ` ${job.model.version}` : ''}`);
    }
    if (job && Number.isFinite(job.inferenceMillis)) parts.push(`${job.inferenceMillis} ms`);
    $('.meta', card.el).textContent = parts.join(' · ');
  }

  // ---- drawing -------------------------------------------------------------------------------

  function buildResult(card) {
    const result = $('.result', card.el);
    result.replaceChildren();

    const img = h('img', { class: 'picture', src: card.url, alt: `Uploaded image ${card.file.name}` });
    const overlay = svg('svg', { class: 'overlay', role: 'img', preserveAspectRatio: 'none' });
    overlay.setAttribute('aria-label', 'Detected circles');
    const stage = h('div', { class: 'stage' }, img, overlay);
    card.overlay = overlay;

    const summary = h('p', { class: 'summary' },
      h('span', { class: 'visible-count', text: '0' }), ' of ',
      h('span', { class: 'total-count', text: String(card.detections.length) }),
      ' circles shown (score ≥ ', h('span', { class: 'threshold-echo', text: threshold().toFixed(2) }), ')');

    const table = h('table', { class: 'objects' },
      h('caption', { class: 'visually-hidden', text: `Circles found in ${card.file.name}` }),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', text: 'id' }),
        h('th', { scope: 'col', class: 'num', text: 'centre x' }),
        h('th', { scope: 'col', class: 'num', text: 'centre y' }),
        h('th', { scope: 'col', class: 'num', text: 'radius' }),
        h('th', { scope: 'col', text: 'box (x₀, y₀, x₁, y₁)' }),
        h('th', { scope: 'col', class: 'num', text: 'score' }))),
      h('tbody'));
    const tableWrap = h('div', { class: 'table-wrap' }, table);
    const empty = h('p', { class: 'empty no-rows', hidden: true });

    result.append(h('div', { class: 'figure' }, stage), summary, empty, tableWrap);
    result.hidden = false;

    // The overlay's coordinate system is the image's own pixels, so circles scale with the picture.
    // The API's width/height are what the detector measured; the browser's natural size is the fallback.
    // (CSS sets image-orientation: none so that the browser, like the detector, ignores EXIF rotation.)
    const setViewBox = (w, hgt) => {
      card.size = { w, h: hgt };
      overlay.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
      renderDetections(card);
    };
    const apiW = card.image && card.image.width;
    const apiH = card.image && card.image.height;
    if (apiW && apiH) setViewBox(apiW, apiH);
    img.addEventListener('load', () => {
      if (!(apiW && apiH)) setViewBox(img.naturalWidth, img.naturalHeight);
    });
    img.addEventListener('error', () => {
      // e.g. a format this browser cannot display: keep the circles on a blank frame of the same size
      img.hidden = true;
      stage.classList.add('no-picture');
      // Without the picture the stage has no size of its own: give it the image's proportions.
      stage.style.aspectRatio = apiW && apiH ? `${apiW} / ${apiH}` : '1 / 1';
      const note = h('p', { class: 'help', text: 'This browser cannot display the picture; the circles are drawn on a blank frame.' });
      stage.after(note);
      if (!(apiW && apiH)) setViewBox(1, 1);
    });

    // Highlight a table row and its circle together (hover or keyboard focus on either).
    const activate = (id, on) => {
      for (const el of card.el.querySelectorAll(`[data-object-id="${CSS.escape(String(id))}"]`)) {
        el.classList.toggle('active', on);
      }
    };
    const handler = (on) => (ev) => {
      const target = ev.target.closest('[data-object-id]');
      if (target) activate(target.dataset.objectId, on);
    };
    card.el.addEventListener('mouseover', handler(true));
    card.el.addEventListener('mouseout', handler(false));
    card.el.addEventListener('focusin', handler(true));
    card.el.addEventListener('focusout', handler(false));
  }

  /**
   * Redraws the circles and the table for the current threshold. Detections below it are removed
   * from the DOM (not hidden), so `svg.overlay circle.detection` and `table.objects tbody tr` count
   * exactly the shown ones. Rebuilding is cheap at the tens of objects an image has.
   */
  function renderDetections(card) {
    if (!card.detections || !card.overlay) return;
    const t = threshold();
    const shown = card.detections.filter((d) => d.score >= t);

    $('.visible-count', card.el).textContent = String(shown.length);
    $('.threshold-echo', card.el).textContent = t.toFixed(2);
    const empty = $('.no-rows', card.el);
    empty.hidden = shown.length > 0;
    empty.textContent = card.detections.length === 0
      ? 'No circles were found in this image.'
      : 'No circle reaches this score; lower the minimum score to see them.';

    // Labels and strokes are sized from the image so that they read alike on small and huge images.
    const size = card.size || { w: 1000, h: 1000 };
    const font = Math.max(8, Math.round(Math.max(size.w, size.h) / 50));
    const groups = shown.map((d) => {
      const g = svg('g', { class: 'det', 'data-object-id': d.id });
      const title = svg('title');
      title.textContent = `Object ${d.id}: centre (${fmt1(d.cx)}, ${fmt1(d.cy)}), radius ${fmt1(d.r)}, score ${fmtScore(d.score)}`;
      const [x0, y0, x1, y1] = d.bbox;
      const box = svg('rect', {
        class: 'bbox', x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0),
      });
      const circle = svg('circle', {
        class: 'detection', cx: d.cx, cy: d.cy, r: Math.max(0, d.r),
        'data-object-id': d.id, 'data-score': d.score,
      });
      // Above the circle, or inside its top when it touches the image's top edge.
      const above = d.cy - d.r - font * 0.35;
      const label = svg('text', {
        class: 'score-label', x: d.cx, y: above - font < 0 ? d.cy - d.r + font * 1.1 : above,
        'font-size': font, 'text-anchor': 'middle',
      });
      label.textContent = d.score.toFixed(2);
      g.append(title, box, circle, label);
      return g;
    });
    card.overlay.replaceChildren(...groups);

    const rows = shown.map((d) => h('tr', { 'data-object-id': d.id, tabindex: '0' },
      h('td', { text: String(d.id) }),
      h('td', { class: 'num', text: fmt1(d.cx) }),
      h('td', { class: 'num', text: fmt1(d.cy) }),
      h('td', { class: 'num', text: fmt1(d.r) }),
      h('td', { class: 'box', text: d.bbox.map(fmt1).join(', ') }),
      h('td', { class: 'num', text: fmtScore(d.score) })));
    $('table.objects tbody', card.el).replaceChildren(...rows);
  }

  // ---- choosing files --------------------------------------------------------------------------

  function addFiles(fileList) {
    for (const file of Array.from(fileList || [])) {
      const card = createCard(file);
      process(card); // each card runs on its own; longSlots keeps the connections in check
    }
  }

  const fileInput = $('#file-input');
  fileInput.addEventListener('change', () => {
    addFiles(fileInput.files);
    // Cleared so that choosing the same file again fires "change" again.
    fileInput.value = '';
  });

  const dropZone = $('#drop-zone');
  let dragDepth = 0; // dragenter/leave fire for every child element: count them
  dropZone.addEventListener('dragenter', (e) => {
    e.preventDefault();
    dragDepth++;
    dropZone.classList.add('dragging');
  });
  dropZone.addEventListener('dragleave', () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) dropZone.classList.remove('dragging');
  });
  dropZone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  });
  dropZone.addEventListener('drop', (e) => {
    e.preventDefault();
    dragDepth = 0;
    dropZone.classList.remove('dragging');
    if (e.dataTransfer) addFiles(e.dataTransfer.files);
  });
  // A file dropped beside the zone would make the browser open it and leave the page (and its cards).
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());

  // ---- settings: API key -------------------------------------------------------------------------

  const keyInput = $('#api-key');
  const keyState = $('#api-key-state');
  const showKeyState = () => {
    keyState.textContent = apiKey() ? 'A key is saved in this browser.' : 'No key saved.';
  };
  keyInput.value = apiKey();
  showKeyState();
  $('#save-key').addEventListener('click', () => {
    const v = keyInput.value.trim();
    if (v) localStorage.setItem(API_KEY_STORAGE, v);
    else localStorage.removeItem(API_KEY_STORAGE);
    showKeyState();
  });
  $('#clear-key').addEventListener('click', () => {
    localStorage.removeItem(API_KEY_STORAGE);
    keyInput.value = '';
    showKeyState();
  });

  // ---- recent images ---------------------------------------------------------------------------

  const recentEl = $('#recent');
  const recentMessage = $('#recent-message');
  let recentLoading = false;
  let recentTimer = null;

  async function loadRecent() {
    if (recentLoading) return;
    recentLoading = true;
    try {
      // GET /images?limit=N → ImagePage {items: [Image], nextCursor}, newest first.
      const page = await getJson(`/images?limit=${RECENT_LIMIT}`);
      const items = (page && page.items) || [];
      recentEl.replaceChildren(...items.map(recentItem));
      recentMessage.textContent = items.length ? '' : 'No images uploaded yet.';
    } catch (e) {
      recentMessage.textContent = `Could not load recent images. ${e.message || ''}`;
    } finally {
      recentLoading = false;
    }
  }

  function recentItem(img) {
    const count = Number.isInteger(img.objectCount) ? img.objectCount : null;
    const status = img.latestJob && img.latestJob.status;
    const details = [
      img.format ? img.format.toUpperCase() : null,
      img.width && img.height ? `${img.width} × ${img.height}` : null,
      fmtBytes(img.sizeBytes) || null,
    ].filter(Boolean).join(' · ');
    return h('li', { 'data-image-id': img.imageId || '', 'data-object-count': count == null ? '' : count },
      h('div', { class: 'recent-main' },
        h('code', { class: 'image-id', title: img.imageId || '', text: (img.imageId || '').slice(0, 12) }),
        h('span', { class: 'object-count', text: count == null ? '—' : String(count) }),
        h('span', { class: 'object-count-label', text: count === 1 ? ' object' : ' objects' })),
      h('div', { class: 'recent-sub' },
        status ? h('span', { class: `pill pill-${status}`, text: status }) : null,
        details ? h('span', { text: details }) : null,
        img.createdAt ? h('time', { datetime: img.createdAt, text: fmtTime(img.createdAt) }) : null));
  }

  /** Coalesces refreshes: several cards finishing together cause one request. */
  function scheduleRecentRefresh() {
    clearTimeout(recentTimer);
    recentTimer = setTimeout(loadRecent, 400);
  }

  $('#recent-refresh').addEventListener('click', loadRecent);
  loadRecent();
})();
