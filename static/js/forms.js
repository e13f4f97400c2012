// Forms outside the chat itself: creating a room (home page and room
// sidebar) and the home page's "Continue in # room".

import { el, errorText, fetchJson, roomPath, storageGet, storageSet } from './util.js';

/** localStorage key of the room the user was last in. */
const LAST_ROOM_KEY = 'palaver.lastRoom';

export function rememberRoom(room) {
  storageSet(LAST_ROOM_KEY, room);
}

/** "Continue in # room" for the room the user was last in, if it still exists. */
export function offerLastRoom(box) {
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

/**
 * Create rooms through `POST /api/rooms` so a bad name is reported in place;
 * if the API does not answer as expected the form is submitted the ordinary
 * way, which works without JavaScript.
 */
export function enhanceCreateRoomForm(form) {
  const errorBox = form.querySelector('.form-error') ||
    (form.parentElement && form.parentElement.querySelector('.form-error'));
  const input = form.querySelector('input[name="name"]');
  if (!input) return;
  const showError = (message) => {
    if (!errorBox) return;
    errorBox.textContent = message;
    errorBox.hidden = !message;
  };
  const native = () => {
    form.dataset.native = '1';
    form.submit();
  };
  form.addEventListener('submit', async (event) => {
    if (form.dataset.native === '1') return;
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
      } else if ((status === 400 || status === 409) && data && data.error) {
        showError(errorText(data, 'That room could not be created.'));
        input.focus();
      } else {
        native();
      }
    } catch (_) {
      native();
    } finally {
      if (button) button.disabled = false;
    }
  });
}
