"""`{{ moment|site_time:site }}`: a timestamp as people at the site read it (core.times).

The argument is a site, a zone name or a ZoneInfo; without one the time shows in UTC,
named as such. `site_time_s` adds the seconds (audit-grade times).
"""

from django import template

from core import times

register = template.Library()


@register.filter
def site_time(moment, where=None) -> str:
    return times.site_time(moment, where)


@register.filter
def site_time_s(moment, where=None) -> str:
    return times.site_time(moment, where, seconds=True)
