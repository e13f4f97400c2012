// The room's message list (`<ol id="messages">`): every message shown once,
// in seq order (`data-seq`, `id="m{seq}"`), the sender's own messages shown
// as pending until stored, and the reader's scroll position kept.

import { el, humanSize, localizeTime } from './util.js';

/** Messages by one author this close together (ms) are shown as one group. */
const GROUP_WITHIN_MS = 5 * 60 * 1000;
/** Within this distance of the bottom (px) the list follows new messages. */
const STICK_TO_BOTTOM_PX = 60;

/** A message's uploaded file, as templates/room.html shows it. */
function attachmentFigure(a) {
  const figure = el('figure', 'attachment kind-' + a.kind);
  figure.dataset.upload = String(a.id);
  if (a.kind === 'image') {
    const link = el('a');
    link.href = a.url;
    link.target = '_blank';
    link.rel = 'noopener';
    const img = el('img');
    img.src = a.thumb_url || a.url;
    img.alt = a.name;
    img.loading = 'lazy';
    if (a.width && a.height) {
      img.width = a.width;
      img.height = a.height;
    }
    link.appendChild(img);
    figure.appendChild(link);
  } else if (a.kind === 'audio' || a.kind === 'video') {
    const media = el(a.kind);
    media.controls = true;
    media.preload = 'metadata';
    media.src = a.url;
    figure.appendChild(media);
  }
  const caption = el('figcaption');
  const file = el('a', 'file-link', a.name);
  file.href = a.url;
  if (a.kind === 'pdf' || a.kind === 'text') file.setAttribute('download', '');
  caption.append(file, ' ', el('span', 'muted', humanSize(a.size)));
  figure.appendChild(caption);
  return figure;
}

export class MessageList {
  constructor(list, jumpEl, me) {
    this.list = list;
    this.jumpEl = jumpEl;
    this.me = me;
    /** client_id -> {body, li} for the user's sends not yet stored. */
    this.pending = new Map();
    this.atStart = false;
    list.style.overflowAnchor = 'none'; // keepPlace() does it, once
    for (const li of list.querySelectorAll('li.message[data-seq]')) {
      const author = li.querySelector('.author');
      if (author && author.textContent === me) li.classList.add('mine');
      this.group(li);
    }
    list.addEventListener('scroll', () => { if (this.nearBottom()) jumpEl.hidden = true; }, { passive: true });
    jumpEl.addEventListener('click', () => this.scrollToBottom());
  }

  /** The highest seq on the page (the server-rendered ones, at start). */
  newestSeq() {
    let newest = 0;
    for (const li of this.list.querySelectorAll('li.message[data-seq]')) {
      newest = Math.max(newest, Number(li.dataset.seq));
    }
    return newest;
  }

  /** The lowest seq shown, or null when there is none. */
  oldestSeq() {
    const first = this.list.querySelector('li.message[data-seq]');
    return first ? Number(first.dataset.seq) : null;
  }

  nearBottom() {
    const l = this.list;
    return l.scrollHeight - l.scrollTop - l.clientHeight < STICK_TO_BOTTOM_PX;
  }

  scrollToBottom() {
    this.list.scrollTop = this.list.scrollHeight;
    this.jumpEl.hidden = true;
  }

  /** "New messages ↓", floating just above the bottom of the list. */
  showJump() {
    const chat = this.list.parentElement.getBoundingClientRect();
    const list = this.list.getBoundingClientRect();
    this.jumpEl.style.bottom = Math.max(0, chat.bottom - list.bottom + 12) + 'px';
    this.jumpEl.hidden = false;
  }

  /**
   * Note where the oldest message's text is; the returned function scrolls
   * so it is there again after older content was added above it.
   */
  keepPlace() {
    const first = this.list.querySelector('li.message .body, li.message figure');
    if (!first) return () => {};
    const top = first.getBoundingClientRect().top;
    return () => { this.list.scrollTop += first.getBoundingClientRect().top - top; };
  }

  build(m) {
    const li = el('li', 'message');
    const meta = el('div', 'meta');
    const time = el('time');
    time.setAttribute('datetime', m.ts);
    localizeTime(time);
    meta.append(el('span', 'author', m.user), time);
    li.appendChild(meta);
    if (m.attachment) li.appendChild(attachmentFigure(m.attachment));
    if (m.body || !m.attachment) li.appendChild(el('div', 'body', m.body));
    if (m.user === this.me) li.classList.add('mine');
    return li;
  }

  /** Give a message element its stored identity (seq, id, time). */
  confirm(li, m) {
    li.id = 'm' + m.seq;
    li.dataset.seq = String(m.seq);
    li.dataset.id = String(m.id);
    li.classList.remove('pending');
    delete li.dataset.clientId;
    const note = li.querySelector('.note');
    if (note) note.remove();
    if (m.ts) {
      const time = li.querySelector('time');
      time.setAttribute('datetime', m.ts);
      localizeTime(time);
    }
  }

  /**
   * A message right after one by the same author, within a few minutes,
   * continues that group: its name and time are only read out, not shown.
   */
  group(li) {
    if (!li || !li.classList.contains('message')) return;
    const prev = li.previousElementSibling;
    const author = (node) => node.querySelector('.author').textContent;
    const at = (node) => Date.parse(node.querySelector('time').getAttribute('datetime'));
    const continues = !!prev && prev.classList.contains('message') &&
      author(prev) === author(li) && Math.abs(at(li) - at(prev)) < GROUP_WITHIN_MS;
    li.classList.toggle('cont', continues);
  }

  /** Put a confirmed message in seq order, before any pending ones. */
  place(li) {
    const seq = Number(li.dataset.seq);
    let before = null;
    for (let node = this.list.lastElementChild; node; node = node.previousElementSibling) {
      if (node === li) continue;
      if (node.classList.contains('pending')) { before = node; continue; }
      if (!node.dataset.seq || Number(node.dataset.seq) < seq) break;
      before = node;
    }
    const oldNext = li.parentNode === this.list ? li.nextElementSibling : null;
    if (oldNext !== before || li.parentNode !== this.list) this.list.insertBefore(li, before);
    this.group(li);
    this.group(li.nextElementSibling);
    this.group(oldNext);
    const empty = this.list.querySelector('li.empty');
    if (empty) empty.remove();
  }

  /** Show the user's own message at once, marked as being sent. */
  addPending(clientId, body) {
    const li = this.build({ user: this.me, body, ts: new Date().toISOString() });
    li.classList.add('pending');
    li.dataset.clientId = clientId;
    li.querySelector('.meta').appendChild(el('span', 'note', 'sending…'));
    const empty = this.list.querySelector('li.empty');
    if (empty) empty.remove();
    this.list.appendChild(li);
    this.group(li);
    this.pending.set(clientId, { body, li });
    this.scrollToBottom();
  }

  /** The server stored a pending message (an `ack`): it becomes a real one. */
  stored(clientId, m) {
    const item = this.pending.get(clientId);
    if (!item) return;
    this.pending.delete(clientId);
    const shown = document.getElementById('m' + m.seq);
    if (shown && shown !== item.li) {
      item.li.remove();
      return;
    }
    this.confirm(item.li, m);
    this.place(item.li);
  }

  /** A pending message was refused: remove it and give back its text. */
  refused(clientId) {
    const item = this.pending.get(clientId);
    if (!item) return null;
    this.pending.delete(clientId);
    item.li.remove();
    return item.body;
  }

  /**
   * Show stored messages (live, resumed, long-polled or older pages), each
   * once, in seq order, keeping the reader's place: at the bottom it follows
   * new messages, higher up it stays put and "New messages ↓" appears.
   */
  show(messages) {
    if (!messages.length) return;
    const follow = this.nearBottom();
    const oldestBefore = this.oldestSeq();
    const keep = this.keepPlace();
    let older = false;
    let newer = false;
    let mine = false;
    for (const m of messages) {
      if (typeof m.seq !== 'number') continue;
      if (m.client_id && m.user === this.me && this.pending.has(m.client_id)) {
        this.stored(m.client_id, m);
        mine = true;
        continue;
      }
      const shown = document.getElementById('m' + m.seq);
      if (shown) {
        // Already shown; an own message confirmed by its `ack` gets the
        // stored time now.
        const time = shown.querySelector('time');
        if (time && m.ts && time.getAttribute('datetime') !== m.ts) {
          time.setAttribute('datetime', m.ts);
          localizeTime(time);
        }
        continue;
      }
      const li = this.build(m);
      this.confirm(li, m);
      this.place(li);
      if (oldestBefore !== null && m.seq < oldestBefore) older = true; else newer = true;
      if (m.user === this.me) mine = true;
    }
    if (older && !newer) keep();
    else if (follow || mine) this.scrollToBottom();
    else if (newer) this.showJump();
  }

  /** Mark the top of the room's history, keeping the reader's place. */
  reachedStart(room) {
    if (this.atStart) return;
    this.atStart = true;
    if (!this.list.querySelector('li.message')) return;
    const keep = this.keepPlace();
    this.list.insertBefore(el('li', 'start muted', 'This is the beginning of # ' + room + '.'), this.list.firstChild);
    keep();
  }
}
