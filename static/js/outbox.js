// What the reader sends: messages (shown at once as pending, resent with
// the same client_id until acknowledged, over the JSON API when the
// WebSocket is down) and actions on messages and read markers (a frame, or
// while long-polling the same request of the JSON API, whose effect comes
// back through the poll like any other event).

import { apiRoomPath, errorText, fetchJson, newClientId, showNotice } from './util.js';

export class Outbox {
  /**
   * @param {object} options
   * @param {string} options.room
   * @param {() => import('./connection.js').Connection} options.connection
   * @param {import('./message-list.js').MessageList} options.messages
   * @param {import('./composer.js').Composer} options.composer
   * @param {(messages: object[]) => void} options.receive a message stored through the API
   * @param {(frame: object) => void} options.receiveError an API refusal, as an `error` frame
   */
  constructor(options) {
    Object.assign(this, options);
  }

  messageFrame(clientId, body, reply) {
    const frame = { type: 'send', room: this.room, body, client_id: clientId };
    if (reply) frame.reply_to = reply.id;
    return frame;
  }

  submit(body, reply) {
    const clientId = newClientId();
    this.messages.addPending(clientId, body, reply);
    if (this.connection().send(this.messageFrame(clientId, body, reply))) return;
    // No open socket: post through the JSON API (which falls back to the
    // form if there is no API); anything unanswered goes again on reconnect.
    this.sendOverApi(clientId, body, reply);
  }

  /**
   * A socket opened: what was not acknowledged goes again. The same
   * client_id: the server answers a repeat with the original ack and stores
   * nothing twice.
   */
  resend() {
    for (const [clientId, item] of this.messages.pending) {
      this.connection().send(this.messageFrame(clientId, item.body, item.reply));
    }
  }

  /** Long-polling began: what was not acknowledged goes through the API. */
  pollStarted() {
    for (const [clientId, item] of this.messages.pending) this.sendOverApi(clientId, item.body, item.reply);
  }

  async sendOverApi(clientId, body, reply) {
    try {
      const payload = { body, client_id: clientId };
      if (reply) payload.reply_to = reply.id;
      const { status, data } = await fetchJson(apiRoomPath(this.room) + '/messages', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(payload),
      });
      if ((status === 200 || status === 201) && data && data.message) {
        this.receive([data.message]);
      } else if (status === 404 || status === 405) {
        // No JSON API here (or no such room): the ordinary form post still
        // works, and shows the server's own page if it fails.
        this.composer.submitNatively(this.messages.refused(clientId) || body, reply);
      } else if (status >= 400 && status < 500 && data && data.error) {
        this.failSend(clientId, errorText(data, 'The message was not sent.'));
      }
      // Otherwise (5xx, network) it stays pending and goes again on the
      // next connection, with the same client_id.
    } catch (_) { /* stays pending */ }
  }

  /** A send was refused: its text (and reply) go back to the composer, with why. */
  failSend(clientId, message) {
    const item = this.messages.pending.get(clientId);
    const reply = item ? item.reply : null;
    this.composer.restore(this.messages.refused(clientId), reply);
    this.composer.showError(message);
  }

  /**
   * An action frame (edit, delete, react, unreact, read); while
   * long-polling, the same request of the JSON API. False: not connected.
   */
  act(frame) {
    const connection = this.connection();
    if (connection.send(frame)) return true;
    if (connection.mode !== 'poll') return false;
    this.actOverApi(frame);
    return true;
  }

  async actOverApi(frame) {
    const message = '/api/messages/' + encodeURIComponent(frame.id);
    const request = {
      edit: ['PATCH', message, { body: frame.body }],
      delete: ['DELETE', message, null],
      react: ['POST', message + '/reactions', { emoji: frame.emoji }],
      unreact: ['DELETE', message + '/reactions/' + encodeURIComponent(frame.emoji || ''), null],
      read: ['POST', apiRoomPath(this.room) + '/read', { seq: frame.seq }],
    }[frame.type];
    if (!request) return;
    const [method, url, body] = request;
    const options = { method };
    if (body) {
      options.headers = { 'Content-Type': 'application/json' };
      options.body = JSON.stringify(body);
    }
    try {
      const { status, data } = await fetchJson(url, options);
      if (status >= 400) {
        const code = data && data.error ? data.error.code : 'failed';
        this.receiveError({ type: 'error', code, message: errorText(data, 'That did not work.') });
      }
    } catch (_) {
      showNotice('Not connected right now: try again in a moment.');
    }
  }
}
