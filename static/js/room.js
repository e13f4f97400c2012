// The live room page: wires the connection, the message list, the sidebar
// and the composer together, and keeps the room's cursor (`seq`, the last
// event received) so that a reconnect resumes with nothing missed and
// nothing shown twice.

import { Connection } from './connection.js';
import { enhanceCreateRoomForm, rememberRoom } from './forms.js';
import { MessageList } from './message-list.js';
import { Sidebar } from './sidebar.js';
import { TypingIndicator } from './typing.js';
import { enhanceUploader } from './uploader.js';
import { apiRoomPath, errorText, fetchJson, newClientId } from './util.js';

/** The server relays at most one `typing` per 2 s per room; send no more. */
const TYPING_SEND_EVERY_MS = 2000;
/** Older messages fetched per scroll to the top. */
const HISTORY_PAGE = 50;
/** Start fetching older messages this close to the top (px). */
const HISTORY_TRIGGER_PX = 150;
/** A history request unanswered this long (ms) may be sent again. */
const PAGING_GIVE_UP_MS = 10000;

export class RoomPage {
  constructor(list) {
    this.list = list;
    this.room = list.dataset.room;
    this.me = list.dataset.me || '';
    this.messages = new MessageList(list, document.getElementById('jump'), this.me);
    this.sidebar = new Sidebar(this.room, this.me);
    this.typing = new TypingIndicator(document.getElementById('typing'));
    this.form = document.getElementById('composer');
    this.textarea = this.form.querySelector('textarea[name="body"]');
    this.composerError = document.getElementById('composer-error');
    /** The cursor: every room event up to this seq has been received. */
    this.lastSeq = Math.max(Number(list.dataset.lastSeq) || 0, this.messages.newestSeq());
    /** A `resume` is being answered (history pages until has_more is false). */
    this.resuming = false;
    /** When the pending older-history request was sent, or 0. */
    this.pagingSince = 0;
    this.lastTypingSent = 0;
    this.connection = new Connection({
      room: this.room,
      statusEl: document.getElementById('status'),
      cursor: () => this.lastSeq,
      onOpen: () => this.resume(),
      onClose: () => { this.resuming = false; this.pagingSince = 0; },
      onFrame: (frame) => this.handleFrame(frame),
      onPollStart: () => this.pollStarted(),
      onPolled: (messages) => this.receive(messages),
      onChange: () => this.sidebar.setLive(this.connection.mode === 'ws' && this.connection.state === 'connected'),
    });
  }

  start() {
    rememberRoom(this.room);
    this.messages.scrollToBottom();
    this.bindComposer();
    this.list.addEventListener('scroll', () => this.maybeLoadOlder(), { passive: true });
    const createRoom = document.getElementById('create-room');
    if (createRoom) enhanceCreateRoomForm(createRoom);
    const uploader = document.getElementById('uploader');
    if (uploader) {
      enhanceUploader(uploader, this.room, (message) => {
        this.receive([message], false);
        this.messages.scrollToBottom();
      });
    }
    this.connection.start();
  }

  // ---- the event stream

  /** A socket opened: catch up from the cursor, then resend what was not acknowledged. */
  resume() {
    // Replies to `resume` and `history` may interleave, so older pages are
    // only asked for once the resume is complete (see receiveHistory).
    this.resuming = true;
    this.pagingSince = 0;
    this.connection.send({ type: 'resume', room: this.room, after: this.lastSeq });
    // The same client_id again: the server answers a repeat with the
    // original ack and stores nothing twice.
    for (const [clientId, item] of this.messages.pending) {
      this.connection.send({ type: 'send', room: this.room, body: item.body, client_id: clientId });
    }
  }

  handleFrame(frame) {
    const here = frame.room === this.room;
    this.checkForGap(frame);
    switch (frame.type) {
      case 'rooms': this.sidebar.showRooms(frame.rooms || []); break;
      case 'message': if (here) this.receive([frame]); break;
      case 'history': if (here) this.receiveHistory(frame); break;
      case 'ack': if (here) this.messages.stored(frame.client_id, frame); break;
      case 'presence':
        if (here) {
          this.sidebar.showPresence(frame.users || []);
          this.typing.keepOnly(frame.users || []);
        }
        break;
      case 'typing': if (here && frame.user !== this.me) this.typing.show(frame.user); break;
      case 'error': this.receiveError(frame); break;
      default: break; // frames this client does not use yet
    }
  }

  /**
   * Live room events arrive in seq order with no gaps (docs/protocol.md).
   * Should one ever be skipped, ask again from the cursor: what is already
   * shown is skipped, so the resync is harmless.
   */
  checkForGap(frame) {
    if (frame.room !== this.room || typeof frame.seq !== 'number') return;
    if (frame.type === 'ack' || frame.type === 'history' || this.resuming) return;
    if (frame.seq > this.lastSeq + 1) {
      this.resuming = true;
      this.connection.send({ type: 'resume', room: this.room, after: this.lastSeq });
    }
    // Events this client does not show (yet) still move the cursor.
    this.lastSeq = Math.max(this.lastSeq, frame.seq);
  }

  /**
   * Stored messages from the stream. `advance` is false for one that did not
   * come through it (the answer to our own API post): that must not move the
   * cursor past events not yet received.
   */
  receive(messages, advance = true) {
    for (const m of messages) {
      if (advance && typeof m.seq === 'number') this.lastSeq = Math.max(this.lastSeq, m.seq);
      this.typing.clear(m.user);
    }
    this.messages.show(messages);
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
    const oldest = this.messages.oldestSeq();
    const paging = this.pagingSince && (
      !messages.length || oldest === null || messages[messages.length - 1].seq < oldest);
    this.receive(messages);
    if (paging) {
      this.pagingSince = 0;
      if (!frame.has_more || !messages.length) this.messages.reachedStart(this.room);
      else this.maybeLoadOlder();
    }
  }

  receiveError(frame) {
    if (frame.client_id && this.messages.pending.has(frame.client_id)) {
      this.failSend(frame.client_id, frame.message || 'The message was not sent.');
      return;
    }
    this.pagingSince = 0;
    this.showComposerError(frame.message || 'Something went wrong.');
  }

  // ---- history paging

  maybeLoadOlder() {
    if (this.messages.atStart || this.resuming) return;
    if (this.pagingSince && Date.now() - this.pagingSince < PAGING_GIVE_UP_MS) return;
    if (this.list.scrollTop > HISTORY_TRIGGER_PX) return;
    const before = this.messages.oldestSeq();
    if (before === null || before <= 1) {
      this.messages.reachedStart(this.room);
      return;
    }
    if (this.connection.mode === 'ws') {
      const frame = { type: 'history', room: this.room, before, limit: HISTORY_PAGE };
      if (this.connection.send(frame)) this.pagingSince = Date.now();
    } else if (this.connection.mode === 'poll') {
      this.loadOlderOverApi(before);
    }
  }

  async loadOlderOverApi(before) {
    this.pagingSince = Date.now();
    try {
      const url = apiRoomPath(this.room) + '/messages?before=' + before + '&limit=' + HISTORY_PAGE;
      const { status, data } = await fetchJson(url);
      if (status === 200 && data) this.receiveHistory({ messages: data.messages || [], has_more: data.has_more });
    } catch (_) { /* try again on the next scroll */ }
    this.pagingSince = 0;
  }

  // ---- while long-polling

  pollStarted() {
    for (const [clientId, item] of this.messages.pending) this.sendOverApi(clientId, item.body);
    this.loadRoomsOverApi();
  }

  async loadRoomsOverApi() {
    try {
      const { status, data } = await fetchJson('/api/rooms');
      if (status === 200 && data && Array.isArray(data.rooms)) this.sidebar.showRooms(data.rooms);
    } catch (_) { /* the server-rendered list stays */ }
  }

  // ---- composer

  bindComposer() {
    this.form.addEventListener('submit', (event) => {
      if (this.form.dataset.native === '1') return;
      event.preventDefault();
      this.submitMessage();
    });
    this.textarea.addEventListener('keydown', (event) => {
      // Enter sends; Shift+Enter is a new line; so is Enter while an IME composes.
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submitMessage();
      }
    });
    this.textarea.addEventListener('input', () => {
      this.showComposerError('');
      const now = Date.now();
      if (this.textarea.value && now - this.lastTypingSent >= TYPING_SEND_EVERY_MS) {
        if (this.connection.send({ type: 'typing', room: this.room })) this.lastTypingSent = now;
      }
    });
  }

  submitMessage() {
    const body = this.textarea.value;
    if (!body.trim()) return;
    const clientId = newClientId();
    this.messages.addPending(clientId, body);
    this.textarea.value = '';
    this.showComposerError('');
    this.lastTypingSent = 0;
    if (this.connection.send({ type: 'send', room: this.room, body, client_id: clientId })) return;
    // No open socket: post through the JSON API (which falls back to the
    // form if there is no API); anything unanswered goes again on reconnect.
    this.sendOverApi(clientId, body);
  }

  async sendOverApi(clientId, body) {
    try {
      const { status, data } = await fetchJson(apiRoomPath(this.room) + '/messages', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ body, client_id: clientId }),
      });
      if ((status === 200 || status === 201) && data && data.message) {
        this.receive([data.message], false);
      } else if (status === 404 || status === 405) {
        // No JSON API here (or no such room): the ordinary form post still
        // works, and shows the server's own page if it fails.
        this.textarea.value = this.messages.refused(clientId) || body;
        this.form.dataset.native = '1';
        this.form.submit();
      } else if (status >= 400 && status < 500 && data && data.error) {
        this.failSend(clientId, errorText(data, 'The message was not sent.'));
      }
      // Otherwise (5xx, network) it stays pending and goes again on the
      // next connection, with the same client_id.
    } catch (_) { /* stays pending */ }
  }

  failSend(clientId, message) {
    const body = this.messages.refused(clientId);
    if (body !== null && !this.textarea.value) this.textarea.value = body;
    this.showComposerError(message);
  }

  showComposerError(message) {
    this.composerError.textContent = message;
    this.composerError.hidden = !message;
  }
}
