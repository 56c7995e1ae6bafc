"""Counting several lists in one round trip.

A page that shows several counts (the home page's work lists, the navigation bar's bell)
would otherwise pay one query per count; each count here is a sub-select of one SELECT.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connections, models


def count_each(found: dict[str, models.QuerySet]) -> dict[str, int]:
    """Every queryset's count in one query: SELECT (SELECT COUNT(*) FROM (...)), ...

    Each queryset is compiled as Django would run it, so a count here is exactly the number
    of rows the queryset lists. All run on the first queryset's database."""
    if not found:
        return {}
    parts, params = [], []
    for qs in found.values():
        try:
            sql, qs_params = qs.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # a filter no row can pass (e.g. no site): Django runs nothing
            parts.append("0")
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS rows)")
        params.extend(qs_params)
    with connections[next(iter(found.values())).db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(found, row, strict=True))
