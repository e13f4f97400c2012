// One message as an element, built from a message object (docs/protocol.md)
// with the same markup templates/room.html renders, so server-rendered and
// live messages look and behave the same: author, time, "(edited)", the
// quote of the message it replies to, attachment, body, reactions.

import { bodyElement, excerpt } from './rich-text.js';
import { el, humanSize, localizeTime } from './util.js';

const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A message's uploaded file, as templates/room.html shows it. */
function attachmentFigure(a) {
  const figure = el('figure', 'attachment kind-' + a.kind);
  figure.dataset.upload = String(a.id);
  if (a.kind === 'image') {
    const link = el('a');
    link.href = a.url;
    link.target = '_blank';
    link.rel = 'noopener';
    const img = el('img');
    img.src = a.thumb_url || a.url;
    img.alt = a.name;
    img.loading = 'lazy';
    if (a.width && a.height) {
      img.width = a.width;
      img.height = a.height;
    }
    link.appendChild(img);
    figure.appendChild(link);
  } else if (a.kind === 'audio' || a.kind === 'video') {
    const media = el(a.kind);
    media.controls = true;
    media.preload = 'metadata';
    media.src = a.url;
    figure.appendChild(media);
  }
  const caption = el('figcaption');
  const file = el('a', 'file-link', a.name);
  file.href = a.url;
  if (a.kind === 'pdf' || a.kind === 'text') file.setAttribute('download', '');
  caption.append(file, ' ', el('span', 'muted', humanSize(a.size)));
  figure.appendChild(caption);
  return figure;
}

/** "(edited)", with when as its tooltip (in the reader's time zone). */
export function editedMarker(when) {
  const mark = el('span', 'edited', '(edited)');
  mark.dataset.edited = when;
  localizeEdited(mark);
  return mark;
}

/**
 * Put "(edited)" at the end of the message's text (inside its last
 * paragraph), where it stays visible when the message is grouped under the
 * previous one and its meta line is hidden. No text: it stays in the meta line.
 */
export function placeEdited(li, mark) {
  const body = li.querySelector(':scope > .body:not(.tombstone)');
  if (!body) return;
  const last = body.lastElementChild;
  const host = last && last.tagName === 'P' ? last : body;
  host.append(' ', mark);
}

export function localizeEdited(mark) {
  const at = new Date(mark.dataset.edited);
  if (!Number.isNaN(at.getTime())) mark.title = 'Edited ' + fullFormat.format(at);
}

/** The quote above a reply: who and the start of what they said. */
export function replyQuote(reply) {
  const quote = el('a', 'reply-quote');
  quote.href = '#m' + reply.seq;
  quote.dataset.id = String(reply.id);
  quote.dataset.seq = String(reply.seq);
  fillReplyQuote(quote, reply);
  return quote;
}

/** (Re)write a quote: after the original was edited or deleted, too. */
export function fillReplyQuote(quote, reply) {
  quote.classList.toggle('gone', !!reply.deleted);
  if (reply.deleted) {
    quote.replaceChildren(el('span', 'muted', 'Reply to a deleted message'));
  } else {
    quote.replaceChildren(el('span', 'quote-user', reply.user), ' ', el('span', 'quote-text', excerpt(reply.excerpt)));
  }
}

/**
 * The reactions row: one toggle per emoji ("👍 2", pressed when the reader
 * is among who reacted; the tooltip names them). Empty list: no row.
 */
export function reactionsElement(reactions, me) {
  if (!reactions || !reactions.length) return null;
  const row = el('div', 'reactions');
  for (const r of reactions) {
    const mine = (r.users || []).includes(me);
    const button = el('button', 'reaction' + (mine ? ' mine' : ''));
    button.type = 'button';
    button.dataset.emoji = r.emoji;
    button.setAttribute('aria-pressed', String(mine));
    button.title = (r.users || []).join(', ');
    button.append(el('span', 'e', r.emoji), ' ', el('span', 'n', String(r.count)));
    row.appendChild(button);
  }
  return row;
}

/** Whether a message object mentions `me`. */
export function mentionsMe(m, me) {
  const lower = (me || '').toLowerCase();
  return !!lower && (m.mentions || []).some((name) => name.toLowerCase() === lower);
}

/**
 * A message element. It gets its identity (`id="m{seq}"`, data-seq, data-id)
 * from MessageList.confirm once stored.
 */
export function buildMessage(m, me) {
  const li = el('li', 'message');
  li.dataset.user = m.user;
  const meta = el('div', 'meta');
  const author = el('a', 'author', m.user);
  author.href = '/users/' + encodeURIComponent(m.user);
  const time = el('time');
  time.setAttribute('datetime', m.ts);
  localizeTime(time);
  meta.append(author, time);
  li.appendChild(meta);
  fillMessage(li, m, me);
  return li;
}

/**
 * Everything under the meta line, from the message's current state: used
 * when it is first shown and whenever it changes (edit, delete, reactions).
 */
export function fillMessage(li, m, me) {
  const meta = li.querySelector('.meta');
  for (const node of Array.from(li.children)) {
    if (node !== meta && !node.classList.contains('actions')) node.remove();
  }
  const oldMark = meta.querySelector('.edited');
  if (oldMark) oldMark.remove();
  li.classList.toggle('deleted', !!m.deleted);
  li.classList.toggle('mentions-me', !m.deleted && mentionsMe(m, me));
  if (m.reply) li.appendChild(replyQuote(m.reply));
  if (m.attachment && !m.deleted) li.appendChild(attachmentFigure(m.attachment));
  if (m.deleted || m.body || m.html || !m.attachment) li.appendChild(bodyElement(m, me));
  if (m.edited && !m.deleted) {
    const mark = editedMarker(m.edited);
    meta.appendChild(mark);
    placeEdited(li, mark);
  }
  const reactions = reactionsElement(m.reactions, me);
  if (reactions) li.appendChild(reactions);
}
