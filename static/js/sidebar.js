// The room page's sidebar: the room list (from `rooms` frames), who is
// online here (from `presence` frames) with the counter in the header, and
// the drawer that holds it all on narrow screens.

import { el, roomPath } from './util.js';

export class Sidebar {
  constructor(room, me) {
    this.room = room;
    this.me = me;
    this.sidebar = document.getElementById('sidebar');
    this.roomList = document.getElementById('room-list');
    this.onlineSection = document.getElementById('online-section');
    /** Users online in this room, from the last `presence`, or null. */
    this.online = null;
    this.bindDrawer();
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

  /** The `rooms` frame (or `GET /api/rooms`): every room, linked. */
  showRooms(rooms) {
    const items = rooms.map((room) => {
      const li = el('li');
      const link = el('a', null, '# ' + room.name);
      link.href = roomPath(room.name);
      if (room.name === this.room) {
        li.className = 'current';
        link.setAttribute('aria-current', 'page');
      }
      li.append(link, el('span', 'count'));
      li.dataset.online = String(room.online || 0);
      return li;
    });
    this.roomList.replaceChildren(...items);
    this.showRoomCounts();
  }

  /** Online counts beside room names; this room's comes from `presence`. */
  showRoomCounts() {
    for (const li of this.roomList.querySelectorAll('li')) {
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

  /** The `presence` frame: who is online in this room. */
  showPresence(users) {
    const items = users.map((name) => {
      const li = el('li');
      li.append(el('span', 'dot', ''), el('span', 'name', name));
      if (name === this.me) li.appendChild(el('span', 'muted you', '(you)'));
      return li;
    });
    document.getElementById('online-list').replaceChildren(...items);
    document.getElementById('online-count').textContent = String(users.length);
    const counter = document.getElementById('online-counter');
    counter.textContent = users.length + ' online';
    counter.hidden = false;
    this.onlineSection.hidden = false;
    this.online = users.length;
    this.showRoomCounts();
  }

  /** Who is online is only known while the WebSocket is up: grey it out otherwise. */
  setLive(live) {
    this.onlineSection.classList.toggle('stale', !live);
  }
}
