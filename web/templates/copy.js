document.querySelectorAll('[data-copy]').forEach(function (b) {
  b.addEventListener('click', function () {
    var t = document.getElementById(b.getAttribute('data-copy'));
    var done = function () { b.textContent = 'Copied'; };
    var fallback = function () { t.select(); try { document.execCommand('copy'); done(); } catch (e) {} };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(t.value).then(done, fallback);
    } else { fallback(); }
  });
});
