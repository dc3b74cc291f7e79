// "This resonated with me" without leaving the page. The browser remembers its own
// press (localStorage, never sent anywhere); the server keeps no trace of who pressed.
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
  document.querySelectorAll("form.resonate").forEach(function (form) {
    var id = form.getAttribute("data-story");
    var key = "braided.resonated." + id;
    var button = form.querySelector("button");
    var out = form.querySelector(".resonance");
    function pressed() {
      button.disabled = true;
      button.textContent = t("It resonated with you");
    }
    var stored = null;
    try { stored = window.localStorage.getItem(key); } catch (e) { /* storage off: the form still works */ }
    if (stored) { pressed(); }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (button.disabled) { return; }
      button.disabled = true;
      fetch("/api/stories/" + encodeURIComponent(id) + "/resonate", {method: "POST", credentials: "omit",
        headers: {"Content-Type": "application/json"}, body: "{}"})
        .then(function (r) { return r.json().then(function (body) { return [r.status, body]; }); })
        .then(function (res) {
          if (res[0] === 202) {
            try { window.localStorage.setItem(key, "1"); } catch (e) { /* fine */ }
            pressed();
            var n = res[1].resonance;
            out.textContent = tn("%(num)s reader felt the same, you included. Thank you.",
              "%(num)s readers felt the same, you included. Thank you.", n);
          } else {
            button.disabled = false;
            out.textContent = res[1].error || t("That did not work; please try again.");
          }
        })
        .catch(function () { form.submit(); });
    });
  });
})();
