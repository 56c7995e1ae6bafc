"""How a moment is shown to people: in the site's time zone, named, with its UTC offset.

Timestamps are stored as aware UTC; people read them at the site where the thing happened
(a dose given at 09:00 in Shanghai must not read 01:00, nor 02:00 in Paris). Every page,
e-mail and audit trail goes through `site_time`, so one moment reads the same everywhere:
"2026-11-30 14:05 CST (UTC+08:00)". The abbreviation alone is ambiguous (CST is also US
Central time), hence the offset beside it. Machine-readable exports use `iso_with_offset`
(ISO 8601 with the offset, never a bare local time).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = ZoneInfo("UTC")


def zone_of(where) -> ZoneInfo:
    """The time zone of `where`: a ZoneInfo, a zone name ("Asia/Shanghai"), anything with a
    `zone` (a site) or with a `timezone` name; UTC when there is none (a study-wide record)."""
    if isinstance(where, ZoneInfo):
        return where
    if where is None or where == "":
        return UTC
    if isinstance(where, str):
        try:
            return ZoneInfo(where)
        except (ZoneInfoNotFoundError, ValueError):
            return UTC
    zone = getattr(where, "zone", None)
    if isinstance(zone, ZoneInfo):
        return zone
    return zone_of(getattr(where, "timezone", None))


def _offset(local: datetime) -> str:
    minutes = int(local.utcoffset().total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def site_time(moment: datetime | None, where=None, *, seconds: bool = False) -> str:
    """`moment` as read at `where` (see `zone_of`): date, time, zone abbreviation, offset.

    A zone without an abbreviation of its own (tzdata writes "+05") shows the offset only;
    UTC shows as "UTC". None gives "" so an empty value stays empty on a page.
    """
    if moment is None:
        return ""
    local = moment.astimezone(zone_of(where))
    shown = f"{local:%Y-%m-%d %H:%M:%S}" if seconds else f"{local:%Y-%m-%d %H:%M}"
    name = local.tzname() or ""
    offset = _offset(local)
    if name == "UTC" and offset == "UTC+00:00":
        return f"{shown} UTC"
    if not name or name[0] in "+-":
        return f"{shown} ({offset})"
    return f"{shown} {name} ({offset})"


def iso_with_offset(moment: datetime | None, where=None) -> str:
    """ISO 8601 with the UTC offset of `where` ("2026-11-30T14:05:00+08:00"): what a file
    for machines carries, so a reader never guesses the zone."""
    if moment is None:
        return ""
    return moment.astimezone(zone_of(where)).isoformat(timespec="seconds")
