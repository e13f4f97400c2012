// The message composer: Enter sends, Shift+Enter is a new line, typing
// notices, errors under it, and reply mode ("Replying to bob: … ×"), whose
// target goes with the next message as `reply_to`.

import { el } from './util.js';

/** The server relays at most one `typing` per 2 s per room; send no more. */
const TYPING_SEND_EVERY_MS = 2000;

export class Composer {
  /**
   * @param {HTMLFormElement} form the `#composer` form
   * @param {object} options
   * @param {(body: string, replyTo: object|null) => void} options.onSubmit
   * @param {() => boolean} options.onTyping send a `typing` frame; false if it could not
   */
  constructor(form, options) {
    this.form = form;
    Object.assign(this, options);
    this.textarea = form.querySelector('textarea[name="body"]');
    this.errorEl = document.getElementById('composer-error');
    this.replyBar = document.getElementById('replying');
    this.replyInput = form.querySelector('input[name="reply_to"]');
    /** The message being replied to ({id, seq, user, excerpt}) or null. */
    this.replyTarget = null;
    this.lastTypingSent = 0;
  }

  bind() {
    this.form.addEventListener('submit', (event) => {
      if (this.form.dataset.native === '1') return;
      event.preventDefault();
      this.submit();
    });
    this.textarea.addEventListener('keydown', (event) => {
      // Enter sends; Shift+Enter is a new line; so is Enter while an IME composes.
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      } else if (event.key === 'Escape' && this.replyTarget) {
        event.preventDefault();
        this.cancelReply();
      }
    });
    this.textarea.addEventListener('input', () => {
      this.showError('');
      const now = Date.now();
      if (this.textarea.value && now - this.lastTypingSent >= TYPING_SEND_EVERY_MS) {
        if (this.onTyping()) this.lastTypingSent = now;
      }
    });
  }

  submit() {
    const body = this.textarea.value;
    if (!body.trim()) return;
    const reply = this.replyTarget;
    this.textarea.value = '';
    this.showError('');
    this.cancelReply();
    this.lastTypingSent = 0;
    this.onSubmit(body, reply);
  }

  /** Put a refused message back (unless something new was typed meanwhile). */
  restore(body, reply) {
    if (body !== null && !this.textarea.value) {
      this.textarea.value = body;
      if (reply) this.replyTo(reply);
    }
  }

  /** The ordinary form post, for when there is no JSON API. */
  submitNatively(body, reply) {
    this.textarea.value = body;
    this.replyInput.value = reply ? String(reply.id) : '';
    this.form.dataset.native = '1';
    this.form.submit();
  }

  replyTo(target) {
    this.replyTarget = target;
    this.replyInput.value = String(target.id);
    const close = el('button', 'link cancel-reply', '×');
    close.type = 'button';
    close.title = 'Cancel the reply (Esc)';
    close.setAttribute('aria-label', 'Cancel the reply');
    close.addEventListener('click', () => {
      this.cancelReply();
      this.textarea.focus();
    });
    const label = el('span', 'replying-text');
    label.append('Replying to ', el('strong', null, target.user), ': ', el('span', 'muted', target.excerpt));
    this.replyBar.replaceChildren(label, close);
    this.replyBar.hidden = false;
    this.textarea.focus();
  }

  cancelReply() {
    this.replyTarget = null;
    this.replyInput.value = '';
    this.replyBar.replaceChildren();
    this.replyBar.hidden = true;
  }

  showError(message) {
    this.errorEl.textContent = message;
    this.errorEl.hidden = !message;
  }
}
