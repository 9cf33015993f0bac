// Polls a long job's status and moves its progress bar; reloads the page
// when the job has finished.
(function () {
  'use strict';
  var box = document.getElementById('progress');
  if (!box) return;
  var bar = document.getElementById('import-progress');
  var done = document.getElementById('import-done');
  function poll() {
    fetch(box.dataset.status, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        bar.value = s.done; done.textContent = s.done;
        if (s.status === 'running') { setTimeout(poll, 700); } else { location.reload(); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 500);
})();
