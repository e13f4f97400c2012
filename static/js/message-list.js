// The room's message list (`<ol id="messages">`): every message shown once,
// in seq order (`data-seq`, `id="m{seq}"`), in its current state (edits,
// deletions and reactions are applied to it in place), the sender's own
// messages shown as pending until stored, and the reader's scroll position
// kept.

import {
  buildMessage, fillMessage, fillReplyQuote, localizeEdited, placeEdited, reactionsElement,
} from './message-view.js';
import { adoptRichText } from './rich-text.js';
import { el, localizeTime } from './util.js';

/** Messages by one author this close together (ms) are shown as one group. */
const GROUP_WITHIN_MS = 5 * 60 * 1000;
/** Within this distance of the bottom (px) the list follows new messages. */
const STICK_TO_BOTTOM_PX = 60;

export class MessageList {
  /**
   * @param {HTMLElement} list the `<ol id="messages">`
   * @param {HTMLElement} jumpEl the "New messages ↓" button
   * @param {object} options
   * @param {string} options.me the reader's name
   * @param {(li: HTMLElement) => void} options.decorate add a stored message's controls
   */
  constructor(list, jumpEl, options) {
    this.list = list;
    this.jumpEl = jumpEl;
    this.me = options.me;
    this.decorate = options.decorate;
    /** client_id -> {body, reply, li} for the user's sends not yet stored. */
    this.pending = new Map();
    /** message id -> its text as written (what the editor starts from). */
    this.bodies = new Map();
    this.atStart = false;
    list.style.overflowAnchor = 'none'; // keepPlace() does it, once
    for (const li of list.querySelectorAll('li.message[data-seq]')) this.adopt(li);
    /** The list was scrolled to the bottom when last looked at. */
    this.atBottom = true;
    list.addEventListener('scroll', () => {
      this.atBottom = this.nearBottom();
      if (this.atBottom) jumpEl.hidden = true;
    }, { passive: true });
    // The list gets shorter when the composer grows (reply bar, a longer
    // draft, an upload preview): a reader at the bottom stays there.
    if (window.ResizeObserver) {
      new ResizeObserver(() => { if (this.atBottom) this.list.scrollTop = this.list.scrollHeight; }).observe(list);
    }
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

  /**
   * A server-rendered message: its no-JavaScript forms give way to the live
   * controls, its reactions become toggles.
   */
  adopt(li) {
    if (li.dataset.user === this.me) li.classList.add('mine');
    const editForm = li.querySelector('.msg-forms .edit-form textarea[name="body"]');
    if (editForm) this.bodies.set(Number(li.dataset.id), editForm.value);
    const forms = li.querySelector('.msg-forms');
    if (forms) forms.remove();
    const reactions = li.querySelector('.reactions[data-reactions]');
    if (reactions) {
      let list = [];
      try { list = JSON.parse(reactions.dataset.reactions); } catch (_) { /* keep none */ }
      const row = reactionsElement(list, this.me);
      if (row) reactions.replaceWith(row); else reactions.remove();
    }
    const edited = li.querySelector('.meta .edited');
    if (edited) {
      localizeEdited(edited);
      placeEdited(li, edited);
    }
    adoptRichText(li, this.me);
    this.group(li);
    this.decorate(li);
  }

  build(m) {
    const li = buildMessage(m, this.me);
    if (m.user === this.me) li.classList.add('mine');
    return li;
  }

  /** A message element by its global id, if it is shown. */
  byId(id) {
    return this.list.querySelector('li.message[data-id="' + Number(id) + '"]');
  }

  /** The message's text as written, for the editor. */
  rawBody(li) {
    const body = this.bodies.get(Number(li.dataset.id));
    if (body !== undefined) return body;
    const shown = li.querySelector('.body:not(.tombstone)');
    if (!shown) return '';
    const text = shown.cloneNode(true);
    for (const mark of text.querySelectorAll('.edited')) mark.remove();
    return text.textContent.trim();
  }

  /** Run `change`, keeping the list at the bottom if it was there. */
  inPlace(change) {
    const follow = this.nearBottom();
    change();
    if (follow) this.scrollToBottom();
  }

  /** Show a stored message's current state in its element (after an edit, or its own `message` frame). */
  refresh(li, m) {
    this.bodies.set(Number(m.id), m.body || '');
    delete li.dataset.local;
    this.inPlace(() => {
      fillMessage(li, m, this.me);
      this.decorate(li);
    });
  }

  /** `message_edited`: the message's new state (ignored if it is not shown). */
  edited(m) {
    const li = this.byId(m.id);
    if (li) this.refresh(li, m);
    this.updateQuotes(m.id, { user: m.user, excerpt: m.body || '', deleted: !!m.deleted });
  }

  /** `message_deleted`: the message becomes a tombstone, and so do quotes of it. */
  deleted(id) {
    const li = this.byId(id);
    if (li) {
      this.refresh(li, { id, user: li.dataset.user, deleted: true, body: '', reply: null, reactions: [] });
    }
    this.updateQuotes(id, { deleted: true });
  }

  /** `reaction`: the message's reactions are now `reactions`. */
  reacted(id, reactions) {
    const li = this.byId(id);
    if (!li || li.classList.contains('deleted')) return;
    this.inPlace(() => {
      const old = li.querySelector(':scope > .reactions');
      const row = reactionsElement(reactions, this.me);
      if (old && row) old.replaceWith(row);
      else if (old) old.remove();
      else if (row) {
        const after = li.querySelector(':scope > .body, :scope > figure.attachment');
        if (after) after.after(row); else li.appendChild(row);
      }
    });
  }

  updateQuotes(id, reply) {
    for (const quote of this.list.querySelectorAll('.reply-quote[data-id="' + Number(id) + '"]')) {
      fillReplyQuote(quote, reply);
    }
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
    this.decorate(li);
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
  addPending(clientId, body, reply) {
    const li = this.build({
      user: this.me, body, ts: new Date().toISOString(),
      reply: reply ? { id: reply.id, seq: reply.seq, user: reply.user, excerpt: reply.excerpt } : null,
    });
    li.classList.add('pending');
    li.dataset.clientId = clientId;
    // Shown from the text as typed until the server's rendering comes.
    li.dataset.local = '1';
    this.bodies.set(clientId, body);
    li.querySelector('.meta').appendChild(el('span', 'note', 'sending…'));
    const empty = this.list.querySelector('li.empty');
    if (empty) empty.remove();
    this.list.appendChild(li);
    this.group(li);
    this.pending.set(clientId, { body, reply, li });
    this.scrollToBottom();
  }

  /**
   * The server stored a pending message: it becomes a real one. `m` is the
   * `ack` (id and seq only) or the message itself (then shown as stored).
   */
  stored(clientId, m) {
    const item = this.pending.get(clientId);
    if (!item) return;
    this.pending.delete(clientId);
    this.bodies.delete(clientId);
    const shown = document.getElementById('m' + m.seq);
    if (shown && shown !== item.li) {
      item.li.remove();
      if (shown.dataset.local && m.type !== 'ack' && typeof m.user === 'string') this.refresh(shown, m);
      return;
    }
    this.bodies.set(Number(m.id), item.body);
    this.confirm(item.li, m);
    this.place(item.li);
    if (m.type !== 'ack' && typeof m.user === 'string') this.refresh(item.li, m);
  }

  /** A pending message was refused: remove it and give back its text. */
  refused(clientId) {
    const item = this.pending.get(clientId);
    if (!item) return null;
    this.pending.delete(clientId);
    this.bodies.delete(clientId);
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
        // Already shown; an own message confirmed by its `ack` is shown as
        // the server stored and rendered it now.
        if (shown.dataset.local) this.refresh(shown, m);
        continue;
      }
      const li = this.build(m);
      this.bodies.set(Number(m.id), m.body || '');
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
  reachedStart(text) {
    if (this.atStart) return;
    this.atStart = true;
    if (!this.list.querySelector('li.message')) return;
    const keep = this.keepPlace();
    this.list.insertBefore(el('li', 'start muted', text), this.list.firstChild);
    keep();
  }
}
