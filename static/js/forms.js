// Forms outside the chat itself: creating a room, starting a direct
// conversation ("Message someone", home page and room sidebar), and the home
// page's "Continue in # room".

import { el, errorText, fetchJson, roomPath, storageGet, storageSet } from './util.js';

/** localStorage key of the room the user was last in. */
const LAST_ROOM_KEY = 'palaver.lastRoom';

export function rememberRoom(room) {
  storageSet(LAST_ROOM_KEY, room);
}

/** How a room list item (home page or sidebar) names its room. */
function listedTitle(li) {
  if (li.dataset.title) return li.dataset.title;
  const members = Array.from(li.querySelectorAll('.member'), (node) => node.textContent);
  return members.length ? members.join(', ') : li.dataset.room;
}

/** "Continue in # room" for the room the user was last in, if it still exists. */
export function offerLastRoom(box) {
  const room = storageGet(LAST_ROOM_KEY);
  if (!room) return;
  const li = Array.from(document.querySelectorAll('.room-list li[data-room]'))
    .find((item) => item.dataset.room === room);
  if (!li) return;
  box.textContent = 'Continue in ';
  const link = el('a', null, listedTitle(li));
  link.href = roomPath(room);
  box.appendChild(link);
  box.hidden = false;
}

/**
 * Submit `form` as JSON to the API so a refusal is reported in place; if the
 * API does not answer as expected the form is submitted the ordinary way,
 * which works without JavaScript.
 *
 * @param {HTMLFormElement} form
 * @param {object} how
 * @param {string} how.url the API endpoint
 * @param {() => object|null} how.payload the JSON body, or null to let the form post itself
 * @param {(data: object) => string|null} how.destination where to go after a success
 * @param {number[]} how.refusals statuses whose `{"error"}` is shown in place
 */
function enhanceJsonForm(form, how) {
  const errorBox = form.querySelector('.form-error') ||
    (form.parentElement && form.parentElement.querySelector('.form-error'));
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
    const payload = how.payload();
    if (!payload) return;
    event.preventDefault();
    showError('');
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    try {
      const { status, data } = await fetchJson(how.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(payload),
      });
      const destination = (status === 200 || status === 201) && data ? how.destination(data) : null;
      if (destination) {
        window.location.assign(destination);
      } else if (how.refusals.includes(status) && data && data.error) {
        showError(errorText(data, 'That did not work.'));
        const input = form.querySelector('input:not([type="hidden"])');
        if (input) input.focus();
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

/** Create rooms through `POST /api/rooms`. */
export function enhanceCreateRoomForm(form) {
  const input = form.querySelector('input[name="name"]');
  if (!input) return;
  enhanceJsonForm(form, {
    url: '/api/rooms',
    payload: () => ({ name: input.value }),
    destination: (data) => (data.room && data.room.name ? roomPath(data.room.name) : null),
    refusals: [400, 409],
  });
}

/** "alice, @bob carol" -> ["alice", "bob", "carol"] */
export function parseNames(text) {
  return text.split(/[\s,;]+/).map((name) => name.replace(/^@/, '')).filter(Boolean);
}

/** Start (or open) a direct conversation through `POST /api/dms`. */
export function enhanceStartDmForm(form) {
  const input = form.querySelector('input[name="users"]');
  if (!input || input.type === 'hidden') return;
  enhanceJsonForm(form, {
    url: '/api/dms',
    payload: () => {
      const users = parseNames(input.value);
      return users.length ? { users } : null;
    },
    destination: (data) => (data.room ? roomPath(data.room) : null),
    refusals: [400, 403, 404, 409, 422],
  });
}
