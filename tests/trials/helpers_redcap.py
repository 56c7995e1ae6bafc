"""REDCap data dictionaries written in a test, for the tests of the REDCap import and its page."""

import csv
import io

from trials.forms.redcap import COLUMNS

# The short key by which a test names each of REDCap's columns.
SHORT = dict(
    zip(
        [
            "name",
            "form",
            "section",
            "type",
            "label",
            "choices",
            "note",
            "validation",
            "min",
            "max",
            "identifier",
            "branching",
            "required",
            "alignment",
            "question",
            "matrix",
            "ranking",
            "annotation",
        ],
        COLUMNS,
        strict=True,
    )
)


def dictionary(*rows: dict) -> str:
    """A data dictionary in REDCap's columns; rows name cells by short key (form: f)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({SHORT[key]: value for key, value in {"form": "f", **row}.items()})
    return out.getvalue()
