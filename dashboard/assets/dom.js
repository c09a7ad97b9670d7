// Small helpers the page's modules share. Text is always set with
// textContent, so that what members wrote never becomes markup.

/** The first element matching a CSS selector. */
export const $ = (sel) => document.querySelector(sel);

/** Sets an element's text and returns the element. */
export function text(el, value) {
  el.textContent = value;
  return el;
}

/** Creates an element with an optional class and text. */
export function make(tag, cls, value) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (value !== undefined) e.textContent = value;
  return e;
}

/** Tells screen readers, politely, what just happened. */
export function announce(msg) {
  text($('#announce'), msg);
}

/** The date part of an ISO time, or '' for none. */
export function day(t) {
  return t ? t.slice(0, 10) : '';
}
