// "This resonated with me" without leaving the page. The browser remembers its own
// press (localStorage, never sent anywhere); the server keeps no trace of who pressed.
(function () {
  "use strict";
  document.querySelectorAll("form.resonate").forEach(function (form) {
    var id = form.getAttribute("data-story");
    var key = "braided.resonated." + id;
    var button = form.querySelector("button");
    var out = form.querySelector(".resonance");
    function pressed() {
      button.disabled = true;
      button.textContent = "It resonated with you";
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
            out.textContent = n + (n === 1 ? " reader" : " readers") + " felt the same, you included. Thank you.";
          } else {
            button.disabled = false;
            out.textContent = res[1].error || "That did not work; please try again.";
          }
        })
        .catch(function () { form.submit(); });
    });
  });
})();
