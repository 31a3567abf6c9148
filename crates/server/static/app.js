// Daylight console: keyboard shortcuts and htmx settings. No framework; htmx does the rest.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      // Answers with an error status still carry the page to show (a denial names its rule).
      htmx.config.responseHandling = [{ code: "204", swap: false }, { code: ".*", swap: true }];
    }
    // No inline handlers (the Content-Security-Policy runs only this file): a "select all"
    // box checks the boxes its data-select-all names; a select with data-submit-on-change
    // submits its form.
    document.addEventListener("change", function (e) {
      var t = e.target;
      if (t.dataset && t.dataset.selectAll) {
        document.querySelectorAll(t.dataset.selectAll).forEach(function (b) { b.checked = t.checked; });
      }
      if (t.dataset && t.dataset.submitOnChange !== undefined && t.form) t.form.submit();
      // A task's outcome that needs a reason (upheld, appealed, refused) makes the reason required.
      if (t.name === "outcome" && t.form && t.form.classList.contains("task-close")) {
        var reason = t.form.querySelector(".task-reason");
        if (reason) reason.required = t.dataset.needsReason !== undefined;
      }
    });
    var rows = Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr"));
    rows.forEach(function (r) {
      r.addEventListener("click", function (e) { if (e.target.tagName !== "A" && e.target.tagName !== "INPUT") location.href = r.dataset.href; });
    });
    var sel = -1;
    function select(i) {
      if (!rows.length) return;
      if (sel >= 0) rows[sel].classList.remove("sel");
      sel = Math.max(0, Math.min(rows.length - 1, i));
      rows[sel].classList.add("sel");
      rows[sel].scrollIntoView({ block: "nearest" });
    }
    document.addEventListener("keydown", function (e) {
      var tag = (e.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select" || e.ctrlKey || e.metaKey || e.altKey) return;
      var go = function (id) { var el = document.getElementById(id); if (el) { e.preventDefault(); el.focus(); } };
      switch (e.key) {
        case "j": select(sel + 1); break;
        case "k": select(sel - 1); break;
        case "Enter": if (sel >= 0) location.href = rows[sel].dataset.href; break;
        case "n": var n = document.getElementById("next-case"); if (n) location.href = n.href; break;
        case "g": location.href = "/workbench"; break;
        case "o": go("outcome"); break;
        case "p": go("promise-amount"); break;
        case "?": var h = document.getElementById("help"); if (h) h.hidden = !h.hidden; break;
      }
    });
  });
})();

// Screen pop (弹屏): a collector's pages listen to their calls; when one is bridged, its case opens.
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var url = document.body.dataset.screenPop;
    if (!url || !window.EventSource) return;
    var es = new EventSource(url);
    es.addEventListener("call", function (e) {
      var n = JSON.parse(e.data);
      var page = "/cases/" + n.case;
      if (n.phase === "talking" && location.pathname !== page) location.href = page;
    });
  });
})();
