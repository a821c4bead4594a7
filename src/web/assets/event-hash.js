// The event page's check, done by the reader's own browser: the archived message's bytes
// (base64 in data-raw-base64, exactly as the log carried them) are hashed with
// crypto.subtle.digest('SHA-256') and shown beside the SHA-256 the ledger stored when it
// archived them, with "match" or "MISMATCH". Without JavaScript the page says how to
// check offline instead. An external file: the Content-Security-Policy forbids inline script.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  const holder = document.querySelector('[data-raw-base64]');
  const shown = document.getElementById('browser-sha256');
  const verdict = document.getElementById('hash-verdict');
  if (holder === null || shown === null || verdict === null) return;
  const stored = holder.getAttribute('data-stored-sha256') || '';
  const text = atob(holder.getAttribute('data-raw-base64') || '');
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) bytes[i] = text.charCodeAt(i);
  if (!window.crypto || !window.crypto.subtle) {
    shown.textContent = 'not available: this browser computes SHA-256 only on https or localhost pages';
    return;
  }
  window.crypto.subtle.digest('SHA-256', bytes).then((digest) => {
    const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
    shown.textContent = hex;
    const same = hex === stored;
    verdict.textContent = same ? 'match' : 'MISMATCH';
    verdict.className = same ? 'ok' : 'bad';
    verdict.setAttribute('data-verdict', same ? 'match' : 'mismatch');
  }, (error) => {
    shown.textContent = `could not compute: ${error}`;
  });
});
