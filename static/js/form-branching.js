// Branching (show_if) on the capture page of a form defined as data. The server sends the
// form's description, with each expression already parsed into a tree (json_script element
// "form-description"); this file evaluates those trees, it never parses expressions, so the
// page and the server read one grammar (trials/forms/expressions.py), and
// tests/trials/expression_vectors.json is the contract both evaluators are tested against.
// A hidden item keeps what was typed in the browser, but its inputs are disabled so that
// nothing hidden is submitted. No inline script: the Content-Security-Policy refuses it.
(function (root) {
  "use strict";

  // -- values: null, number, string, boolean, {date: ms} / {datetime: ms}, Set, Array --------
  function kind(v) {
    if (v === null || v === undefined) { return null; }
    if (typeof v === "boolean") { return "boolean"; }
    if (typeof v === "number") { return isFinite(v) ? "number" : null; }
    if (typeof v === "string") { return "text"; }
    if (v instanceof Set) { return "set"; }
    if (Array.isArray(v)) { return "list"; }
    if (typeof v.date === "number") { return "date"; }
    if (typeof v.datetime === "number") { return "datetime"; }
    return "other";
  }
  function norm(v) {
    if (typeof v === "string") { return v.trim() ? v : null; }
    if (typeof v === "number" && !isFinite(v)) { return null; }
    return v === undefined ? null : v;
  }
  function num(v) { return typeof v === "number" && isFinite(v) ? v : null; }
  function stamp(v) { return kind(v) === "date" ? v.date : v.datetime; }
  function roundHalfUp(x, places) {
    var f = Math.pow(10, places);
    var scaled = Math.abs(x) * f;
    // Binary fractions: 2.675 * 100 is 267.49999...; nudge by a relative epsilon.
    var r = Math.floor(scaled + 0.5 + scaled * 1e-15) / f;
    return x < 0 ? -r : r;
  }

  function evaluate(node, lookup, today) {
    function ev(n) {
      switch (n.kind) {
        case "number": return Number(n.value);
        case "text": return n.value;
        case "boolean": return n.value;
        case "null": return null;
        case "ref": return norm(lookup(n.code));
        case "unary": {
          var o = ev(n.operand);
          if (n.op === "-") { return kind(o) === "number" ? -o : null; }
          return kind(o) === "boolean" ? !o : null;
        }
        case "binary": return arithmetic(n.op, ev(n.left), ev(n.right));
        case "compare": return compare(n.op, ev(n.left), ev(n.right));
        case "bool": {
          var results = n.operands.map(function (x) {
            var r = ev(x);
            return kind(r) === "boolean" ? r : null;
          });
          var decisive = n.op === "or";
          if (results.indexOf(decisive) >= 0) { return decisive; }
          if (results.indexOf(null) >= 0) { return null; }
          return !decisive;
        }
        case "call": return call(n);
      }
      return null;
    }
    function arithmetic(op, l, r) {
      if (kind(l) !== "number" || kind(r) !== "number") { return null; }
      var v;
      if (op === "+") { v = l + r; } else if (op === "-") { v = l - r; }
      else if (op === "*") { v = l * r; } else if (op === "/") { if (r === 0) { return null; } v = l / r; }
      else { v = Math.pow(l, r); }
      return num(v);
    }
    function compare(op, l, r) {
      var k = kind(l);
      if (k === null || k !== kind(r) || k === "set" || k === "list" || k === "other") { return null; }
      if (k === "date" || k === "datetime") { l = stamp(l); r = stamp(r); }
      if (op === "==") { return l === r; }
      if (op === "!=") { return l !== r; }
      if (k !== "number" && k !== "date" && k !== "datetime") { return null; }
      return {"<": l < r, "<=": l <= r, ">": l > r, ">=": l >= r}[op];
    }
    function present(n) {
      var out = [];
      n.args.forEach(function (a) {
        var v = ev(a);
        (kind(v) === "list" ? v : [v]).forEach(function (x) { if (norm(x) !== null) { out.push(norm(x)); } });
      });
      return out.length && out.length >= (n.min_present || 1) ? out : null;
    }
    function numbers(n) {
      var p = present(n);
      return p && p.every(function (x) { return kind(x) === "number"; }) ? p : null;
    }
    function sum(p) { return p.reduce(function (a, b) { return a + b; }, 0); }
    function extreme(n, pickMax) {
      var p = present(n);
      if (!p) { return null; }
      var k = kind(p[0]);
      if (!p.every(function (x) { return kind(x) === k; }) || ["number", "date", "datetime"].indexOf(k) < 0) { return null; }
      return p.reduce(function (a, b) {
        var x = k === "number" ? a : stamp(a), y = k === "number" ? b : stamp(b);
        return (pickMax ? y > x : y < x) ? b : a;
      });
    }
    function call(n) {
      var a = n.args, p, v, w;
      switch (n.name) {
        case "if": v = ev(a[0]); return v === true ? ev(a[1]) : v === false ? ev(a[2]) : null;
        case "sum": p = numbers(n); return p ? num(sum(p)) : null;
        case "mean": p = numbers(n); return p ? num(sum(p) / p.length) : null;
        case "min": return extreme(n, false);
        case "max": return extreme(n, true);
        case "round":
          v = ev(a[0]); w = a.length > 1 ? ev(a[1]) : 0;
          if (kind(v) !== "number" || kind(w) !== "number" || w !== Math.floor(w) || Math.abs(w) > 28) { return null; }
          return roundHalfUp(v, w);
        case "abs": v = ev(a[0]); return kind(v) === "number" ? Math.abs(v) : null;
        case "days":
          v = ev(a[0]); w = ev(a[1]);
          return kind(v) === "date" && kind(w) === "date" ? Math.round((w.date - v.date) / 86400000) : null;
        case "coalesce":
          for (var i = 0; i < a.length; i++) { v = ev(a[i]); if (v !== null) { return v; } }
          return null;
        case "is_blank": return ev(a[0]) === null;
        case "has":
          v = ev(a[0]); w = ev(a[1]);
          if ((kind(v) !== "set" && kind(v) !== "list") || kind(w) !== "text") { return null; }
          return kind(v) === "set" ? v.has(w) : v.indexOf(w) >= 0;
        case "value":
          v = ev(a[0]);
          return kind(v) === "text" && /^-?[0-9]+(\.[0-9]+)?$/.test(v.trim()) ? Number(v.trim()) : null;
        case "today": return today || null;
      }
      return null;
    }
    try { return ev(node); } catch (e) { return null; }
  }

  function parseDay(text, key) {
    var t = Date.parse(key === "date" ? text + "T00:00:00Z" : text + (/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? "" : "Z"));
    if (isNaN(t)) { return null; }
    var out = {}; out[key] = t; return out;
  }

  var api = {evaluate: evaluate, parseDay: parseDay};
  if (typeof module !== "undefined" && module.exports) { module.exports = api; }
  root.FormExpressions = api;

  // -- the page -----------------------------------------------------------------------------
  if (typeof document === "undefined") { return; }
  var source = document.getElementById("form-description");
  var form = document.getElementById("capture-form") || document.getElementById("read-only");
  if (!source || !form) { return; }
  var description = JSON.parse(source.textContent);
  var items = {};  // code -> item description, with its group
  description.groups.forEach(function (group) {
    group.items.forEach(function (item) { item.group = group; items[item.code] = item; });
  });

  function named(name) { return form.querySelectorAll('[name="' + name.replace(/"/g, '\\"') + '"]'); }
  function read(key, item) {
    var found = named(key);
    if (!found.length) { return null; }
    var missing = named(key + "__missing");
    if (missing.length && missing[0].value) { return null; }  // a missing code reads as null
    if (item.type === "multichoice") {
      var chosen = new Set();
      found.forEach(function (el) { if (el.checked) { chosen.add(el.value); } });
      return chosen;
    }
    var value = null;
    found.forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") { if (el.checked) { value = el.value; } }
      else { value = el.value; }
    });
    if (value === null || !String(value).trim()) { return null; }
    if (item.type === "integer" || item.type === "decimal") {
      var n = Number(String(value).trim());
      return isFinite(n) ? n : null;
    }
    if (item.type === "date") { return parseDay(value, "date"); }
    if (item.type === "datetime") { return parseDay(value, "datetime"); }
    return value;
  }
  function rows(group) {
    var numbers = [];
    form.querySelectorAll('[name^="' + group.code + '."]').forEach(function (el) {
      var n = Number(el.name.split(".")[1]);
      if (numbers.indexOf(n) < 0) { numbers.push(n); }
    });
    return numbers.sort(function (a, b) { return a - b; });
  }
  function keysOf(item) {
    if (!item.group.repeating) { return [[item.code, null]]; }
    return rows(item.group).map(function (n) { return [item.group.code + "." + n + "." + item.code, n]; });
  }
  function lookupFor(row, group) {
    return function (code) {
      if (code.indexOf(".") >= 0) {  // a column: every row's value
        var parts = code.split("."), col = items[parts[1]];
        return col ? rows(col.group).map(function (n) { return shownValue(parts[0] + "." + n + "." + parts[1], col); }) : null;
      }
      var item = items[code];
      if (!item) { return null; }
      if (item.group.repeating) {
        return group && item.group === group ? shownValue(group.code + "." + row + "." + code, item) : null;
      }
      return shownValue(code, item);
    };
  }
  var hidden = {};
  function shownValue(key, item) { return hidden[key] ? null : read(key, item); }
  function wrappers(key) {
    return [key, key + "__missing", key + "__reason", "confirm_" + key].map(function (name) {
      return document.getElementById("div_id_" + name);
    }).filter(Boolean);
  }
  function apply() {
    // Hiding cascades (a hidden item reads as null): repeat until nothing changes.
    for (var round = 0; round < 20; round++) {
      var changed = false;
      Object.keys(items).forEach(function (code) {
        var item = items[code];
        if (!item.show_if_tree) { return; }
        keysOf(item).forEach(function (pair) {
          var shown = evaluate(item.show_if_tree, lookupFor(pair[1], item.group)) === true;
          if (hidden[pair[0]] !== !shown) { hidden[pair[0]] = !shown; changed = true; }
        });
      });
      if (!changed) { break; }
    }
    var readOnly = form.id === "read-only";
    Object.keys(hidden).forEach(function (key) {
      wrappers(key).forEach(function (wrapper) {
        wrapper.hidden = hidden[key];
        if (!readOnly) {
          wrapper.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = hidden[key]; });
        }
      });
    });
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  apply();
})(typeof window !== "undefined" ? window : globalThis);
