// The room page's link to the server: a WebSocket at /ws (docs/protocol.md)
// that reconnects with backoff and jitter, and long-polling on the JSON API
// when WebSockets cannot connect. It also drives the status dot. It knows
// nothing of messages: frames and polled messages go to the handlers.

import { apiRoomPath, fetchJson, withJitter } from './util.js';

/** WebSocket attempts that fail in a row before long-polling starts. */
const WS_FAILURES_BEFORE_POLLING = 3;
/** Reconnect backoff: first delay, doubling up to the cap, with jitter. */
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15000;
/** While long-polling, try the WebSocket again about this often. */
const WS_RETRY_WHILE_POLLING_MS = 30000;
/** Long-poll `wait` (s); the request itself is abandoned after a margin. */
const POLL_WAIT_S = 25;
const POLL_TIMEOUT_MS = (POLL_WAIT_S + 10) * 1000;

export class Connection {
  /**
   * @param {object} options
   * @param {string} options.room the room whose messages are long-polled
   * @param {HTMLElement} options.statusEl the status dot (data-state + .status-text)
   * @param {() => number} options.cursor the last seq received, for long-polls
   * @param {() => void} options.onOpen a socket opened: time to send `resume`
   * @param {() => void} options.onClose the socket closed (or never opened)
   * @param {(frame: object) => void} options.onFrame every frame from the server
   * @param {() => void} options.onPollStart long-polling answered for the first time
   * @param {(answer: object) => void} options.onPolled a long-poll's answer: {messages, events, last_seq}
   * @param {() => void} options.onChange the transport or its state changed
   */
  constructor(options) {
    Object.assign(this, options);
    this.ws = null;
    this.greeted = false;
    this.failures = 0;
    this.reconnectTimer = null;
    /** 'ws' (a greeted socket), 'poll' (long-polling) or 'connecting'. */
    this.mode = 'connecting';
    this.state = 'reconnecting';
    this.polling = null; // AbortController of the long-poll loop
    this.pollFailures = 0;
    this.signedOut = false;
  }

  start() {
    window.addEventListener('online', () => {
      if (this.mode === 'ws') this.setStatus('connected', 'Connected');
      else this.reconnectNow();
    });
    window.addEventListener('offline', () => this.setStatus('offline', 'Offline'));
    // A phone that slept may have been disconnected: reconnect as soon as the
    // page is looked at again rather than when the backoff says.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.reconnectNow();
    });
    this.statusEl.hidden = false;
    this.connect();
  }

  /** Send a frame if a socket is open; false if it could not be sent. */
  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  reconnectNow() {
    if (this.ws || this.signedOut) return;
    this.connect();
  }

  setStatus(state, text) {
    this.state = state;
    this.statusEl.dataset.state = state;
    this.statusEl.title = text;
    this.statusEl.querySelector('.status-text').textContent = text;
    this.onChange();
  }

  // ---- WebSocket

  connect() {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.ws || this.signedOut) return;
    if (this.mode !== 'poll') this.setStatus('reconnecting', this.failures ? 'Reconnecting…' : 'Connecting…');
    let ws;
    try {
      ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    } catch (_) {
      this.socketGone(null);
      return;
    }
    this.ws = ws;
    this.greeted = false;
    ws.addEventListener('open', () => { if (ws === this.ws) this.onOpen(); });
    ws.addEventListener('message', (event) => this.socketMessage(ws, event));
    ws.addEventListener('close', () => this.socketGone(ws));
  }

  socketMessage(ws, event) {
    if (ws !== this.ws || typeof event.data !== 'string') return;
    let frame;
    try { frame = JSON.parse(event.data); } catch (_) { return; }
    if (!frame || typeof frame.type !== 'string') return;
    // The server greets every connection (a `rooms` frame). Only then does
    // the socket count as working: one that closes before any frame came
    // (e.g. a proxy that accepts the upgrade and then drops it) is a failed
    // attempt, and long-polling, if running, goes on until then.
    if (!this.greeted) {
      this.greeted = true;
      this.failures = 0;
      this.stopPolling();
      this.mode = 'ws';
      this.setStatus('connected', 'Connected');
    }
    this.onFrame(frame);
  }

  socketGone(ws) {
    if (ws && ws !== this.ws) return;
    this.ws = null;
    this.onClose();
    this.failures = this.greeted ? 1 : this.failures + 1;
    this.greeted = false;
    if (this.mode === 'ws') this.mode = 'connecting';
    if (this.failures >= WS_FAILURES_BEFORE_POLLING && !this.polling) this.startPolling();
    if (this.mode !== 'poll') {
      const offline = navigator.onLine === false;
      this.setStatus(offline ? 'offline' : 'reconnecting', offline ? 'Offline' : 'Reconnecting…');
    }
    const delay = this.mode === 'poll'
      ? withJitter(WS_RETRY_WHILE_POLLING_MS)
      : withJitter(Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (this.failures - 1)));
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  // ---- long-polling

  startPolling() {
    if (this.polling) return;
    this.mode = 'poll';
    this.pollFailures = 0;
    this.polling = new AbortController();
    this.setStatus('reconnecting', 'Reconnecting (long-polling)…');
    this.pollLoop(this.polling.signal);
  }

  stopPolling() {
    if (this.polling) this.polling.abort();
    this.polling = null;
  }

  async pollLoop(signal) {
    let firstRound = true;
    while (!signal.aborted) {
      try {
        const wait = firstRound ? 0 : POLL_WAIT_S;
        const url = apiRoomPath(this.room) + '/messages?after=' + this.cursor() + '&wait=' + wait;
        const { status, data } = await fetchJson(url, { signal }, POLL_TIMEOUT_MS);
        if (signal.aborted) return;
        if (status === 401) {
          this.signedOut = true;
          this.stopPolling();
          this.setStatus('offline', 'Signed out — reload the page');
          return;
        }
        if (status !== 200 || !data) throw new Error('poll status ' + status);
        // The server answers again after failing: it may have restarted, so
        // the WebSocket is worth another try now rather than later.
        if (this.pollFailures > 0) this.reconnectNow();
        this.pollFailures = 0;
        this.setStatus('connected', 'Connected (long-polling)');
        if (firstRound) {
          firstRound = false;
          this.onPollStart();
        }
        this.onPolled(data);
      } catch (_) {
        if (signal.aborted) return;
        this.pollFailures += 1;
        const offline = this.pollFailures > 1;
        this.setStatus(offline ? 'offline' : 'reconnecting',
          offline ? 'Offline — retrying' : 'Reconnecting (long-polling)…');
        const delay = withJitter(Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.pollFailures));
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
