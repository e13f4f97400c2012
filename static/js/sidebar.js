// The room page's sidebar: the room list and the direct messages (from
// `rooms` frames) with unread and mention badges (from `unread` frames),
// who is online here (from `presence` frames) with the counter in the
// header, and the drawer that holds it all on narrow screens.

import { el, roomLabel, roomPath } from './util.js';

export class Sidebar {
  constructor(room, me) {
    this.room = room;
    this.me = me;
    this.sidebar = document.getElementById('sidebar');
    this.roomList = document.getElementById('room-list');
    this.dmList = document.getElementById('dm-list');
    this.onlineSection = document.getElementById('online-section');
    this.toggleBadge = document.getElementById('toggle-badge');
    /** Users online in this room, from the last `presence`, or null. */
    this.online = null;
    this.bindDrawer();
    this.showToggleBadge();
  }

  bindDrawer() {
    const toggle = document.getElementById('side-toggle');
    const sidebar = this.sidebar;
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
  }

  /** The `rooms` frame (or `GET /api/rooms`): every room and DM, linked. */
  showRooms(rooms) {
    const publicItems = [];
    const dmItems = [];
    for (const room of rooms) {
      const li = el('li');
      li.dataset.room = room.name;
      const link = el('a', null, roomLabel(room, this.me, room.kind === 'dm' ? '' : '# '));
      link.href = roomPath(room.name);
      if (room.name === this.room) {
        li.className = 'current';
        link.setAttribute('aria-current', 'page');
      }
      li.append(link, el('span', 'count'));
      li.dataset.online = String(room.online || 0);
      (room.kind === 'dm' ? dmItems : publicItems).push(li);
      this.setBadges(li, room.unread || 0, room.mentions || 0);
    }
    this.roomList.replaceChildren(...publicItems);
    this.dmList.replaceChildren(...dmItems);
    this.showRoomCounts();
    this.showToggleBadge();
  }

  /** An `unread` frame: one room's counts changed. */
  showUnread(room, unread, mentions) {
    const li = this.item(room);
    if (li) this.setBadges(li, unread, mentions);
    this.showToggleBadge();
  }

  item(room) {
    return Array.from(this.sidebar.querySelectorAll('.side-rooms li[data-room]'))
      .find((li) => li.dataset.room === room) || null;
  }

  /** The badges after a room's name; the room being read never has any. */
  setBadges(li, unread, mentions) {
    for (const badge of li.querySelectorAll('.badge')) badge.remove();
    const here = li.dataset.room === this.room;
    li.classList.toggle('has-unread', !here && unread > 0);
    if (here) return;
    const link = li.querySelector('a');
    if (mentions > 0) {
      const badge = el('span', 'badge mention', '@' + mentions);
      badge.title = mentions + (mentions === 1 ? ' mention' : ' mentions');
      link.after(badge);
    }
    if (unread > 0) {
      const badge = el('span', 'badge unread', String(unread));
      badge.title = unread + ' unread';
      (li.querySelector('.badge.mention') || link).after(badge);
    }
  }

  /** On phones the sidebar is a drawer: its button shows that something is unread. */
  showToggleBadge() {
    if (!this.toggleBadge) return;
    const unread = this.sidebar.querySelector('.side-rooms li.has-unread');
    const mention = this.sidebar.querySelector('.side-rooms li .badge.mention');
    this.toggleBadge.hidden = !unread;
    this.toggleBadge.classList.toggle('mention', !!mention);
  }

  /** Online counts beside room names; this room's comes from `presence`. */
  showRoomCounts() {
    for (const li of this.sidebar.querySelectorAll('.side-rooms li')) {
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

  /**
   * The `presence` frame: who is online in this room. A big room lists only
   * the first names; `count` is everyone.
   */
  showPresence(users, count) {
    const items = users.map((name) => {
      const li = el('li');
      const link = el('a', 'name', name);
      link.href = '/users/' + encodeURIComponent(name);
      li.append(el('span', 'dot', ''), link);
      if (name === this.me) li.appendChild(el('span', 'muted you', '(you)'));
      return li;
    });
    if (count > users.length) items.push(el('li', 'muted', 'and ' + (count - users.length) + ' more'));
    document.getElementById('online-list').replaceChildren(...items);
    document.getElementById('online-count').textContent = String(count);
    const counter = document.getElementById('online-counter');
    counter.textContent = count + ' online';
    counter.hidden = false;
    this.onlineSection.hidden = false;
    this.online = count;
    this.showRoomCounts();
  }

  /** Who is online is only known while the WebSocket is up: grey it out otherwise. */
  setLive(live) {
    this.onlineSection.classList.toggle('stale', !live);
  }
}
