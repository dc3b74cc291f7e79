/* Braided public pages: small enhancements only. Every page works without this file. */
(function () {
  "use strict";
  /* The page's language: messages arrive translated in a JSON block the page renders
     (shared/i18n.py JS_MESSAGES); a missing one falls back to the English here. */
  var MESSAGES = {};
  try { MESSAGES = JSON.parse(document.getElementById("braided-i18n").textContent) || {}; } catch (e) { MESSAGES = {}; }
  var LANG = document.documentElement.lang || "en";
  function pluralIndex(n) {
    /* The same rule as each catalog's Plural-Forms header. */
    if (LANG === "en") { return n !== 1 ? 1 : 0; }
    if (LANG === "fil") { return (n !== 1 && n !== 2 && n !== 3 && (n % 10 === 4 || n % 10 === 6 || n % 10 === 9)) ? 1 : 0; }
    return 0;
  }
  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (all, name) { return name in values ? values[name] : all; });
  }
  function t(message, values) { return fill(typeof MESSAGES[message] === "string" ? MESSAGES[message] : message, values || {}); }
  function tn(singular, plural, n, values) {
    var forms = MESSAGES[singular];
    var text = Array.isArray(forms) && forms.length ? forms[Math.min(pluralIndex(n), forms.length - 1)] : (n === 1 ? singular : plural);
    values = values || {};
    values.num = n.toLocaleString();
    return fill(text, values);
  }

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

  /* Links within Braided replace the page instead of adding to the history, so the
     whole visit is one history entry and quick exit (which replaces that entry) leaves
     no Braided page one Back press away (the services sit on different origins, and a
     helpline site left to is better without a Back into Braided too). Plain left
     clicks only; a link within the page (#…) stays a normal jump. */
  if (exitLink) {
    document.addEventListener("click", function (event) {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
          event.shiftKey || event.altKey) { return; }
      var link = event.target.closest ? event.target.closest("a[href]") : null;
      if (!link || link === exitLink || link.target || link.hasAttribute("download")) { return; }
      var url = new URL(link.href, window.location.href);
      if (url.protocol !== "http:" && url.protocol !== "https:") { return; }
      if (url.origin === window.location.origin && url.pathname === window.location.pathname && url.search === window.location.search && url.hash) { return; }
      event.preventDefault();
      window.location.replace(url.href);
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
      if (n < min) { return t("%(count)s characters — at least %(min)s needed", {count: n.toLocaleString(), min: min}); }
      if (n > max) {
        return t("%(count)s characters — %(over)s over the limit of %(max)s",
          {count: n.toLocaleString(), over: (n - max).toLocaleString(), max: max.toLocaleString()});
      }
      return t("%(count)s of %(max)s characters", {count: n.toLocaleString(), max: max.toLocaleString()});
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

  /* Privacy check (issue 14). On the preview, "Keep" dismisses a finding and "Edit"
     selects the detail in its field. While typing, the same simple kinds are looked
     for here in the page; nothing is sent anywhere, and nothing is ever blocked. */
  document.querySelectorAll(".finding").forEach(function (item) {
    var keep = item.querySelector(".finding-keep");
    var edit = item.querySelector(".finding-edit");
    if (keep) {
      keep.hidden = false;
      keep.addEventListener("click", function () {
        item.hidden = true;
        var left = document.querySelectorAll(".finding:not([hidden])").length;
        var live = document.getElementById("privacy-live");
        if (live) { live.textContent = left ? tn("%(num)s left to look at.", "%(num)s left to look at.", left)
          : t("All kept. You can send it when you are ready."); }
      });
    }
    if (edit) {
      edit.addEventListener("click", function (event) {
        var field = document.getElementById(item.getAttribute("data-field"));
        if (!field) { return; }
        event.preventDefault();
        var at = field.value.indexOf(item.getAttribute("data-text"));
        field.focus();
        if (at >= 0) { field.setSelectionRange(at, at + item.getAttribute("data-text").length); }
      });
    }
  });
  var PRIVACY = [
    ["an email address", /[\w.+-]+@[\w-]+(\.[\w-]+)+/g],
    ["a web address", /\b(https?:\/\/|www\.)[^\s<>"']+/gi],
    ["a social media handle", /(^|[^\w@.])@[A-Za-z0-9_][A-Za-z0-9_.]{1,29}/g],
    ["a phone number", /(^|[^\w+])\+?\(?\d[\d\s().-]{5,20}\d(?!\w)/g]
  ];
  var storyBody = document.getElementById("body");
  var privacyLive = document.getElementById("privacy-typing");
  if (storyBody && privacyLive) {
    var privacyTimer = null;
    storyBody.addEventListener("input", function () {
      clearTimeout(privacyTimer);
      privacyTimer = setTimeout(function () {
        var kinds = [];
        PRIVACY.forEach(function (rule) {
          var m = storyBody.value.match(rule[1]);
          if (m && m.some(function (hit) { return hit.replace(/\D/g, "").length >= 7 || rule[0] !== "a phone number"; })) {
            kinds.push(t(rule[0]));
          }
        });
        privacyLive.textContent = kinds.length ? t(
          "Privacy check: your story has %(kinds)s. Preview shows where; keep it only if you are sure.",
          {kinds: kinds.join(", ")}) : "";
      }, 800);
    });
  }

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
        if (status) { status.textContent = ok ? t("Copied. Paste it somewhere only you can see.") : t("Select the code and copy it by hand."); }
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
