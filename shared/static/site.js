/* Braided public pages: small enhancements only. Every page works without this file. */
(function () {
  "use strict";

  /* Quick exit: replace this page (location.replace leaves no history entry to step
     back to) with the neutral address. Escape pressed twice within 1.5 s does the same. */
  var exitLink = document.querySelector("[data-quick-exit]");
  function leave() {
    var target = exitLink ? exitLink.getAttribute("data-quick-exit") : "about:blank";
    try {
      document.title = "";
      document.body.style.visibility = "hidden";
    } catch (e) { /* nothing to hide */ }
    window.location.replace(target);
  }
  if (exitLink) {
    exitLink.addEventListener("click", function (event) {
      event.preventDefault();
      leave();
    });
    var lastEscape = 0;
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" && event.key !== "Esc") { return; }
      var now = Date.now();
      if (now - lastEscape < 1500) { leave(); }
      lastEscape = now;
    });
  }

  /* Live length counter: counts characters as the server does (code points, after
     trimming), and says so when the story is too short or too long. */
  function codePoints(text) { return Array.from(text.trim()).length; }
  document.querySelectorAll("textarea[data-counter]").forEach(function (area) {
    var out = document.getElementById(area.getAttribute("data-counter"));
    var live = document.getElementById(area.getAttribute("data-counter") + "-live");
    var min = parseInt(area.getAttribute("data-min"), 10) || 0;
    var max = parseInt(area.getAttribute("data-max"), 10) || Infinity;
    var timer = null;
    function message(n) {
      if (n < min) { return n.toLocaleString() + " characters — at least " + min + " needed"; }
      if (n > max) { return n.toLocaleString() + " characters — " + (n - max).toLocaleString() + " over the limit of " + max.toLocaleString(); }
      return n.toLocaleString() + " of " + max.toLocaleString() + " characters";
    }
    function update() {
      var n = codePoints(area.value);
      var text = message(n);
      out.textContent = text;
      out.classList.toggle("over", n > max);
      /* Screen readers hear the count after a pause in typing, not at every key. */
      if (live) {
        clearTimeout(timer);
        timer = setTimeout(function () { live.textContent = text; }, 1200);
      }
    }
    if (out) {
      area.addEventListener("input", update);
      update();
    }
  });

  /* Copy button for the receipt code: hidden without JavaScript, where the code is
     selectable text. */
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-copy") + "-copied");
    if (!source) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = source.textContent.trim();
      function done(ok) {
        if (status) { status.textContent = ok ? "Copied. Paste it somewhere only you can see." : "Select the code and copy it by hand."; }
      }
      function fallback() {
        var range = document.createRange();
        range.selectNodeContents(source);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        done(ok);
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
      } else {
        fallback();
      }
    });
  });
})();
