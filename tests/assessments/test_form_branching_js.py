"""The capture page's branching script evaluates the trees the server parsed, and gives the
results of the shared vectors (tests/trials/expression_vectors.json), the contract the
server's evaluator is held to as well: one grammar, two evaluators that agree."""

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from trials.forms.expressions import parse, to_json

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "static" / "js" / "form-branching.js"
VECTORS = json.loads((ROOT / "tests" / "trials" / "expression_vectors.json").read_text())

RUNNER = """
const fx = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
function decode(v) {
  if (Array.isArray(v)) { return v.map(decode); }
  if (v !== null && typeof v === "object") {
    if ("number" in v) { return Number(v.number); }
    if ("date" in v) { return fx.parseDay(v.date, "date"); }
    if ("datetime" in v) { return fx.parseDay(v.datetime, "datetime"); }
    if ("set" in v) { return new Set(v.set); }
  }
  return v;
}
function encode(v) {
  if (v instanceof Set) { return {set: Array.from(v).sort()}; }
  if (v !== null && typeof v === "object" && typeof v.date === "number") {
    return {date: new Date(v.date).toISOString().slice(0, 10)};
  }
  if (v !== null && typeof v === "object" && typeof v.datetime === "number") {
    return {datetime: v.datetime};
  }
  return v === undefined ? null : v;
}
const out = cases.map(function (c) {
  const values = {};
  Object.keys(c.values).forEach(function (k) { values[k] = decode(c.values[k]); });
  const today = c.today ? fx.parseDay(c.today, "date") : null;
  return encode(fx.evaluate(c.tree, function (code) {
    return code in values ? values[code] : null;
  }, today));
});
process.stdout.write(JSON.stringify(out));
"""


def same(result, expected) -> bool:
    if isinstance(expected, dict) and "number" in expected:
        expected = Decimal(expected["number"])
    if isinstance(expected, bool) or expected is None:
        return result is expected
    if isinstance(expected, int | float | Decimal):
        if isinstance(result, bool) or not isinstance(result, int | float):
            return False
        return abs(Decimal(str(result)) - Decimal(str(expected))) <= Decimal("1e-9") * max(
            1, abs(Decimal(str(expected)))
        )
    if isinstance(expected, dict) and "set" in expected:
        return result == {"set": sorted(expected["set"])}
    if isinstance(expected, dict) and "datetime" in expected:
        return isinstance(result, dict) and "datetime" in result
    return result == expected


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run the page's script")
def test_the_page_script_gives_every_shared_vector_its_result():
    vectors = [v for v in VECTORS["vectors"] if "error" not in v]
    cases = [
        {"tree": to_json(parse(v["expr"])), "values": v["values"], "today": v.get("today")}
        for v in vectors
    ]
    run = subprocess.run(
        ["node", "-e", RUNNER, str(SCRIPT)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    results = json.loads(run.stdout)
    wrong = [
        (v["expr"], got, v["expected"])
        for v, got in zip(vectors, results, strict=True)
        if not same(got, v["expected"])
    ]
    assert wrong == []
