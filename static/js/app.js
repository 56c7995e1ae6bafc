// Behaviour shared by every page. The Content-Security-Policy forbids inline handlers, so
// buttons declare what they do with data- attributes and this file wires them up.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (target) {
      event.preventDefault();
      window.print();
    }
  });

  // A form sent back with errors: the focus goes to the first field in error (else to the
  // form's own error message), so keyboard and screen-reader users land on what to correct.
  function focusFirstError() {
    var field = document.querySelector("main form .is-invalid");
    if (!field) {
      field = document.querySelector("main form .alert-danger, main form [role=alert]");
      if (!field) return;
      if (!field.hasAttribute("tabindex")) field.setAttribute("tabindex", "-1");
    }
    field.focus();
  }

  // A wide table scrolls inside its .table-responsive box on a small screen; the box then
  // takes the keyboard focus so that it can be scrolled with the arrow keys (WCAG 2.1.1).
  function scrollableTablesFocusable() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth) {
        box.setAttribute("tabindex", "0");
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
      }
    });
  }

  function ready() {
    scrollableTablesFocusable();
    focusFirstError();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  window.addEventListener("resize", scrollableTablesFocusable);
})();
