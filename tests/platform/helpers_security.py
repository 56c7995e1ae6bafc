"""What the Content-Security-Policy (no 'unsafe-inline') would block in a page: an inline
script (one without `src`; a JSON data block is not run), an event-handler attribute, and a
style element or attribute. Shared by the tests that a template or a page carries none."""

import re

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)
