// The room page's upload form: a preview of the chosen file, then the file
// goes to `POST /api/rooms/{room}/uploads` with a progress bar and the page
// stays. Without the API (or without JavaScript) it is an ordinary
// multipart form post that comes back to the room.

import { apiRoomPath, el, errorText, humanSize } from './util.js';

const PREVIEWABLE = /^image\/(png|jpeg|gif|webp)$/;

/** `onStored(message)` gets the stored message (it also arrives live). */
export function enhanceUploader(form, room, onStored) {
  const input = form.querySelector('input[type="file"]');
  const caption = form.querySelector('input[name="caption"]');
  if (!input) return;
  const preview = el('div', 'upload-preview');
  preview.hidden = true;
  const progress = el('progress');
  progress.max = 1;
  progress.hidden = true;
  const error = el('p', 'error');
  error.setAttribute('role', 'alert');
  error.hidden = true;
  form.append(preview, progress, error);
  // Caption and Upload appear once a file is chosen: one row, not two.
  form.classList.add('compact');

  let previewUrl = null;
  const showError = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };
  const clearPreview = () => {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    preview.replaceChildren();
    preview.hidden = true;
  };
  const busy = (on) => {
    progress.hidden = !on;
    for (const button of form.querySelectorAll('button')) button.disabled = on;
  };

  input.addEventListener('change', () => {
    clearPreview();
    showError('');
    const file = input.files && input.files[0];
    form.classList.toggle('has-file', !!file);
    if (!file) return;
    if (PREVIEWABLE.test(file.type)) {
      previewUrl = URL.createObjectURL(file);
      const img = el('img');
      img.src = previewUrl;
      img.alt = 'Preview of ' + file.name;
      preview.appendChild(img);
    }
    preview.appendChild(el('span', 'muted', file.name + ' · ' + humanSize(file.size)));
    preview.hidden = false;
  });

  // Drag and drop: a file dropped anywhere on the chat is picked as if it
  // had been chosen with the file picker (then previewed, captioned, sent).
  const zone = form.closest('.chat') || document.body;
  let depth = 0;
  const carriesFiles = (e) => !!e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
  zone.addEventListener('dragenter', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    depth += 1;
    zone.classList.add('dropping');
  });
  zone.addEventListener('dragover', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  zone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove('dropping');
  });
  zone.addEventListener('drop', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    depth = 0;
    zone.classList.remove('dropping');
    const file = e.dataTransfer.files && e.dataTransfer.files[0];
    if (!file) return;
    const picked = new DataTransfer();
    picked.items.add(file);
    input.files = picked.files;
    input.dispatchEvent(new Event('change'));
    if (caption) caption.focus();
  });

  form.addEventListener('submit', (event) => {
    if (form.dataset.native === '1') return;
    const file = input.files && input.files[0];
    if (!file) return; // the browser's own "required" message
    event.preventDefault();
    showError('');
    const data = new FormData();
    data.append('caption', caption ? caption.value : '');
    data.append('file', file);
    // XMLHttpRequest rather than fetch(): it reports upload progress.
    const xhr = new XMLHttpRequest();
    xhr.open('POST', apiRoomPath(room) + '/uploads');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) progress.value = e.loaded / e.total;
    });
    const native = () => {
      busy(false);
      form.dataset.native = '1';
      form.submit();
    };
    xhr.addEventListener('load', () => {
      busy(false);
      const body = xhr.response;
      if (xhr.status === 201 && body && body.message) {
        form.reset();
        form.classList.remove('has-file');
        clearPreview();
        onStored(body.message);
      } else if (xhr.status === 404 || xhr.status === 405) {
        native();
      } else {
        showError(errorText(body, 'The file could not be uploaded (HTTP ' + xhr.status + ').'));
      }
    });
    xhr.addEventListener('error', native);
    progress.value = 0;
    busy(true);
    xhr.send(data);
  });
}
