"""An amendment of the RP protocol, for the tests of what an amendment does to a calendar."""

from tests.factories import PROTOCOL_DIR
from trials.protocol_file import parse_protocol
from trials.services import activate_version, load_protocol


def amendment(version_label="2.0", effective="2026-02-16", maintenance_days="days_per_week: 1"):
    """RP protocol 2.0: maintenance twice weekly (Mon, Thu) and W12 moved to day 92."""
    text = (PROTOCOL_DIR / "ld-il2-rp.yaml").read_text()
    text = text.replace(
        'label: "1.0", effective: 2019-11-01', f'label: "{version_label}", effective: {effective}'
    )
    text = text.replace("route: SC, days_per_week: 1}", "route: SC, days: [1, 4]}")
    text = text.replace("name: Week 12,  day: 85", "name: Week 12,  day: 92")
    version, _ = load_protocol(parse_protocol(text))
    return activate_version(version)
