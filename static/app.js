// Palaver's browser client (SPEC §7), loaded as an ES module: no build step.
// Every page works without it; with it, a room page becomes live over the
// WebSocket at /ws (docs/protocol.md), with long-polling on the JSON API
// when WebSockets cannot connect.
//
//   js/room.js          the live room page: cursor, frames, composer, paging
//   js/connection.js    WebSocket, reconnect + backoff, long-poll, status dot
//   js/message-list.js  the message list: seq order, pending sends, scrolling
//   js/sidebar.js       room list, who is online, the drawer on phones
//   js/typing.js        "bob is typing…"
//   js/uploader.js      upload form: preview, progress, JSON API
//   js/forms.js         create-room forms, "Continue in # room" on the home page
//   js/util.js          DOM, paths, ids, fetch, local times
//
// Rules every module keeps: user text goes into the page only through
// textContent / DOM APIs, never innerHTML; `seq` is the single cursor and a
// seq already shown is never shown twice; a send keeps its client_id until it
// is acknowledged, so resending it after a reconnect cannot store it twice.

import { enhanceCreateRoomForm, offerLastRoom } from './js/forms.js';
import { RoomPage } from './js/room.js';
import { localizeTime } from './js/util.js';

document.documentElement.classList.add('js');
for (const node of document.querySelectorAll('time[datetime]')) localizeTime(node);

const messages = document.getElementById('messages');
if (messages && messages.dataset.room) new RoomPage(messages).start();

for (const form of document.querySelectorAll('form.create-room')) {
  if (!form.closest('#sidebar')) enhanceCreateRoomForm(form);
}
const resume = document.getElementById('continue');
if (resume) offerLastRoom(resume);
