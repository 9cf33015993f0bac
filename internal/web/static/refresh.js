// Reloads a page that shows a short-lived code before the code expires.
(function () {
  'use strict';
  var el = document.querySelector('[data-refresh]');
  if (!el) return;
  setTimeout(function () { location.reload(); }, parseInt(el.dataset.refresh, 10) * 1000);
})();
