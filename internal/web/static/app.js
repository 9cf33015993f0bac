// shequ: small progressive enhancements; every page works without them.
(function () {
  'use strict';
  // Ask before destructive actions (buttons marked .danger).
  document.addEventListener('submit', function (e) {
    var b = e.submitter;
    if (b && b.classList.contains('danger') && !window.confirm(document.documentElement.lang === 'en' ? 'Are you sure?' : '确定要这样做吗？')) {
      e.preventDefault();
    }
  });
})();

// Print buttons (posters, stickers).
document.querySelectorAll('[data-print]').forEach((b) => b.addEventListener('click', () => window.print()));
