// Renders the Mermaid diagrams of a docs page (pre.mermaid blocks the
// server leaves as escaped source). Loaded only on pages that have them.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  if (!window.mermaid) return;
  var root = document.documentElement;
  var theme = root.getAttribute("data-theme");
  var dark = theme === "dark" || (theme !== "light" && window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: dark ? "dark" : "default" });
  window.mermaid.run({ querySelector: "pre.mermaid" });
});
