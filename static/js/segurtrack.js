/* segurtrack — progressive enhancements; every page works without them (served from static/, CSP: no inline). */
(function () {
  "use strict";

  /* The menu collapses behind a button on narrow screens. Without this script the menu stays open. */
  function setUpMenu(root) {
    var toggle = root.querySelector("[data-menu-toggle]");
    var header = root.querySelector(".site-header");
    if (!toggle || !header) { return; }
    header.classList.add("site-header--js");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("site-header--open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        toggle.setAttribute("aria-expanded", "false");
        header.classList.remove("site-header--open");
        toggle.focus();
      }
    });
  }

  /* A form that failed: move focus to its error summary, as the DSFR does, so it is read first. */
  function focusErrorSummary(root) {
    var summary = root.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  }

  /* A table too wide for the screen scrolls inside its own box: make that box reachable by keyboard. */
  function makeScrollersFocusable(root) {
    root.querySelectorAll(".table-wrap, .diagram-wrap, .chart-wrap, [data-scroll]").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpMenu(document);
    focusErrorSummary(document);
    makeScrollersFocusable(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    focusErrorSummary(event.target);
    makeScrollersFocusable(event.target);
  });
})();
