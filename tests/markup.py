"""HTML compared as a browser lays it out, for tests that a page's markup did not change
when a template's piece moved to Python.

Runs of whitespace are one space, and whitespace next to a block or table tag is none (a
browser shows neither); any other difference (a tag, an attribute, a word, a space between
two inline elements) remains.
"""

import re

BLOCK_TAGS = "div|form|table|thead|tbody|tr|th|td|ul|li|nav|select|option|optgroup"
_AROUND_BLOCK = re.compile(rf"\s*(</?(?:{BLOCK_TAGS})\b[^>]*>)\s*")


def normalized(html: str) -> str:
    return _AROUND_BLOCK.sub(r"\1", re.sub(r"\s+", " ", str(html))).strip()
