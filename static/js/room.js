// The live room page: wires the connection, the message list and its
// actions, the sidebar, the composer, the outbox and the unread tracker
// together, and
// keeps the room's cursor (`seq`, the last event received) so that a
// reconnect resumes with nothing missed and nothing shown twice.

import { Composer } from './composer.js';
import { Connection } from './connection.js';
import { enhanceCreateRoomForm, enhanceStartDmForm, rememberRoom } from './forms.js';
import { MessageActions } from './message-actions.js';
import { MessageList } from './message-list.js';
import { mentionsMe } from './message-view.js';
import { Outbox } from './outbox.js';
import { Sidebar } from './sidebar.js';
import { TypingIndicator } from './typing.js';
import { Unread } from './unread.js';
import { enhanceUploader } from './uploader.js';
import { apiRoomPath, fetchJson, showNotice } from './util.js';

/** Older messages fetched per scroll to the top. */
const HISTORY_PAGE = 50;
/** Older messages fetched per request while looking for a reply's original. */
const HISTORY_SEEK_PAGE = 200;
/** Start fetching older messages this close to the top (px). */
const HISTORY_TRIGGER_PX = 150;
/** A history request unanswered this long (ms) may be sent again. */
const PAGING_GIVE_UP_MS = 10000;
/** How long a message scrolled to from a quote stays highlighted (ms). */
const FLASH_MS = 2000;

export class RoomPage {
  constructor(list) {
    this.list = list;
    this.room = list.dataset.room;
    this.me = list.dataset.me || '';
    this.admin = list.dataset.admin === 'true';
    this.kind = list.dataset.roomKind || 'public';
    this.title = list.dataset.roomTitle || this.room;
    const send = (frame) => this.outbox.act(frame);
    this.actions = new MessageActions(list, {
      me: this.me,
      admin: this.admin,
      send,
      onReply: (target) => this.composer.replyTo(target),
      rawBody: (li) => this.messages.rawBody(li),
      notice: showNotice,
    });
    this.messages = new MessageList(list, document.getElementById('jump'), {
      me: this.me,
      decorate: (li) => this.actions.decorate(li),
    });
    this.sidebar = new Sidebar(this.room, this.me);
    this.typing = new TypingIndicator(document.getElementById('typing'));
    this.composer = new Composer(document.getElementById('composer'), {
      onSubmit: (body, reply) => this.outbox.submit(body, reply),
      onTyping: () => this.connection.send({ type: 'typing', room: this.room }),
    });
    this.outbox = new Outbox({
      room: this.room,
      connection: () => this.connection,
      messages: this.messages,
      composer: this.composer,
      receive: (messages) => this.receive(messages, false),
      receiveError: (frame) => this.receiveError(frame),
    });
    this.unread = new Unread({
      room: this.room,
      me: this.me,
      send,
      cursor: () => this.lastSeq,
      atBottom: () => this.messages.nearBottom(),
    });
    /** The cursor: every room event up to this seq has been received. */
    this.lastSeq = Math.max(Number(list.dataset.lastSeq) || 0, this.messages.newestSeq());
    /** A `resume` is being answered (history pages until has_more is false). */
    this.resuming = false;
    /** The first resume (the join) has been answered. */
    this.joined = false;
    /** When the pending older-history request was sent, or 0. */
    this.pagingSince = 0;
    /** The seq of a reply's original being paged in, or 0. */
    this.seeking = 0;
    this.connection = new Connection({
      room: this.room,
      statusEl: document.getElementById('status'),
      cursor: () => this.lastSeq,
      onOpen: () => this.resume(),
      onClose: () => { this.resuming = false; this.pagingSince = 0; },
      onFrame: (frame) => this.handleFrame(frame),
      onPollStart: () => this.pollStarted(),
      onPolled: (answer) => this.receivePolled(answer),
      onChange: () => this.sidebar.setLive(this.connection.mode === 'ws' && this.connection.state === 'connected'),
    });
  }

  start() {
    rememberRoom(this.room);
    this.messages.scrollToBottom();
    this.composer.bind();
    this.list.addEventListener('scroll', () => {
      this.maybeLoadOlder();
      this.unread.maybeRead();
    }, { passive: true });
    this.list.addEventListener('click', (event) => {
      const quote = event.target.closest('.reply-quote');
      if (!quote || !this.list.contains(quote)) return;
      event.preventDefault();
      this.seekTo(Number(quote.dataset.seq));
    });
    const createRoom = document.getElementById('create-room');
    if (createRoom) enhanceCreateRoomForm(createRoom);
    const startDm = document.getElementById('start-dm');
    if (startDm) enhanceStartDmForm(startDm);
    const uploader = document.getElementById('uploader');
    if (uploader) {
      enhanceUploader(uploader, this.room, (message) => {
        this.receive([message], false);
        this.messages.scrollToBottom();
      });
    }
    this.unread.start();
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
    this.outbox.resend();
  }

  handleFrame(frame) {
    const here = frame.room === this.room;
    this.checkForGap(frame);
    switch (frame.type) {
      case 'rooms':
        this.sidebar.showRooms(frame.rooms || []);
        this.unread.setRooms(frame.rooms || []);
        break;
      case 'message':
        if (!here) break;
        this.receive([frame]);
        this.unread.message(frame, mentionsMe(frame, this.me));
        this.unread.maybeRead();
        break;
      case 'history': if (here) this.receiveHistory(frame); break;
      case 'ack': if (here) this.messages.stored(frame.client_id, frame); break;
      case 'message_edited':
      case 'message_deleted':
      case 'reaction':
        if (here) {
          this.applyEvent(frame);
          this.unread.maybeRead();
        }
        break;
      case 'unread':
        this.unread.update(frame);
        this.sidebar.showUnread(frame.room, frame.count || 0, frame.mentions || 0);
        break;
      case 'presence':
        if (here) {
          const users = frame.users || [];
          const count = frame.count ?? users.length;
          this.sidebar.showPresence(users, count);
          // Only a complete list tells who has left.
          if (count === users.length) this.typing.keepOnly(users);
        }
        break;
      case 'typing': if (here && frame.user !== this.me) this.typing.show(frame.user); break;
      case 'error': this.receiveError(frame); break;
      default: break; // frames this client does not use
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
    this.lastSeq = Math.max(this.lastSeq, frame.seq);
  }

  /**
   * An edit, deletion or reaction (live, or listed by `history`). Each
   * carries the current state, so applying one twice changes nothing; one
   * about a message not shown (not paged in yet) is skipped: the message
   * comes in its current state when it is.
   */
  applyEvent(event) {
    switch (event.type) {
      case 'message_edited': if (event.message) this.messages.edited(event.message); break;
      case 'message_deleted': this.messages.deleted(event.id); break;
      case 'reaction': this.messages.reacted(event.id, event.reactions || []); break;
      default: break;
    }
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

  /** A long-poll's answer: like a `resume` page (messages, then events, then the cursor). */
  receivePolled(answer) {
    this.receive(answer.messages || []);
    this.receiveEvents(answer);
  }

  /** The events of a `resume` page or long-poll, in order, and where the cursor now stands. */
  receiveEvents(page) {
    for (const event of page.events || []) {
      this.applyEvent(event);
      if (typeof event.seq === 'number') this.lastSeq = Math.max(this.lastSeq, event.seq);
    }
    if (typeof page.last_seq === 'number') this.lastSeq = Math.max(this.lastSeq, page.last_seq);
  }

  receiveHistory(frame) {
    const messages = frame.messages || [];
    if (this.resuming) {
      // Messages first (in their current state), then the other events of
      // the same range, in order; then the cursor stands at `last_seq`.
      this.receive(messages);
      this.receiveEvents(frame);
      if (!frame.has_more) {
        this.resuming = false;
        this.unread.maybeRead(!this.joined);
        this.joined = true;
        if (this.seeking) this.continueSeeking();
        else this.maybeLoadOlder();
      }
      return;
    }
    const oldest = this.messages.oldestSeq();
    const paging = this.pagingSince && (
      !messages.length || oldest === null || messages[messages.length - 1].seq < oldest);
    this.receive(messages);
    for (const event of frame.events || []) this.applyEvent(event);
    if (paging) {
      this.pagingSince = 0;
      if (!frame.has_more || !messages.length) this.messages.reachedStart(this.startText());
      if (this.seeking) this.continueSeeking();
      else if (!this.messages.atStart) this.maybeLoadOlder();
    }
  }

  receiveError(frame) {
    if (frame.client_id && this.messages.pending.has(frame.client_id)) {
      this.outbox.failSend(frame.client_id, frame.message || 'The message was not sent.');
      return;
    }
    if (this.actions.refused(frame)) return;
    this.pagingSince = 0;
    this.seeking = 0;
    showNotice(frame.message || 'Something went wrong.');
  }

  startText() {
    return this.kind === 'dm'
      ? 'This is the beginning of your conversation with ' + this.title + '.'
      : 'This is the beginning of # ' + this.room + '.';
  }

  // ---- history paging

  maybeLoadOlder(force = false) {
    if (this.messages.atStart || this.resuming) return;
    if (this.pagingSince && Date.now() - this.pagingSince < PAGING_GIVE_UP_MS) return;
    if (!force && this.list.scrollTop > HISTORY_TRIGGER_PX) return;
    const before = this.messages.oldestSeq();
    if (before === null || before <= 1) {
      this.messages.reachedStart(this.startText());
      return;
    }
    const limit = this.seeking ? HISTORY_SEEK_PAGE : HISTORY_PAGE;
    if (this.connection.mode === 'ws') {
      const frame = { type: 'history', room: this.room, before, limit };
      if (this.connection.send(frame)) this.pagingSince = Date.now();
    } else if (this.connection.mode === 'poll') {
      this.loadOlderOverApi(before, limit);
    }
  }

  async loadOlderOverApi(before, limit) {
    this.pagingSince = Date.now();
    try {
      const url = apiRoomPath(this.room) + '/messages?before=' + before + '&limit=' + limit;
      const { status, data } = await fetchJson(url);
      if (status === 200 && data) this.receiveHistory({ messages: data.messages || [], has_more: data.has_more });
    } catch (_) { /* try again on the next scroll */ }
    this.pagingSince = 0;
  }

  // ---- replies: from a quote to the message it quotes

  /** Scroll to message `seq`, paging older history in until it is there. */
  seekTo(seq) {
    if (!seq) return;
    this.seeking = seq;
    this.continueSeeking();
  }

  continueSeeking() {
    const seq = this.seeking;
    const target = document.getElementById('m' + seq);
    if (target) {
      this.seeking = 0;
      showNotice('');
      target.scrollIntoView({ block: 'center' });
      target.classList.remove('flash');
      void target.offsetWidth; // restart the animation
      target.classList.add('flash');
      setTimeout(() => target.classList.remove('flash'), FLASH_MS);
      return;
    }
    const oldest = this.messages.oldestSeq();
    if (this.messages.atStart || (oldest !== null && seq >= oldest) || this.connection.mode === 'connecting') {
      this.seeking = 0;
      showNotice('That message is not available.');
      return;
    }
    showNotice('Loading older messages…');
    this.maybeLoadOlder(true);
  }

  // ---- while long-polling

  pollStarted() {
    this.outbox.pollStarted();
    this.loadRoomsOverApi();
  }

  async loadRoomsOverApi() {
    try {
      const { status, data } = await fetchJson('/api/rooms');
      if (status === 200 && data && Array.isArray(data.rooms)) {
        this.sidebar.showRooms(data.rooms);
        this.unread.setRooms(data.rooms);
      }
    } catch (_) { /* the server-rendered list stays */ }
  }
}
