// A message body as the server rendered it (markdown-lite, sanitised by
// ammonia in src/markdown.rs) turned into DOM nodes *without* innerHTML:
// the HTML is parsed in an inert document (no scripts run, nothing loads)
// and only whitelisted elements are rebuilt, as fresh nodes, with their text
// set as text. Anything else is dropped or unwrapped, so even if the server
// ever sent something unexpected, it could not become markup here.

import { el } from './util.js';

/** Elements rebuilt as they are (no attributes kept). */
const PLAIN_TAGS = new Set(['P', 'BR', 'STRONG', 'EM', 'CODE', 'PRE']);
/** Elements whose content is dropped along with them. */
const DROPPED_TAGS = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'IFRAME', 'OBJECT', 'EMBED', 'NOSCRIPT', 'SVG', 'MATH']);
/** The longest excerpt a reply quote shows (characters). */
const EXCERPT_CHARS = 100;

/** Whether `href` may be a link: http(s) anywhere, or a profile on this site. */
function safeHref(href) {
  return /^https?:\/\//i.test(href) || /^\/users\/[A-Za-z0-9_.-]+$/.test(href);
}

function rebuild(node, out, me) {
  for (const child of node.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) {
      out.appendChild(document.createTextNode(child.nodeValue));
      continue;
    }
    if (child.nodeType !== Node.ELEMENT_NODE) continue;
    const tag = child.tagName.toUpperCase();
    if (DROPPED_TAGS.has(tag)) continue;
    // `<br>` then a newline: the newline alone breaks the line (the body is
    // `white-space: pre-line`), and the text keeps it.
    if (tag === 'BR' && child.nextSibling && child.nextSibling.nodeType === Node.TEXT_NODE &&
        child.nextSibling.nodeValue.startsWith('\n')) continue;
    if (PLAIN_TAGS.has(tag)) {
      const copy = document.createElement(tag.toLowerCase());
      rebuild(child, copy, me);
      out.appendChild(copy);
    } else if (tag === 'A' && safeHref(child.getAttribute('href') || '')) {
      const href = child.getAttribute('href');
      const link = document.createElement('a');
      link.setAttribute('href', href);
      if (href.startsWith('/users/')) {
        link.className = 'mention';
        if (me && href.slice('/users/'.length).toLowerCase() === me.toLowerCase()) link.classList.add('me');
      } else {
        link.target = '_blank';
        link.rel = 'noopener noreferrer nofollow';
      }
      rebuild(child, link, me);
      out.appendChild(link);
    } else {
      // Unknown element (or a link with an unsafe target): keep its text only.
      rebuild(child, out, me);
    }
  }
}

/**
 * The nodes of `html` (see the module comment). Whitespace between
 * top-level blocks is dropped, so the body's text is the message's text.
 */
export function richText(html, me) {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const fragment = document.createDocumentFragment();
  rebuild(doc.body, fragment, me);
  for (const node of Array.from(fragment.childNodes)) {
    if (node.nodeType === Node.TEXT_NODE && !node.nodeValue.trim()) node.remove();
  }
  return fragment;
}

/** A message's `.body` element: rich text when the server rendered it, else plain text. */
export function bodyElement(m, me) {
  if (m.deleted) return el('div', 'body tombstone', 'This message was deleted');
  if (m.html) {
    const body = el('div', 'body rich');
    body.appendChild(richText(m.html, me));
    return body;
  }
  return el('div', 'body', m.body || '');
}

/**
 * A server-rendered body, as the live client shows it: its own @mention
 * links marked, line breaks kept once (see rebuild).
 */
export function adoptRichText(root, me) {
  for (const br of root.querySelectorAll('.body.rich br')) {
    const next = br.nextSibling;
    if (next && next.nodeType === Node.TEXT_NODE && next.nodeValue.startsWith('\n')) br.remove();
  }
  if (!me) return;
  for (const link of root.querySelectorAll('a.mention')) {
    const href = link.getAttribute('href') || '';
    if (href.toLowerCase() === ('/users/' + me).toLowerCase()) link.classList.add('me');
  }
}

/** The start of a text, on one line, for a reply quote. */
export function excerpt(text) {
  const line = (text || '').replace(/\s+/g, ' ').trim();
  return line.length > EXCERPT_CHARS ? line.slice(0, EXCERPT_CHARS - 1) + '…' : line;
}
