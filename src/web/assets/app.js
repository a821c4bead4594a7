// Progressive enhancement only: every page works without this file. It adds a copy
// button beside anything marked `data-copy` (the token shown once), and nothing else here.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  for (const target of document.querySelectorAll('[data-copy]')) {
    if (!navigator.clipboard) continue;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary';
    button.textContent = target.getAttribute('data-copy-label') || 'Copy';
    const status = document.createElement('span');
    status.setAttribute('role', 'status');
    status.className = 'hint';
    button.addEventListener('click', () => {
      navigator.clipboard.writeText(target.textContent.trim()).then(
        () => { status.textContent = ' Copied.'; },
        () => { status.textContent = ' Could not copy: select the text and copy it by hand.'; });
    });
    target.after(button, status);
  }
});
