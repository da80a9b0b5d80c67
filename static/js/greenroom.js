// Greenroom's own small script: keyboard shortcuts and the theme switch.
// Every page works without it; it only adds conveniences.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  // "/" focuses the header search box unless the user is typing somewhere.
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "/" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    var box = document.getElementById("site-search");
    if (box) { ev.preventDefault(); box.focus(); box.select(); }
  });

  // The theme button cycles system → light → dark and remembers the choice.
  function apply(theme) {
    if (theme === "light" || theme === "dark") root.setAttribute("data-theme", theme);
    else root.removeAttribute("data-theme");
    var b = document.getElementById("theme-toggle");
    if (b) b.setAttribute("aria-label", "Theme: " + (theme || "system") + " (change)");
    if (b) b.textContent = theme === "dark" ? "☾" : theme === "light" ? "☀" : "◐";
  }
  var saved = null;
  try { saved = localStorage.getItem("greenroom-theme"); } catch (e) {}
  apply(saved);
  document.addEventListener("DOMContentLoaded", function () {
    apply(saved);
    var b = document.getElementById("theme-toggle");
    if (!b) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      saved = saved === null ? "light" : saved === "light" ? "dark" : null;
      try {
        if (saved) localStorage.setItem("greenroom-theme", saved);
        else localStorage.removeItem("greenroom-theme");
      } catch (e) {}
      apply(saved);
    });
  });

  // Copy buttons on the inspect view.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-copy]");
    if (!b) return;
    var src = document.getElementById(b.getAttribute("data-copy"));
    if (src && navigator.clipboard) navigator.clipboard.writeText(src.textContent);
  });
})();
