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
})();
