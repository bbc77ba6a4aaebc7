// tsunagu's own script: tiny, no inline handlers (the CSP forbids them).
document.addEventListener('click', (event) => {
  if (event.target instanceof Element && event.target.closest('[data-print]')) {
    window.print();
  }
});

// Drafts: what is typed into a form marked data-draft is kept in this browser
// (localStorage, per reader and patient) until it is posted, so that a session
// that ends while writing loses nothing. Files cannot be kept: the note says so.
// Drafts older than 12 hours are dropped; signing out drops them all.
(() => {
  const PREFIX = 'tsunagu-draft:';
  const MAX_AGE_MS = 12 * 3600 * 1000;
  const storage = (() => { try { return window.localStorage; } catch { return null; } })();
  if (!storage) return;
  const keys = () => Object.keys(storage).filter((k) => k.startsWith(PREFIX));
  for (const key of keys()) {
    try {
      const saved = JSON.parse(storage.getItem(key) || '{}');
      if (!(Date.now() - saved.at < MAX_AGE_MS)) storage.removeItem(key);
    } catch { storage.removeItem(key); }
  }
  document.addEventListener('submit', (event) => {
    if (event.target instanceof HTMLFormElement && event.target.getAttribute('action') === '/sign-out') {
      for (const key of keys()) storage.removeItem(key);
    }
  });
  const kept = document.getElementById('draft-kept');
  if (kept && keys().length > 0) kept.hidden = false;
  const posted = new URLSearchParams(window.location.search).get('notice') === 'posted';
  // A page reached after a form was sent names the draft it settles.
  for (const done of document.querySelectorAll('[data-draft-clear]')) storage.removeItem(PREFIX + done.dataset.draftClear);
  for (const form of document.querySelectorAll('form[data-draft]')) {
    const key = PREFIX + form.dataset.draft;
    if (posted) storage.removeItem(key);
    const typed = (field) => field.name && field.name !== 'csrf' && field.type !== 'hidden' && field.type !== 'file';
    const save = () => {
      const values = {};
      let any = false;
      for (const field of form.elements) {
        if (!typed(field)) continue;
        if (field.type === 'checkbox' || field.type === 'radio') {
          if (field.checked) { (values[field.name] ||= []).push(field.value); }
        } else if (field.value !== '' && field.value !== field.defaultValue) {
          values[field.name] = field.value;
          any = true;
        }
      }
      const files = [...form.querySelectorAll('input[type=file]')].some((f) => f.files && f.files.length > 0);
      if (any) storage.setItem(key, JSON.stringify({ at: Date.now(), values, files }));
      else storage.removeItem(key);
    };
    let saved = null;
    try { saved = JSON.parse(storage.getItem(key) || 'null'); } catch { saved = null; }
    if (saved && saved.values) {
      let restored = false;
      for (const field of form.elements) {
        if (!typed(field) || !(field.name in saved.values)) continue;
        const value = saved.values[field.name];
        if (field.type === 'checkbox' || field.type === 'radio') {
          field.checked = Array.isArray(value) && value.includes(field.value);
        } else if (field.value === '' || field.value === field.defaultValue) {
          field.value = value;
          restored = true;
        }
      }
      if (restored) {
        const note = form.querySelector('#draft-restored');
        if (note) {
          note.hidden = false;
          const files = note.querySelector('[data-draft-files]');
          if (files && saved.files) files.hidden = false;
        }
      }
    }
    form.addEventListener('input', save);
    form.addEventListener('change', save);
  }
})();
