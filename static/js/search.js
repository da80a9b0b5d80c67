// The header search box as an ARIA combobox: htmx fetches the suggestions
// (/search/suggest) into #site-search-suggestions; this script opens and
// closes that list and moves through it from the keyboard. Without it the
// box is a plain form to /search.
(function () {
  "use strict";
  var active = -1;
  var suppressed = false; // closed by the user until the next keystroke or focus

  function box() { return document.getElementById("site-search"); }
  function list() { return document.getElementById("site-search-suggestions"); }
  function options() {
    var l = list();
    return l ? l.querySelectorAll('[role="option"]') : [];
  }
  function isOpen() {
    var l = list();
    return !!l && !l.hidden;
  }

  function setActive(i) {
    var opts = options();
    var input = box();
    active = i;
    for (var j = 0; j < opts.length; j++) {
      opts[j].setAttribute("aria-selected", j === i ? "true" : "false");
    }
    if (i >= 0 && i < opts.length) {
      input.setAttribute("aria-activedescendant", opts[i].id);
      opts[i].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function open() {
    var l = list(), input = box();
    if (!l || !input || options().length === 0) return;
    l.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function close() {
    var l = list(), input = box();
    if (l) l.hidden = true;
    if (input) {
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    active = -1;
  }

  function isList(el) { return el && el.id === "site-search-suggestions"; }

  // An answer that comes after the user closed the list, or left the box,
  // is not shown.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    if (!isList(ev.detail.target)) return;
    if (suppressed || document.activeElement !== box()) {
      ev.detail.shouldSwap = false;
    }
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (!isList(ev.detail.target)) return;
    setActive(-1);
    if (options().length > 0) open();
    else close();
  });

  document.addEventListener("input", function (ev) {
    if (ev.target === box()) {
      suppressed = false;
      setActive(-1);
      if (ev.target.value.trim() === "") close();
    }
  });
  document.addEventListener("focusin", function (ev) {
    if (ev.target === box()) suppressed = false;
  });

  document.addEventListener("keydown", function (ev) {
    var input = box();
    if (!input || ev.target !== input || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var n = options().length;
    switch (ev.key) {
      case "ArrowDown":
        if (n === 0) return;
        ev.preventDefault();
        if (!isOpen()) { open(); setActive(0); return; }
        setActive(active + 1 >= n ? 0 : active + 1);
        break;
      case "ArrowUp":
        if (n === 0) return;
        ev.preventDefault();
        if (!isOpen()) { open(); setActive(n - 1); return; }
        setActive(active <= 0 ? n - 1 : active - 1);
        break;
      case "Enter":
        if (isOpen() && active >= 0 && active < n) {
          ev.preventDefault();
          var href = options()[active].getAttribute("href");
          close();
          suppressed = true;
          if (href) window.location.assign(href);
        } else {
          // The form goes to /search with what was typed.
          close();
          suppressed = true;
        }
        break;
      case "Escape":
        if (isOpen()) {
          ev.preventDefault(); // keep the text (a search box clears on Escape)
          close();
          suppressed = true;
        }
        break;
      case "Tab":
        close();
        break;
    }
  });

  // A click anywhere but the box and its list closes the list.
  document.addEventListener("click", function (ev) {
    var form = box() && box().form;
    if (isOpen() && form && !form.contains(ev.target)) close();
  });

  // Coming back to a page (back button) shows it without the list.
  window.addEventListener("pageshow", function () { close(); });
})();
