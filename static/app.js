// Palaver's browser client (SPEC §7), loaded as an ES module: no build step.
// Every page works without it; with it, a room page becomes live over the
// WebSocket at /ws (docs/protocol.md), with long-polling on the JSON API
// when WebSockets cannot connect.
//
//   js/room.js             the live room page: cursor, frames, paging, replies
//   js/connection.js       WebSocket, reconnect + backoff, long-poll, status dot
//   js/message-list.js     the message list: seq order, pending sends, edits,
//                          deletions and reactions applied in place, scrolling
//   js/message-view.js     one message as an element (same markup as the page)
//   js/message-actions.js  reply, react, edit in place, delete
//   js/rich-text.js        the server's sanitised HTML rebuilt as DOM nodes
//   js/composer.js         the message box: Enter, typing, reply mode
//   js/outbox.js           sends and actions: frames, or the JSON API
//   js/unread.js           read markers, unread in the title, notifications
//   js/sidebar.js          rooms and DMs with unread badges, who is online,
//                          the drawer on phones
//   js/typing.js           "bob is typing…"
//   js/uploader.js         upload form: preview, progress, JSON API
//   js/forms.js            create-room and "Message someone" forms,
//                          "Continue in # room" on the home page
//   js/util.js             DOM, paths, room names, ids, fetch, local times
//
// Rules every module keeps: user text goes into the page only through
// textContent / DOM APIs, never innerHTML (the server's rendered markdown is
// parsed inertly and rebuilt from a whitelist, js/rich-text.js); `seq` is
// the single cursor and a seq already shown is never shown twice; a send
// keeps its client_id until it is acknowledged, so resending it after a
// reconnect cannot store it twice.

import { enhanceCreateRoomForm, enhanceStartDmForm, offerLastRoom } from './js/forms.js';
import { RoomPage } from './js/room.js';
import { localizeTime } from './js/util.js';

document.documentElement.classList.add('js');
for (const node of document.querySelectorAll('time[datetime]')) localizeTime(node);

const messages = document.getElementById('messages');
if (messages && messages.dataset.room) new RoomPage(messages).start();

for (const form of document.querySelectorAll('form.create-room')) {
  if (!form.closest('#sidebar')) enhanceCreateRoomForm(form);
}
for (const form of document.querySelectorAll('form.start-dm')) {
  if (!form.closest('#sidebar')) enhanceStartDmForm(form);
}
const resume = document.getElementById('continue');
if (resume) offerLastRoom(resume);
