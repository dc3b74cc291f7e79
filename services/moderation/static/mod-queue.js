// Braided moderation: keyboard, live "N new stories", reveal without reload,
// soft claims and reason templates. Every page works without this file.
(function () {
  "use strict";

  var items = function () { return Array.prototype.slice.call(document.querySelectorAll("article.item")); };
  var current = -1;
  var STORE = "braided-mod-selected:" + location.pathname + location.search.replace(/[?&]done=[^&]*/, "");

  function toast(text) {
    var t = document.createElement("div");
    t.className = "toast";
    t.setAttribute("role", "status");
    t.textContent = text;
    document.body.appendChild(t);
    setTimeout(function () { t.remove(); }, 3000);
  }

  function postJSON(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
  }

  function select(i) {
    var list = items();
    if (!list.length) return;
    i = Math.max(0, Math.min(i, list.length - 1));
    if (list[current]) list[current].classList.remove("selected");
    current = i;
    var el = list[i];
    el.classList.add("selected");
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
    try { sessionStorage.setItem(STORE, String(i)); } catch (e) { /* private mode */ }
    // Soft claim: tells other moderators who is looking; nothing is locked.
    if (el.querySelector(".approve-form")) {
      postJSON("/api/queue/" + el.dataset.id + "/claim").then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && data.also_looking) toast(data.also_looking + " is also looking at this story"); })
        .catch(function () {});
    }
  }

  function selected() { return items()[current] || null; }

  // `a` approves after a few seconds, with Undo (the button, or u): a stray key
  // press must not publish a story.
  var UNDO_MS = 5000;
  var pendingApprove = null;
  function undo() {
    if (!pendingApprove) return false;
    clearTimeout(pendingApprove.timer);
    pendingApprove.box.remove();
    pendingApprove = null;
    toast("Not approved.");
    return true;
  }
  function approveLater(form) {
    if (pendingApprove) return;
    var box = document.createElement("div");
    box.className = "toast undo-toast";
    box.id = "undo-toast";
    box.setAttribute("role", "status");
    box.appendChild(document.createTextNode("Approving in 5 seconds…"));
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary small";
    button.id = "undo";
    button.textContent = "Undo (u)";
    button.addEventListener("click", undo);
    box.appendChild(button);
    document.body.appendChild(box);
    pendingApprove = { box: box, timer: setTimeout(function () {
      box.remove();
      pendingApprove = null;
      form.requestSubmit();
    }, UNDO_MS) };
  }

  // "Select all on this page": ticks (or unticks) every story here without a reload;
  // without JS the link reloads the page with every box ticked.
  var selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("click", function (ev) {
      ev.preventDefault();
      var boxes = Array.prototype.slice.call(document.querySelectorAll("input.select"));
      var all = boxes.every(function (b) { return b.checked; });
      boxes.forEach(function (b) { b.checked = !all; });
      selectAll.textContent = all ? "Select all on this page" : "Clear the selection";
      updateBulkCount();
    });
  }

  function toggleShortcuts() {
    var box = document.getElementById("shortcuts");
    if (box) box.classList.toggle("open");
  }

  function updateBulkCount() {
    var n = document.querySelectorAll("input.select:checked").length;
    var label = document.getElementById("bulk-count");
    if (label) label.textContent = n ? n + " selected:" : "Tick stories (or press x) to decide several at once:";
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || ev.target.isContentEditable) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    var el = selected();
    switch (ev.key) {
      case "j": select(current + 1); break;
      case "k": select(current < 0 ? 0 : current - 1); break;
      case "a":
        if (!el) { select(0); el = selected(); }
        var approve = el && el.querySelector(".approve-form");
        if (!approve) return;
        if (el.classList.contains("is-blurred")) { toast("This story is held: read it before approving (Show this story)."); return; }
        approveLater(approve);
        break;
      case "u":
        if (!undo()) return;
        break;
      case "r":
        if (!el) { select(0); el = selected(); }
        var reason = el && el.querySelector(".reject-form .reason, .takedown-form .reason");
        if (!reason) return;
        reason.focus();
        break;
      case "x":
        var box = el && el.querySelector("input.select");
        if (!box) return;
        box.checked = !box.checked;
        updateBulkCount();
        break;
      case "o":
        if (el) location.href = "/queue/" + el.dataset.id;
        break;
      case "?": toggleShortcuts(); break;
      case "Escape":
        var sc = document.getElementById("shortcuts");
        if (sc) sc.classList.remove("open");
        if (location.hash === "#shortcuts") history.replaceState(null, "", location.pathname + location.search);
        break;
      default: return;
    }
    ev.preventDefault();
  });

  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.classList && t.classList.contains("select")) updateBulkCount();
    if (t.classList && t.classList.contains("reason-template")) {
      // Picking a template fills the reason, which the moderator may then edit.
      var option = t.options[t.selectedIndex];
      var target = document.getElementById(t.dataset.target);
      if (target && option && option.dataset.body) target.value = option.dataset.body;
    }
  });

  // Reveal / blur again without a reload; the plain form still works without JS.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList.contains("reveal-form")) return;
    ev.preventDefault();
    var id = form.dataset.id;
    var hide = form.querySelector("input[name=action]").value === "hide";
    postJSON("/api/queue/" + id + "/reveal", { action: hide ? "hide" : "reveal" }).then(function (r) {
      if (!r.ok) { form.submit(); return; }
      if (hide) { location.reload(); return; }
      r.json().then(function (data) {
        if (data && data.break_reminder) toast(data.break_reminder);
      }).catch(function () {});
      var item = document.getElementById("item-" + id);
      var story = document.getElementById("story-" + id);
      story.classList.remove("blurred");
      story.removeAttribute("inert");
      story.removeAttribute("aria-hidden");
      item.classList.remove("is-blurred");
      var warn = document.getElementById("warn-" + id);
      if (warn) warn.remove();
      story.focus && story.setAttribute("tabindex", "-1");
      story.focus();
    }).catch(function () { form.submit(); });
  });

  var relabel = function (article, label) {
    var chip = article.querySelector(".item-head .label");
    if (!chip || !label) return;
    chip.textContent = label;
    chip.className = "label label-" + label;
    article.className = article.className.replace(/\bitem-(clear|flagged|held|unscreened)\b/, "item-" + label);
    var stale = article.querySelector(".not-screened");
    if (stale) stale.remove();
    // A story screened again means a model is loaded: the banner no longer holds.
    var off = document.getElementById("screen-off");
    if (off) off.hidden = true;
    if (!article.querySelector(".rescreened")) {
      var note = document.createElement("p");
      note.className = "rescreened notice";
      note.setAttribute("role", "status");
      note.textContent = "The machine screen read this story now: reload for its scores and passages.";
      chip.parentNode.after(note);
    }
  };

  // Live updates: count new stories; never move the list under the reader.
  var live = document.getElementById("live") || document.getElementById("live-item");
  if (live && window.EventSource) {
    var count = 0;
    var button = document.getElementById("live-button");
    var wantsNew = live.dataset.state === "pending";
    var wantsReports = live.dataset.state === "reported";
    var source = new EventSource("/events");
    var PLURAL = { story: "stories", report: "reports" };
    var bump = function (noun) {
      count += 1;
      button.textContent = count + " new " + (count === 1 ? noun : PLURAL[noun]) + " \u2014 show";
      // The button reloads the first page of this tab.
      button.setAttribute("href", location.pathname + location.search.replace(/([?&])(cursor|done)=[^&]*/g, "$1"));
      live.hidden = false;
    };
    source.addEventListener("new", function (ev) {
      var data = {};
      try { data = JSON.parse(ev.data); } catch (e) { /* ignore */ }
      // A story on this page screened again (the model came back): its label changes in place.
      var shown = data.story_id && document.getElementById("item-" + data.story_id);
      if (shown) { relabel(shown, data.label); return; }
      if (!wantsNew) return;
      if (live.dataset.label && data.label !== live.dataset.label) return;
      bump("story");
    });
    source.addEventListener("reported", function () { if (wantsReports) bump("report"); });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // Keep the selection where it was after a decision reloads the list.
  var list = items();
  if (list.length) {
    var saved = null;
    try { saved = sessionStorage.getItem(STORE); } catch (e) { /* private mode */ }
    if (saved !== null && document.getElementById("flash")) select(parseInt(saved, 10) || 0);
    else if (list.length === 1 && document.querySelector(".history")) select(0);
  }
})();
