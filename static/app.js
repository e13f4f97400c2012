// Palaver's browser client (SPEC §7): progressive enhancement of the
// server-rendered pages. Every page works without this file; with it, a room
// page becomes live over the WebSocket at /ws (docs/protocol.md), with a
// long-polling fallback on the JSON API when WebSockets cannot connect.
//
// Rules this file keeps:
// - user text only ever goes into the page through textContent / DOM APIs;
// - `seq` is the single cursor: every message shown carries data-seq, and a
//   seq already shown is never shown twice;
// - a send keeps its client_id until it is acknowledged, so resending it
//   after a reconnect cannot store it twice.
'use strict';

(function () {
  /** localStorage key of the room the user was last in. */
  const LAST_ROOM_KEY = 'palaver.lastRoom';
  /** The server relays at most one `typing` per 2 s per room; send no more. */
  const TYPING_SEND_EVERY_MS = 2000;
  /** A typing notice fades if it is not repeated within this time. */
  const TYPING_SHOW_MS = 4000;
  /** Older messages fetched per scroll to the top. */
  const HISTORY_PAGE = 50;
  /** Start fetching older messages this close to the top (px). */
  const HISTORY_TRIGGER_PX = 150;
  /** A history request unanswered this long (ms) may be sent again. */
  const PAGING_GIVE_UP_MS = 10000;
  /** Messages by one author this close together (ms) are shown as one group. */
  const GROUP_WITHIN_MS = 5 * 60 * 1000;
  /** Within this distance of the bottom (px) the list follows new messages. */
  const STICK_TO_BOTTOM_PX = 60;
  /** WebSocket attempts that fail in a row before long-polling starts. */
  const WS_FAILURES_BEFORE_POLLING = 3;
  /** Reconnect backoff: first delay, doubling up to the cap, with jitter. */
  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_MAX_MS = 15000;
  /** While long-polling, try the WebSocket again about this often. */
  const WS_RETRY_WHILE_POLLING_MS = 30000;
  /** Long-poll `wait` (s); the request itself is abandoned after a margin. */
  const POLL_WAIT_S = 25;
  const POLL_TIMEOUT_MS = (POLL_WAIT_S + 10) * 1000;

  // ---------------------------------------------------------------- helpers

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function roomPath(name) {
    return '/rooms/' + encodeURIComponent(name);
  }

  function apiRoomPath(name) {
    return '/api/rooms/' + encodeURIComponent(name);
  }

  /** A fresh idempotency key: 32 hex characters (works without a secure context). */
  function newClientId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function storageGet(key) {
    try { return window.localStorage.getItem(key); } catch (_) { return null; }
  }

  function storageSet(key, value) {
    try { window.localStorage.setItem(key, value); } catch (_) { /* private mode */ }
  }

  function withJitter(ms) {
    return Math.round(ms * (0.5 + Math.random() * 0.5));
  }

  /** fetch() that returns {status, data} with the JSON body (or null). */
  async function fetchJson(url, options, timeoutMs) {
    const controller = new AbortController();
    const outer = options && options.signal;
    if (outer) outer.addEventListener('abort', () => controller.abort());
    const timer = setTimeout(() => controller.abort(), timeoutMs || 15000);
    try {
      const res = await fetch(url, Object.assign({}, options, {
        signal: controller.signal,
        credentials: 'same-origin',
        headers: Object.assign({ Accept: 'application/json' }, options && options.headers),
      }));
      let data = null;
      if ((res.headers.get('Content-Type') || '').includes('application/json')) {
        data = await res.json().catch(() => null);
      }
      return { status: res.status, data };
    } finally {
      clearTimeout(timer);
    }
  }

  function errorText(data, fallback) {
    return (data && data.error && data.error.message) || fallback;
  }

  /** Bytes for people, as the server writes them: "812 B", "4.1 KB", "2.3 MB". */
  function humanSize(bytes) {
    if (bytes < 1024) return bytes + ' B';
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + ' KB';
    return (bytes / (1024 * 1024)).toFixed(1) + ' MB';
  }

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
    caption.appendChild(file);
    caption.appendChild(document.createTextNode(' '));
    caption.appendChild(el('span', 'muted', humanSize(a.size)));
    figure.appendChild(caption);
    return figure;
  }

  // ------------------------------------------------------------ local times

  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
  const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
  const yearFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
  const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

  /** Show a `<time datetime=RFC3339>` in the browser's time zone. */
  function localizeTime(node) {
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

  // ------------------------------------------------- create-room forms (any page)

  /**
   * Create rooms through `POST /api/rooms` so a bad name is reported in
   * place; if the API is not there (or the network fails) the form is
   * submitted the ordinary way, which works without JavaScript.
   */
  function enhanceCreateRoomForm(form) {
    const errorBox = form.querySelector('.form-error') ||
      (form.parentElement && form.parentElement.querySelector('.form-error'));
    const input = form.querySelector('input[name="name"]');
    const showError = (message) => {
      if (!errorBox) return;
      errorBox.textContent = message;
      errorBox.hidden = !message;
    };
    form.addEventListener('submit', async (event) => {
      if (!input || form.dataset.native === '1') return;
      event.preventDefault();
      showError('');
      const button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = true;
      try {
        const { status, data } = await fetchJson('/api/rooms', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ name: input.value }),
        });
        if (status === 201 && data && data.room) {
          window.location.assign(roomPath(data.room.name));
          return;
        }
        if ((status === 400 || status === 409) && data && data.error) {
          showError(errorText(data, 'That room could not be created.'));
          input.focus();
          return;
        }
        form.dataset.native = '1';
        form.submit();
      } catch (_) {
        form.dataset.native = '1';
        form.submit();
      } finally {
        if (button) button.disabled = false;
      }
    });
  }

  // ------------------------------------------------------------- home page

  /** "Continue in # room" for the room the user was last in, if it still exists. */
  function offerLastRoom(box) {
    const room = storageGet(LAST_ROOM_KEY);
    if (!room) return;
    const listed = Array.from(document.querySelectorAll('.room-list li[data-room]'))
      .some((li) => li.dataset.room === room);
    if (!listed) return;
    box.textContent = 'Continue in ';
    const link = el('a', null, '# ' + room);
    link.href = roomPath(room);
    box.appendChild(link);
    box.hidden = false;
  }

  // ------------------------------------------------------------- room page

  class RoomClient {
    constructor(list) {
      this.list = list;
      this.room = list.dataset.room;
      this.me = list.dataset.me || '';
      this.form = document.getElementById('composer');
      this.textarea = this.form && this.form.querySelector('textarea[name="body"]');
      this.composerError = document.getElementById('composer-error');
      this.statusEl = document.getElementById('status');
      this.typingEl = document.getElementById('typing');
      this.jumpEl = document.getElementById('jump');

      this.lastSeq = Number(list.dataset.lastSeq) || 0;
      this.atStart = false;
      this.ws = null;
      this.wsGreeted = false;
      this.wsFailures = 0;
      this.reconnectTimer = null;
      this.mode = 'connecting'; // 'ws' | 'poll' | 'connecting'
      this.polling = null; // AbortController of the long-poll loop
      this.pollFailures = 0;
      this.signedOut = false;
      this.pagingSince = 0; // when the pending history request was sent, or 0
      this.resuming = false; // a `resume` is being answered (history pages)
      /** client_id -> {body, li} for sends not yet acknowledged. */
      this.pending = new Map();
      /** user -> timer of their typing notice. */
      this.typing = new Map();
      this.lastTypingSent = 0;
      /** Users online in this room, from the last `presence`, or null. */
      this.online = null;
    }

    start() {
      storageSet(LAST_ROOM_KEY, this.room);
      for (const li of this.list.querySelectorAll('li.message[data-seq]')) {
        this.lastSeq = Math.max(this.lastSeq, Number(li.dataset.seq));
        this.markMine(li);
        this.group(li);
      }
      this.list.style.overflowAnchor = 'none';
      this.scrollToBottom();
      this.bindComposer();
      this.bindScrolling();
      this.bindSidebar();
      const uploader = document.getElementById('uploader');
      if (uploader) this.bindUploader(uploader);
      window.addEventListener('online', () => {
        if (this.ws && this.ws.readyState === WebSocket.OPEN) this.setStatus('connected', 'Connected');
        else this.reconnectNow();
      });
      window.addEventListener('offline', () => this.setStatus('offline', 'Offline'));
      // A phone that slept may have been disconnected: reconnect as soon as
      // the page is looked at again rather than when the backoff says.
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') this.reconnectNow();
      });
      this.statusEl.hidden = false;
      this.connect();
    }

    // ---- status dot

    setStatus(state, text) {
      this.statusEl.dataset.state = state;
      // Who is online is only known while connected over the WebSocket.
      document.getElementById('online-section').classList.toggle('stale', this.mode !== 'ws' || state !== 'connected');
      this.statusEl.title = text;
      this.statusEl.querySelector('.status-text').textContent = text;
    }

    // ---- WebSocket transport

    connect() {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      if (this.ws || this.signedOut) return;
      if (this.mode !== 'poll') this.setStatus('reconnecting', this.wsFailures ? 'Reconnecting…' : 'Connecting…');
      let ws;
      try {
        ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
      } catch (_) {
        this.onSocketGone(null);
        return;
      }
      this.ws = ws;
      this.wsGreeted = false;
      ws.addEventListener('open', () => this.onOpen(ws));
      ws.addEventListener('message', (event) => this.onSocketMessage(ws, event));
      ws.addEventListener('close', () => this.onSocketGone(ws));
      ws.addEventListener('error', () => { /* a close event follows */ });
    }

    onOpen(ws) {
      if (ws !== this.ws) return;
      // Replies to `resume` and `history` may interleave, so older pages are
      // only asked for once the resume is complete (see receiveHistory).
      this.resuming = true;
      this.pagingSince = 0;
      this.sendFrame({ type: 'resume', room: this.room, after: this.lastSeq });
      // Sends that were never acknowledged go again with the same client_id:
      // the server answers a repeat with the original ack.
      for (const [clientId, item] of this.pending) {
        this.sendFrame({ type: 'send', room: this.room, body: item.body, client_id: clientId });
      }
    }

    onSocketMessage(ws, event) {
      if (ws !== this.ws || typeof event.data !== 'string') return;
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      if (!frame || typeof frame.type !== 'string') return;
      // The server greets every connection (a `rooms` frame). Only then does
      // the socket count as working: one that closes before any frame came
      // (e.g. a proxy that accepts the upgrade and then drops it) is a failed
      // attempt, and long-polling, if running, goes on until then.
      if (!this.wsGreeted) {
        this.wsGreeted = true;
        this.wsFailures = 0;
        this.stopPolling();
        this.mode = 'ws';
        this.setStatus('connected', 'Connected');
      }
      this.handleFrame(frame);
    }

    onSocketGone(ws) {
      if (ws && ws !== this.ws) return;
      this.ws = null;
      if (this.wsGreeted) {
        this.wsFailures = 0;
      }
      this.wsFailures += 1;
      this.wsGreeted = false;
      if (this.mode === 'ws') this.mode = 'connecting';
      this.pagingSince = 0;
      this.resuming = false;
      if (this.wsFailures >= WS_FAILURES_BEFORE_POLLING && this.mode !== 'poll') {
        this.startPolling();
      }
      if (this.mode !== 'poll') {
        this.setStatus(navigator.onLine === false ? 'offline' : 'reconnecting',
          navigator.onLine === false ? 'Offline' : 'Reconnecting…');
      }
      const delay = this.mode === 'poll'
        ? withJitter(WS_RETRY_WHILE_POLLING_MS)
        : withJitter(Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (this.wsFailures - 1)));
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    }

    reconnectNow() {
      if (this.ws || this.signedOut) return;
      this.connect();
    }

    sendFrame(frame) {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
      this.ws.send(JSON.stringify(frame));
      return true;
    }

    handleFrame(frame) {
      this.checkForGap(frame);
      switch (frame.type) {
        case 'rooms':
          this.renderRooms(frame.rooms || []);
          break;
        case 'message':
          if (frame.room === this.room) this.receive([frame]);
          break;
        case 'history':
          if (frame.room === this.room) this.receiveHistory(frame);
          break;
        case 'ack':
          if (frame.room === this.room || !frame.room) this.acknowledge(frame);
          break;
        case 'presence':
          if (frame.room === this.room) this.renderPresence(frame.users || []);
          break;
        case 'typing':
          if (frame.room === this.room && frame.user !== this.me) this.showTyping(frame.user);
          break;
        case 'error':
          this.receiveError(frame);
          break;
        default:
          break; // frames this client does not use yet
      }
    }

    /**
     * Live room events arrive in seq order with no gaps (docs/protocol.md).
     * Should one ever be skipped, ask again from the last seq seen: what is
     * already shown is skipped, so the resync is harmless.
     */
    checkForGap(frame) {
      if (frame.room !== this.room || typeof frame.seq !== 'number') return;
      if (frame.type === 'ack' || this.resuming) return;
      if (frame.seq > this.lastSeq + 1) {
        this.resuming = true;
        this.sendFrame({ type: 'resume', room: this.room, after: this.lastSeq });
      }
      // Events this client does not show (yet) still move the cursor.
      this.lastSeq = Math.max(this.lastSeq, frame.seq);
    }

    // ---- long-polling fallback

    startPolling() {
      if (this.polling) return;
      this.mode = 'poll';
      this.pollFailures = 0;
      const controller = new AbortController();
      this.polling = controller;
      this.setStatus('reconnecting', 'Reconnecting (long-polling)…');
      this.pollLoop(controller.signal);
    }

    stopPolling() {
      if (this.polling) this.polling.abort();
      this.polling = null;
    }

    async pollLoop(signal) {
      let firstRound = true;
      while (!signal.aborted) {
        try {
          const wait = firstRound ? 0 : POLL_WAIT_S;
          const url = apiRoomPath(this.room) + '/messages?after=' + this.lastSeq + '&wait=' + wait;
          const { status, data } = await fetchJson(url, { signal }, POLL_TIMEOUT_MS);
          if (signal.aborted) return;
          if (status === 401) {
            this.signedOut = true;
            this.setStatus('offline', 'Signed out — reload the page');
            this.stopPolling();
            return;
          }
          if (status !== 200 || !data) throw new Error('poll status ' + status);
          // The server answers again after failing: it may have restarted,
          // so the WebSocket is worth another try now rather than later.
          if (this.pollFailures > 0) this.reconnectNow();
          this.pollFailures = 0;
          this.setStatus('connected', 'Connected (long-polling)');
          if (firstRound) {
            firstRound = false;
            this.flushPendingOverApi();
            this.loadRoomsOverApi();
          }
          this.receive(data.messages || []);
          if (data.has_more) continue;
        } catch (_) {
          if (signal.aborted) return;
          this.pollFailures += 1;
          this.setStatus(this.pollFailures > 1 ? 'offline' : 'reconnecting',
            this.pollFailures > 1 ? 'Offline — retrying' : 'Reconnecting (long-polling)…');
          const delay = withJitter(Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.pollFailures));
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    }

    async sendOverApi(clientId, item) {
      try {
        const { status, data } = await fetchJson(apiRoomPath(this.room) + '/messages', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ body: item.body, client_id: clientId }),
        });
        if ((status === 200 || status === 201) && data && data.message) {
          this.receive([data.message], false);
          return;
        }
        if (status === 404 || status === 405) {
          // No JSON API here (or no such room): the ordinary form post
          // still works, and shows the server's own page if it fails.
          this.nativeSubmit(clientId, item);
          return;
        }
        if (status >= 400 && status < 500 && data && data.error) {
          this.failSend(clientId, errorText(data, 'The message was not sent.'));
        }
        // Otherwise (5xx, network): it stays pending and goes again on the
        // next connection, with the same client_id.
      } catch (_) { /* stays pending */ }
    }

    async loadRoomsOverApi() {
      try {
        const { status, data } = await fetchJson('/api/rooms', {});
        if (status === 200 && data && Array.isArray(data.rooms)) this.renderRooms(data.rooms);
      } catch (_) { /* the server-rendered list stays */ }
    }

    flushPendingOverApi() {
      for (const [clientId, item] of this.pending) this.sendOverApi(clientId, item);
    }

    nativeSubmit(clientId, item) {
      this.pending.delete(clientId);
      item.li.remove();
      this.textarea.value = item.body;
      this.form.dataset.native = '1';
      this.form.submit();
    }

    // ---- messages

    markMine(li) {
      const author = li.querySelector('.author');
      if (author && author.textContent === this.me) li.classList.add('mine');
    }

    buildMessage(m) {
      const li = el('li', 'message');
      const meta = el('div', 'meta');
      meta.appendChild(el('span', 'author', m.user));
      const time = el('time');
      time.setAttribute('datetime', m.ts);
      localizeTime(time);
      meta.appendChild(time);
      li.appendChild(meta);
      if (m.attachment) li.appendChild(attachmentFigure(m.attachment));
      if (m.body || !m.attachment) li.appendChild(el('div', 'body', m.body));
      if (m.user === this.me) li.classList.add('mine');
      return li;
    }

    setConfirmed(li, m) {
      li.id = 'm' + m.seq;
      li.dataset.seq = String(m.seq);
      li.dataset.id = String(m.id);
      li.classList.remove('pending', 'failed');
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
        if (!node.dataset.seq) break;
        if (Number(node.dataset.seq) < seq) break;
        before = node;
      }
      if (li.parentNode === this.list && li.nextElementSibling === before) {
        this.group(li);
        return;
      }
      const oldNext = li.parentNode === this.list ? li.nextElementSibling : null;
      this.list.insertBefore(li, before);
      this.group(li);
      this.group(li.nextElementSibling);
      this.group(oldNext);
    }

    /**
     * Note where the oldest message's text is; the returned function scrolls
     * so it is there again after older content was added above it.
     */
    keepPlace() {
      const first = this.list.querySelector('li.message .body');
      if (!first) return () => {};
      const top = first.getBoundingClientRect().top;
      return () => { this.list.scrollTop += first.getBoundingClientRect().top - top; };
    }

    oldestSeq() {
      const first = this.list.querySelector('li.message[data-seq]');
      return first ? Number(first.dataset.seq) : this.lastSeq + 1;
    }

    nearBottom() {
      const l = this.list;
      return l.scrollHeight - l.scrollTop - l.clientHeight < STICK_TO_BOTTOM_PX;
    }

    /** "New messages ↓", floating just above the bottom of the list. */
    showJump() {
      const chat = this.list.parentElement.getBoundingClientRect();
      const list = this.list.getBoundingClientRect();
      this.jumpEl.style.bottom = Math.max(0, chat.bottom - list.bottom + 12) + 'px';
      this.jumpEl.hidden = false;
    }

    scrollToBottom() {
      this.list.scrollTop = this.list.scrollHeight;
      this.jumpEl.hidden = true;
    }

    /**
     * Show stored messages (live, resumed, long-polled or older pages), each
     * once, in seq order, keeping the reader's place. `advance` is false for
     * a message that did not come through the room's event stream (the
     * answer to our own API post): it must not move the cursor past events
     * not yet received.
     */
    receive(messages, advance = true) {
      if (!messages.length) return;
      const follow = this.nearBottom();
      const oldestBefore = this.oldestSeq();
      const keep = this.keepPlace();
      let older = false;
      let newer = false;
      let mine = false;
      for (const m of messages) {
        if (typeof m.seq !== 'number') continue;
        if (advance) this.lastSeq = Math.max(this.lastSeq, m.seq);
        const item = m.client_id ? this.pending.get(m.client_id) : null;
        const shown = document.getElementById('m' + m.seq);
        if (item && m.user === this.me) {
          this.pending.delete(m.client_id);
          if (shown && shown !== item.li) {
            item.li.remove();
          } else {
            this.setConfirmed(item.li, m);
            this.place(item.li);
          }
          mine = true;
          continue;
        }
        if (shown) {
          const time = shown.querySelector('time');
          if (time && m.ts && time.getAttribute('datetime') !== m.ts) {
            time.setAttribute('datetime', m.ts);
            localizeTime(time);
          }
          continue;
        }
        const li = this.buildMessage(m);
        this.setConfirmed(li, m);
        this.place(li);
        if (m.seq < oldestBefore) older = true; else newer = true;
        if (m.user === this.me) mine = true;
        this.clearTyping(m.user);
      }
      const empty = this.list.querySelector('li.empty');
      if (empty && this.list.querySelector('li.message')) empty.remove();
      if (older && !newer) {
        keep();
      } else if (follow || mine) {
        this.scrollToBottom();
      } else if (newer) {
        this.showJump();
      }
    }

    receiveHistory(frame) {
      const messages = frame.messages || [];
      if (this.resuming) {
        this.receive(messages);
        if (!frame.has_more) {
          this.resuming = false;
          this.maybeLoadOlder();
        }
        return;
      }
      const paging = this.pagingSince && (
        !messages.length || messages[messages.length - 1].seq < this.oldestSeq());
      this.receive(messages);
      if (paging) {
        this.pagingSince = 0;
        if (!frame.has_more || !messages.length) this.reachedStart();
        else this.maybeLoadOlder();
      }
    }

    reachedStart() {
      if (this.atStart) return;
      this.atStart = true;
      if (!this.list.querySelector('li.message')) return;
      const marker = el('li', 'start muted', 'This is the beginning of # ' + this.room + '.');
      const keep = this.keepPlace();
      this.list.insertBefore(marker, this.list.firstChild);
      keep();
    }

    acknowledge(ack) {
      const item = this.pending.get(ack.client_id);
      if (!item) return;
      this.pending.delete(ack.client_id);
      // The cursor moves with the `message` frame for this seq, not here:
      // earlier events may still be on their way.
      const shown = document.getElementById('m' + ack.seq);
      if (shown && shown !== item.li) {
        item.li.remove();
        return;
      }
      this.setConfirmed(item.li, ack);
      this.place(item.li);
    }

    receiveError(frame) {
      const item = frame.client_id ? this.pending.get(frame.client_id) : null;
      if (item) {
        this.failSend(frame.client_id, frame.message || 'The message was not sent.');
        return;
      }
      if (frame.code === 'no_such_room') {
        this.showComposerError(frame.message || 'This room no longer exists.');
        return;
      }
      if (this.pagingSince) this.pagingSince = 0;
      this.showComposerError(frame.message || 'Something went wrong.');
    }

    failSend(clientId, message) {
      const item = this.pending.get(clientId);
      if (!item) return;
      this.pending.delete(clientId);
      item.li.remove();
      if (!this.textarea.value) this.textarea.value = item.body;
      this.showComposerError(message);
    }

    showComposerError(message) {
      this.composerError.textContent = message;
      this.composerError.hidden = !message;
    }

    // ---- history paging

    bindScrolling() {
      this.list.addEventListener('scroll', () => {
        if (this.nearBottom()) this.jumpEl.hidden = true;
        this.maybeLoadOlder();
      }, { passive: true });
      this.jumpEl.addEventListener('click', () => this.scrollToBottom());
    }

    maybeLoadOlder() {
      if (this.atStart || this.resuming) return;
      if (this.pagingSince && Date.now() - this.pagingSince < PAGING_GIVE_UP_MS) return;
      if (this.list.scrollTop > HISTORY_TRIGGER_PX) return;
      const before = this.oldestSeq();
      if (before <= 1) { this.reachedStart(); return; }
      if (this.mode === 'ws') {
        if (this.sendFrame({ type: 'history', room: this.room, before, limit: HISTORY_PAGE })) {
          this.pagingSince = Date.now();
        }
      } else if (this.mode === 'poll') {
        this.loadOlderOverApi(before);
      }
    }

    async loadOlderOverApi(before) {
      this.pagingSince = Date.now();
      try {
        const url = apiRoomPath(this.room) + '/messages?before=' + before + '&limit=' + HISTORY_PAGE;
        const { status, data } = await fetchJson(url, {});
        if (status === 200 && data) {
          this.receiveHistory({ messages: data.messages || [], has_more: data.has_more });
        }
      } catch (_) { /* try again on the next scroll */ }
      this.pagingSince = 0;
    }

    // ---- composer

    bindComposer() {
      if (!this.form || !this.textarea) return;
      this.form.addEventListener('submit', (event) => {
        if (this.form.dataset.native === '1') return;
        event.preventDefault();
        this.submitMessage();
      });
      this.textarea.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this.submitMessage();
        }
      });
      this.textarea.addEventListener('input', () => {
        this.showComposerError('');
        const now = Date.now();
        if (this.textarea.value && now - this.lastTypingSent >= TYPING_SEND_EVERY_MS) {
          if (this.sendFrame({ type: 'typing', room: this.room })) this.lastTypingSent = now;
        }
      });
    }

    submitMessage() {
      const body = this.textarea.value;
      if (!body.trim()) return;
      const clientId = newClientId();
      const li = this.buildMessage({ user: this.me, body, ts: new Date().toISOString() });
      li.classList.add('pending');
      li.dataset.clientId = clientId;
      li.querySelector('.meta').appendChild(el('span', 'note', 'sending…'));
      const empty = this.list.querySelector('li.empty');
      if (empty) empty.remove();
      this.list.appendChild(li);
      this.group(li);
      const item = { body, li };
      this.pending.set(clientId, item);
      this.textarea.value = '';
      this.showComposerError('');
      this.scrollToBottom();
      this.lastTypingSent = 0;
      if (this.sendFrame({ type: 'send', room: this.room, body, client_id: clientId })) return;
      // No open socket: post through the JSON API (which falls back to the
      // form if there is no API); anything unanswered goes again on reconnect.
      this.sendOverApi(clientId, item);
    }

    // ---- uploads

    /**
     * The upload form gets a preview of the chosen file and is sent with
     * the JSON API (progress shown, the page stays); without the API, or
     * without JavaScript, it is an ordinary multipart form post.
     */
    bindUploader(form) {
      const input = form.querySelector('input[type="file"]');
      const caption = form.querySelector('input[name="caption"]');
      if (!input) return;
      const preview = el('div', 'upload-preview');
      preview.hidden = true;
      const error = el('p', 'error');
      error.setAttribute('role', 'alert');
      error.hidden = true;
      const progress = el('progress');
      progress.max = 1;
      progress.hidden = true;
      form.append(preview, progress, error);
      // Caption and Upload appear once a file is chosen: one row, not two.
      form.classList.add('compact');
      let previewUrl = null;
      const showError = (message) => {
        error.textContent = message;
        error.hidden = !message;
      };
      const clearPreview = () => {
        if (previewUrl) URL.revokeObjectURL(previewUrl);
        previewUrl = null;
        preview.replaceChildren();
        preview.hidden = true;
      };
      input.addEventListener('change', () => {
        clearPreview();
        showError('');
        const file = input.files && input.files[0];
        form.classList.toggle('has-file', !!file);
        if (!file) return;
        if (/^image\/(png|jpeg|gif|webp)$/.test(file.type)) {
          previewUrl = URL.createObjectURL(file);
          const img = el('img');
          img.src = previewUrl;
          img.alt = 'Preview of ' + file.name;
          preview.appendChild(img);
        }
        preview.appendChild(el('span', 'muted', file.name + ' · ' + humanSize(file.size)));
        preview.hidden = false;
      });
      form.addEventListener('submit', (event) => {
        if (form.dataset.native === '1') return;
        const file = input.files && input.files[0];
        if (!file) return; // the browser's own "required" message
        event.preventDefault();
        showError('');
        const data = new FormData();
        data.append('caption', caption ? caption.value : '');
        data.append('file', file);
        const xhr = new XMLHttpRequest();
        xhr.open('POST', apiRoomPath(this.room) + '/uploads');
        xhr.setRequestHeader('Accept', 'application/json');
        xhr.responseType = 'json';
        xhr.upload.addEventListener('progress', (e) => {
          if (e.lengthComputable) progress.value = e.loaded / e.total;
        });
        const done = () => {
          progress.hidden = true;
          for (const button of form.querySelectorAll('button')) button.disabled = false;
        };
        const native = () => {
          done();
          form.dataset.native = '1';
          form.submit();
        };
        xhr.addEventListener('load', () => {
          done();
          const body = xhr.response;
          if (xhr.status === 201 && body && body.message) {
            form.reset();
            form.classList.remove('has-file');
            clearPreview();
            this.receive([body.message], false);
            this.scrollToBottom();
          } else if (xhr.status === 404 || xhr.status === 405) {
            native();
          } else {
            showError(errorText(body, 'The file could not be uploaded (HTTP ' + xhr.status + ').'));
          }
        });
        xhr.addEventListener('error', native);
        progress.value = 0;
        progress.hidden = false;
        for (const button of form.querySelectorAll('button')) button.disabled = true;
        xhr.send(data);
      });
    }

    // ---- typing

    showTyping(user) {
      if (!user) return;
      clearTimeout(this.typing.get(user));
      this.typing.set(user, setTimeout(() => this.clearTyping(user), TYPING_SHOW_MS));
      this.renderTyping();
    }

    clearTyping(user) {
      if (!this.typing.has(user)) return;
      clearTimeout(this.typing.get(user));
      this.typing.delete(user);
      this.renderTyping();
    }

    renderTyping() {
      const names = Array.from(this.typing.keys()).sort();
      let text = '';
      if (names.length === 1) text = names[0] + ' is typing…';
      else if (names.length === 2) text = names[0] + ' and ' + names[1] + ' are typing…';
      else if (names.length > 2) text = 'Several people are typing…';
      this.typingEl.textContent = text;
    }

    // ---- sidebar: rooms and people

    bindSidebar() {
      const toggle = document.getElementById('side-toggle');
      const sidebar = document.getElementById('sidebar');
      toggle.hidden = false;
      const setOpen = (open) => {
        sidebar.classList.toggle('open', open);
        toggle.setAttribute('aria-expanded', String(open));
      };
      toggle.addEventListener('click', () => setOpen(!sidebar.classList.contains('open')));
      document.addEventListener('keydown', (event) => {
        if (event.key === 'Escape' && sidebar.classList.contains('open')) {
          setOpen(false);
          toggle.focus();
        }
      });
      document.addEventListener('click', (event) => {
        if (sidebar.classList.contains('open') && !sidebar.contains(event.target) && !toggle.contains(event.target)) {
          setOpen(false);
        }
      });
      const form = document.getElementById('create-room');
      if (form) enhanceCreateRoomForm(form);
    }

    renderRooms(rooms) {
      const ul = document.getElementById('room-list');
      const items = rooms.map((room) => {
        const li = el('li');
        const link = el('a', null, '# ' + room.name);
        link.href = roomPath(room.name);
        li.appendChild(link);
        if (room.name === this.room) {
          li.className = 'current';
          link.setAttribute('aria-current', 'page');
        }
        li.appendChild(el('span', 'count'));
        li.dataset.online = String(room.online || 0);
        return li;
      });
      ul.replaceChildren(...items);
      this.renderRoomCount();
    }

    /** Online counts beside room names; this room's comes from `presence`. */
    renderRoomCount() {
      for (const li of document.querySelectorAll('#room-list li')) {
        const count = li.querySelector('.count');
        if (!count) continue;
        const online = li.classList.contains('current') && this.online !== null
          ? this.online : Number(li.dataset.online || 0);
        count.textContent = online > 0 ? String(online) : '';
        count.title = online + ' online';
        count.setAttribute('aria-label', online + ' online');
        count.hidden = online === 0;
      }
    }

    renderPresence(users) {
      const section = document.getElementById('online-section');
      const ul = document.getElementById('online-list');
      const items = users.map((name) => {
        const li = el('li');
        li.appendChild(el('span', 'dot', ''));
        li.appendChild(el('span', 'name', name));
        if (name === this.me) li.appendChild(el('span', 'muted you', '(you)'));
        return li;
      });
      ul.replaceChildren(...items);
      this.online = users.length;
      this.renderRoomCount();
      document.getElementById('online-count').textContent = String(users.length);
      const counter = document.getElementById('online-counter');
      counter.textContent = users.length + ' online';
      counter.hidden = false;
      section.hidden = false;
      for (const name of Array.from(this.typing.keys())) {
        if (!users.includes(name)) this.clearTyping(name);
      }
    }
  }

  // ------------------------------------------------------------------ start

  document.documentElement.classList.add('js');
  for (const node of document.querySelectorAll('time[datetime]')) localizeTime(node);
  const messages = document.getElementById('messages');
  if (messages && messages.dataset.room) {
    new RoomClient(messages).start();
  }
  for (const form of document.querySelectorAll('form.create-room')) {
    if (!form.closest('#sidebar')) enhanceCreateRoomForm(form);
  }
  const resume = document.getElementById('continue');
  if (resume) offerLastRoom(resume);
})();
