"""A protocol file with forms defined as data, shared by the form registry's tests."""

from pathlib import Path

SHIPPED = (
    Path(__file__).resolve().parents[2] / "trials" / "protocols" / "ld-il2-rp.yaml"
).read_text()
# The shipped RP protocol without its own forms, so that each test states the forms it reads.
RP = (
    (SHIPPED[: SHIPPED.index("\nforms:")] + SHIPPED[SHIPPED.index("\nvisits:") :])
    .replace(", VITALS, CONMED, MEDHIST]", "]")
    .replace(", VITALS, AE]", ", AE]")
)

VITALS = """\
forms:
  - code: VITALS
    name: {en: "Vital signs", zh-hans: "生命体征"}
    items:
      - {code: WEIGHT, label: "Weight", type: decimal, precision: 1, unit: kg,
         required: true, range: [20, 250], soft_range: [35, 150]}
      - {code: HEIGHT, label: "Height", type: decimal, precision: 1, unit: cm,
         range: [100, 230]}
      - {code: BMI, label: "Body-mass index", type: decimal, precision: 1, unit: kg/m2,
         calc: "WEIGHT / (HEIGHT / 100) ^ 2"}
      - {code: SYSBP, label: "Systolic blood pressure", type: integer, unit: mmHg,
         range: [50, 260], soft_range: [85, 180], missing: [ND]}
      - {code: DIABP, label: "Diastolic blood pressure", type: integer, unit: mmHg,
         range: [30, 160]}
    checks:
      - {rule: "DIABP < SYSBP", message: "Diastolic pressure must be below systolic"}
  - code: SYMPT
    items:
      - {code: FEVER, label: "Fever since the last visit", type: yesno, required: true}
      - {code: TEMP, label: "Highest temperature", type: decimal, precision: 1, unit: "°C",
         range: [34, 43], show_if: "FEVER == 'Y'", required: true}
  - code: CM
    name: Concomitant medication
    items:
      - {code: ANYCM, label: "Any medication", type: yesno}
    groups:
      - code: MED
        key: [CMTRT]
        max_rows: 20
        items:
          - {code: CMTRT, label: "Medication", type: text, max_length: 100}
          - {code: ROUTE, label: "Route", type: choice, codes: [[PO, Oral], [SC, "Subcutaneous"]]}
          - {code: PREDEQ, label: "Prednisone equivalent", type: decimal, unit: mg}
          - {code: HIGH, label: "Above 10 mg", type: yesno, show_if: "PREDEQ > 10"}
    checks:
      - {id: CM1, rule: "ANYCM == 'Y' or sum(MED.PREDEQ) == 0", message: {en: "No dose"},
         severity: warning}
"""


def with_forms(forms: str = VITALS, visit_forms: str = "[RPDAI, TREG, STEROID, AE]") -> str:
    text = RP.replace("visits:", forms + "visits:", 1)
    return text.replace(
        "day: 29, window: [-3, 3], forms: [RPDAI, TREG, STEROID, AE]",
        f"day: 29, window: [-3, 3], forms: {visit_forms}",
    )


# The forms above scheduled at W4 (day 29), in a study coded RP like tests/conftest.py's `study`.
RP_WITH_FORMS = with_forms(visit_forms="[RPDAI, VITALS, SYMPT, CM]").replace(
    "code: LDIL2-RP", "code: RP"
)
