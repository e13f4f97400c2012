// Small helpers shared by the client modules: building DOM nodes (user text
// only ever goes in through textContent), paths, ids, storage and fetch.

/** An element with an optional class and text (set as text, never HTML). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function roomPath(name) {
  return '/rooms/' + encodeURIComponent(name);
}

export function apiRoomPath(name) {
  return '/api/rooms/' + encodeURIComponent(name);
}

/**
 * How the UI names a room: a direct conversation by its other members
 * ("alice, carol"), any other room by `prefix` + its name ("# general").
 * `room` is a room-list item: {name, kind, members}.
 */
export function roomLabel(room, me, prefix = '# ') {
  if (room.kind !== 'dm') return prefix + room.name;
  const others = (room.members || []).filter((name) => name !== me);
  return (others.length ? others : room.members || [room.name]).join(', ');
}

let noticeTimer = null;
/** A short message in the corner (`#notice`) that goes away by itself. */
export function showNotice(text, ms = 6000) {
  const box = document.getElementById('notice');
  if (!box) return;
  box.textContent = text;
  box.hidden = !text;
  clearTimeout(noticeTimer);
  if (text) noticeTimer = setTimeout(() => { box.hidden = true; }, ms);
}

/** A fresh idempotency key: 32 hex characters (works without a secure context). */
export function newClientId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function storageGet(key) {
  try { return window.localStorage.getItem(key); } catch (_) { return null; }
}

export function storageSet(key, value) {
  try { window.localStorage.setItem(key, value); } catch (_) { /* private mode */ }
}

/** `ms` scaled by a random factor in [0.5, 1): spreads reconnects out. */
export function withJitter(ms) {
  return Math.round(ms * (0.5 + Math.random() * 0.5));
}

/** fetch() with a timeout that resolves to {status, data}: the JSON body or null. */
export async function fetchJson(url, options = {}, timeoutMs = 15000) {
  const controller = new AbortController();
  if (options.signal) options.signal.addEventListener('abort', () => controller.abort());
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(url, {
      ...options,
      signal: controller.signal,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', ...options.headers },
    });
    let data = null;
    if ((res.headers.get('Content-Type') || '').includes('application/json')) {
      data = await res.json().catch(() => null);
    }
    return { status: res.status, data };
  } finally {
    clearTimeout(timer);
  }
}

/** The message of an API error answer `{"error":{code,message}}`. */
export function errorText(data, fallback) {
  return (data && data.error && data.error.message) || fallback;
}

/** Bytes for people, as the server writes them: "812 B", "4.1 KB", "2.3 MB". */
export function humanSize(bytes) {
  if (bytes < 1024) return bytes + ' B';
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + ' KB';
  return (bytes / (1024 * 1024)).toFixed(1) + ' MB';
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const yearFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/** Show a `<time datetime=RFC3339>` in the browser's time zone. */
export function localizeTime(node) {
  const at = new Date(node.getAttribute('datetime'));
  if (Number.isNaN(at.getTime())) return;
  const now = new Date();
  let text = timeFormat.format(at);
  if (at.toDateString() !== now.toDateString()) {
    const day = at.getFullYear() === now.getFullYear() ? dayFormat : yearFormat;
    text = day.format(at) + ', ' + text;
  }
  node.textContent = text;
  node.title = fullFormat.format(at);
}
