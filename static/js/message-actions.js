// What a reader can do to a message: reply, react (toggle an existing
// reaction or pick one), and on their own messages (admins: any) edit in
// place or delete. Each becomes one frame (docs/protocol.md); the change
// itself is shown when the server's event comes back, so every tab and
// every member sees the same thing. One toolbar per message, shown on
// hover or focus, or by tapping the message on a touch screen.

import { excerpt } from './rich-text.js';
import { el } from './util.js';

/** The reactions the picker offers (the server takes any single emoji). */
export const REACTION_CHOICES = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀', '✅', '🔥'];

/** Clicks on these do what they do; they do not toggle the toolbar. */
const INTERACTIVE = 'a, button, textarea, input, select, label, summary, audio, video, .editor, .confirm';

export class MessageActions {
  /**
   * @param {HTMLElement} list the `<ol id="messages">`
   * @param {object} options
   * @param {string} options.me the reader's name
   * @param {boolean} options.admin the reader may edit and delete any message
   * @param {(frame: object) => boolean} options.send send a frame; false if not connected
   * @param {(target: object) => void} options.onReply reply to {id, seq, user, excerpt}
   * @param {(li: HTMLElement) => string} options.rawBody the message's text as written
   * @param {(text: string) => void} options.notice show a short message to the reader
   */
  constructor(list, options) {
    this.list = list;
    Object.assign(this, options);
    /** The editor or delete prompt waiting for the server's answer, or null. */
    this.waiting = null;
    this.picker = this.buildPicker();
    list.addEventListener('click', (event) => this.click(event));
    document.addEventListener('click', (event) => {
      if (!this.picker.hidden && !this.picker.contains(event.target) &&
          !event.target.closest('.actions .react')) this.closePicker();
    });
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.picker.hidden) this.closePicker();
    });
  }

  /** Whether the reader may edit (or delete) the message `li`. */
  may(li, what) {
    if (li.classList.contains('deleted') || !li.dataset.id) return false;
    const flag = what === 'edit' ? li.dataset.canEdit : li.dataset.canDelete;
    if (flag !== undefined) return flag === 'true';
    return this.admin || li.dataset.user === this.me;
  }

  /** Give a stored message its toolbar (again, after it changed). */
  decorate(li) {
    const old = li.querySelector(':scope > .actions');
    if (old) old.remove();
    // Rebuilt from the server's state: an editor or prompt it held is gone.
    if (!li.querySelector('.editor')) li.classList.remove('editing');
    if (this.waiting && !this.waiting.box.isConnected) this.waiting = null;
    if (li.classList.contains('deleted') || !li.dataset.id) return;
    const bar = el('div', 'actions');
    bar.setAttribute('role', 'toolbar');
    bar.setAttribute('aria-label', 'Message actions');
    const button = (action, label, title) => {
      const b = el('button', 'act ' + action, label);
      b.type = 'button';
      b.dataset.action = action;
      b.title = title;
      bar.appendChild(b);
    };
    button('reply', 'Reply', 'Reply to this message');
    button('react', 'React', 'Add a reaction');
    if (this.may(li, 'edit')) button('edit', 'Edit', 'Edit this message');
    if (this.may(li, 'delete')) button('delete', 'Delete', 'Delete this message');
    li.insertBefore(bar, li.querySelector('.meta').nextSibling);
  }

  click(event) {
    const target = event.target;
    const li = target.closest('li.message');
    if (!li || !this.list.contains(li)) return;
    const reaction = target.closest('button.reaction');
    if (reaction) {
      this.toggleReaction(li, reaction);
      return;
    }
    const act = target.closest('.actions button[data-action]');
    if (act) {
      event.preventDefault();
      this[act.dataset.action](li, act);
      return;
    }
    const quote = target.closest('.reply-quote');
    if (quote) return; // room.js scrolls to the original
    if (target.closest(INTERACTIVE)) return;
    // A tap on the message shows (or hides) its toolbar: touch screens have no hover.
    const was = li.classList.contains('active');
    for (const other of this.list.querySelectorAll('li.message.active')) other.classList.remove('active');
    li.classList.toggle('active', !was);
  }

  sendOrSay(frame) {
    if (this.send(frame)) return true;
    this.notice('Not connected right now: try again in a moment.');
    return false;
  }

  // ---- reactions

  toggleReaction(li, button) {
    const emoji = button.dataset.emoji;
    const mine = button.getAttribute('aria-pressed') === 'true';
    this.sendOrSay({ type: mine ? 'unreact' : 'react', id: Number(li.dataset.id), emoji });
  }

  buildPicker() {
    const picker = el('div', 'picker');
    picker.setAttribute('role', 'menu');
    picker.setAttribute('aria-label', 'Add a reaction');
    picker.hidden = true;
    for (const emoji of REACTION_CHOICES) {
      const b = el('button', 'emoji', emoji);
      b.type = 'button';
      b.setAttribute('role', 'menuitem');
      b.dataset.emoji = emoji;
      picker.appendChild(b);
    }
    picker.addEventListener('click', (event) => {
      const b = event.target.closest('button.emoji');
      const li = picker.closest('li.message');
      if (!b || !li) return;
      event.stopPropagation();
      // Picking one the reader already gave takes it back, like its toggle.
      const existing = Array.from(li.querySelectorAll('.reactions button.reaction'))
        .find((r) => r.dataset.emoji === b.dataset.emoji);
      const mine = existing && existing.getAttribute('aria-pressed') === 'true';
      this.sendOrSay({ type: mine ? 'unreact' : 'react', id: Number(li.dataset.id), emoji: b.dataset.emoji });
      this.closePicker();
    });
    return picker;
  }

  react(li) {
    if (!this.picker.hidden && this.picker.parentElement === li) {
      this.closePicker();
      return;
    }
    li.appendChild(this.picker);
    this.picker.hidden = false;
    li.classList.add('picking');
    // Open upwards when there is no room below (the last messages).
    this.picker.classList.remove('up');
    const list = this.list.getBoundingClientRect();
    if (this.picker.getBoundingClientRect().bottom > list.bottom) this.picker.classList.add('up');
    this.picker.querySelector('button').focus({ preventScroll: true });
  }

  closePicker() {
    const li = this.picker.closest('li.message');
    if (li) li.classList.remove('picking');
    this.picker.hidden = true;
    this.picker.remove();
  }

  // ---- reply

  reply(li) {
    const file = li.querySelector('figcaption .file-link');
    const text = this.rawBody(li) || (file ? file.textContent : '');
    this.onReply({
      id: Number(li.dataset.id),
      seq: Number(li.dataset.seq),
      user: li.dataset.user,
      excerpt: excerpt(text),
    });
    li.classList.remove('active');
  }

  // ---- edit in place

  edit(li) {
    if (li.querySelector('.editor')) {
      li.querySelector('.editor textarea').focus();
      return;
    }
    const original = this.rawBody(li);
    const editor = el('div', 'editor');
    const textarea = el('textarea');
    textarea.value = original;
    textarea.rows = Math.min(8, Math.max(2, original.split('\n').length));
    textarea.setAttribute('aria-label', 'Edit message');
    const hint = el('p', 'hint', 'Enter to save · Shift+Enter for a new line · Esc to cancel');
    const save = el('button', null, 'Save');
    save.type = 'button';
    const cancel = el('button', 'secondary', 'Cancel');
    cancel.type = 'button';
    const row = el('div', 'editor-row');
    row.append(hint, cancel, save);
    editor.append(textarea, row);
    const body = li.querySelector('.body');
    if (body) body.hidden = true;
    li.classList.add('editing');
    li.insertBefore(editor, body ? body.nextSibling : null);

    const close = () => {
      editor.remove();
      if (body) body.hidden = false;
      li.classList.remove('editing');
      if (this.waiting && this.waiting.box === editor) this.waiting = null;
    };
    const submit = () => {
      const text = textarea.value;
      if (text === original) { close(); return; }
      if (!text.trim()) {
        hint.textContent = 'A message cannot be empty: use Delete to remove it.';
        hint.classList.add('error-text');
        return;
      }
      if (!this.sendOrSay({ type: 'edit', id: Number(li.dataset.id), body: text })) return;
      // The editor goes when the server's `message_edited` rebuilds the message.
      hint.textContent = 'Saving…';
      hint.classList.remove('error-text');
      this.waiting = { box: editor, hint, done: () => { textarea.disabled = false; save.disabled = false; } };
      textarea.disabled = true;
      save.disabled = true;
    };
    textarea.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      } else if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    });
    save.addEventListener('click', submit);
    cancel.addEventListener('click', close);
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  }

  // ---- delete, after a confirmation in place

  delete(li) {
    if (li.querySelector('.confirm')) return;
    const box = el('div', 'confirm');
    box.setAttribute('role', 'alertdialog');
    const text = el('span', null, 'Delete this message for everyone?');
    const yes = el('button', 'danger', 'Delete');
    yes.type = 'button';
    const no = el('button', 'secondary', 'Cancel');
    no.type = 'button';
    box.append(text, no, yes);
    li.appendChild(box);
    const close = () => {
      box.remove();
      if (this.waiting && this.waiting.box === box) this.waiting = null;
    };
    no.addEventListener('click', close);
    box.addEventListener('keydown', (event) => { if (event.key === 'Escape') close(); });
    yes.addEventListener('click', () => {
      if (!this.sendOrSay({ type: 'delete', id: Number(li.dataset.id) })) return;
      text.textContent = 'Deleting…';
      yes.disabled = true;
      this.waiting = { box, hint: text, done: () => { yes.disabled = false; } };
    });
    yes.focus();
  }

  /**
   * An `error` frame that is not about a send: if an edit or delete is
   * waiting it is the answer to that (frames are answered in order), shown
   * in place. Returns whether it was.
   */
  refused(frame) {
    const waiting = this.waiting;
    if (!waiting || !waiting.box.isConnected) return false;
    this.waiting = null;
    waiting.hint.textContent = frame.message || 'That did not work.';
    waiting.hint.classList.add('error-text');
    waiting.done();
    return true;
  }
}
