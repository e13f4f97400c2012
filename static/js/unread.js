// Unread counts and read markers. The server keeps, per user and room, the
// last `seq` read; this module tells it when the reader has actually seen
// this room's newest events (tab visible, list scrolled to the bottom, at
// most once a second), keeps every room's unread and mention counts from
// `rooms` and `unread` frames, shows the total in the tab title, and raises
// a browser notification for a mention (or a direct message) while the tab
// is hidden — only if the reader allowed notifications, after clicking
// "Enable notifications".

import { apiRoomPath, roomLabel, roomPath } from './util.js';

/** At most one `read` frame per this many ms. */
const READ_EVERY_MS = 1000;

export class Unread {
  /**
   * @param {object} options
   * @param {string} options.room the room on this page
   * @param {string} options.me the reader's name
   * @param {(frame: object) => boolean} options.send send a frame; false if not connected
   * @param {() => number} options.cursor the highest seq received in this room
   * @param {() => boolean} options.atBottom the newest message is in view
   */
  constructor(options) {
    Object.assign(this, options);
    /** room name -> {unread, mentions, kind, members} */
    this.rooms = new Map();
    this.baseTitle = document.title;
    /** The last seq reported read, when, and a timer for the next report. */
    this.readSent = 0;
    this.readSentAt = 0;
    this.readTimer = null;
    /** The highest seq seen while a report was held back. */
    this.readSeen = 0;
  }

  start() {
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.flushRead();
      else this.maybeRead();
    });
    window.addEventListener('focus', () => this.maybeRead());
    // Leaving the page (for another room, say) right after a message came
    // must not lose its read marker to the throttle; the socket may be gone
    // before a frame leaves, so it goes as a beacon to the JSON API.
    window.addEventListener('pagehide', () => this.flushRead(true));
    this.offerNotifications();
  }

  // ---- counts

  /** A `rooms` frame: every room's counts. */
  setRooms(rooms) {
    this.rooms = new Map(rooms.map((r) => [r.name, {
      unread: r.unread || 0, mentions: r.mentions || 0, kind: r.kind || 'public', members: r.members || [],
    }]));
    this.showTitle();
  }

  /** An `unread` frame: one room's counts changed (read elsewhere, or something new). */
  update(frame) {
    const before = this.rooms.get(frame.room) || { unread: 0, mentions: 0, kind: 'public', members: [] };
    const after = { ...before, unread: frame.count || 0, mentions: frame.mentions || 0 };
    this.rooms.set(frame.room, after);
    this.showTitle();
    if (frame.room === this.room) return; // live messages here notify by themselves
    const label = roomLabel({ name: frame.room, ...after }, this.me);
    if (after.mentions > before.mentions) {
      this.notify(frame.room, 'You were mentioned in ' + label, '', 'mention-' + frame.room);
    } else if (after.kind === 'dm' && after.unread > before.unread) {
      this.notify(frame.room, 'New message from ' + label, '', 'dm-' + frame.room);
    }
  }

  /** The tab title: "(3) # general · Palaver". */
  showTitle() {
    let total = 0;
    for (const counts of this.rooms.values()) total += counts.unread;
    document.title = (total > 0 ? '(' + total + ') ' : '') + this.baseTitle;
  }

  // ---- read markers

  /**
   * Report this room read up to the cursor if the reader can see it. `opened`
   * (once after joining) reports even when not scrolled to the bottom.
   */
  maybeRead(opened = false) {
    if (document.visibilityState !== 'visible') return;
    if (!opened && !this.atBottom()) return;
    const seq = this.cursor();
    if (seq <= 0 || (seq <= this.readSent && !opened)) return;
    const wait = this.readSentAt + READ_EVERY_MS - Date.now();
    if (wait > 0) {
      if (!this.readTimer) {
        this.readTimer = setTimeout(() => { this.readTimer = null; this.maybeRead(opened); }, wait);
      }
      this.readSeen = seq;
      return;
    }
    this.sendRead(seq);
  }

  /** A report held back by the throttle goes now (the page is being hidden, or left). */
  flushRead(leaving = false) {
    if (!this.readTimer) return;
    clearTimeout(this.readTimer);
    this.readTimer = null;
    if (this.readSeen <= this.readSent) return;
    if (leaving && navigator.sendBeacon) {
      const body = new Blob([JSON.stringify({ seq: this.readSeen })], { type: 'application/json' });
      if (navigator.sendBeacon(apiRoomPath(this.room) + '/read', body)) return;
    }
    this.sendRead(this.readSeen);
  }

  sendRead(seq) {
    if (!this.send({ type: 'read', room: this.room, seq })) return;
    this.readSent = seq;
    this.readSentAt = Date.now();
    // The server confirms with an `unread` frame; until then, nothing here is unread.
    const here = this.rooms.get(this.room);
    if (here) this.rooms.set(this.room, { ...here, unread: 0, mentions: 0 });
    this.showTitle();
  }

  // ---- notifications

  /** A live message in this room: notify when it mentions the reader (or is a DM) and the tab is hidden. */
  message(m, mentionsMe) {
    if (m.user === this.me) return;
    const here = this.rooms.get(this.room);
    const label = here ? roomLabel({ name: this.room, ...here }, this.me) : '# ' + this.room;
    const text = m.body || (m.attachment ? m.attachment.name : '');
    if (mentionsMe) this.notify(this.room, m.user + ' mentioned you in ' + label, text, 'mention-' + this.room);
    else if (here && here.kind === 'dm') this.notify(this.room, m.user, text, 'dm-' + this.room);
  }

  notify(room, title, body, tag) {
    if (document.visibilityState !== 'hidden') return;
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    try {
      const n = new Notification(title, { body: body.slice(0, 200), tag: 'palaver-' + tag });
      n.addEventListener('click', () => {
        window.focus();
        if (room !== this.room) window.location.assign(roomPath(room));
        n.close();
      });
    } catch (_) { /* e.g. a browser that only notifies from a service worker */ }
  }

  /** "Enable notifications": only asks when clicked, never by itself. */
  offerNotifications() {
    const offer = document.getElementById('notify-offer');
    const button = document.getElementById('notify-enable');
    if (!offer || !button || !('Notification' in window)) return;
    const show = () => { offer.hidden = Notification.permission !== 'default'; };
    show();
    button.addEventListener('click', async () => {
      try { await Notification.requestPermission(); } catch (_) { /* old callback-only API */ }
      show();
    });
  }
}
