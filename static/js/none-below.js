// "None of the below" on a scored instrument's group of items (assessments/forms.py,
// InstrumentForm): the button sets every item of its group that is still unanswered to the
// item's negative answer (its inputs' data-negative: "no", or 0), in the page only. It never
// changes an item already answered, yes or no; the server still receives one explicit
// answer per item and refuses a form with any left out. Then the focus moves on to what is
// still to answer after the group (the next group's button, an unanswered item, or Save),
// so that a keyboard user enters an all-negative form with Enter, Enter, Enter...
// No inline script: the Content-Security-Policy refuses it.
(function () {
  "use strict";
  var form = document.getElementById("capture-form");
  if (!form) { return; }

  function named(name) {
    return form.querySelectorAll('[name="' + name.replace(/"/g, '\\"') + '"]');
  }
  function answered(name) {
    var inputs = named(name);
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) { return true; }
      } else if (String(el.value).trim()) {
        return true;
      }
    }
    return false;
  }
  function codes(button) {
    return (button.getAttribute("data-items") || "").split(/\s+/).filter(Boolean);
  }
  function fill(button) {
    codes(button).forEach(function (code) {
      if (answered(code)) { return; }
      named(code).forEach(function (el) {
        var negative = el.getAttribute("data-negative");
        if (negative === null || el.disabled) { return; }
        if (el.type === "radio") {
          if (el.value !== negative) { return; }
          el.checked = true;
        } else {
          el.value = negative;
        }
        el.dispatchEvent(new Event("input", {bubbles: true}));
        el.dispatchEvent(new Event("change", {bubbles: true}));
      });
    });
  }
  function stillToAnswer(el) {
    if (el.disabled || el.type === "hidden" || el.closest("[hidden]")) { return false; }
    if (el.matches("[data-none-below]")) { return codes(el).some(function (c) { return !answered(c); }); }
    if (el.type === "submit") { return true; }
    if (el.getAttribute("data-negative") === null) { return false; }
    return !answered(el.name);
  }
  function moveOn(button) {
    var group = button.closest("fieldset") || button;
    // Only the items and Save: a reason for change is asked for when it is needed.
    var candidates = form.querySelectorAll(
      "[data-none-below], .item-group input, .item-group select, button[type=submit]");
    for (var i = 0; i < candidates.length; i++) {
      var el = candidates[i];
      var after = group.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING;
      if (after && !group.contains(el) && stillToAnswer(el)) {
        el.focus();
        return;
      }
    }
  }
  form.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-none-below]") : null;
    if (!button) { return; }
    event.preventDefault();
    fill(button);
    moveOn(button);
  });
})();
