"""List the messages of a catalogue that still need a translator: empty or fuzzy.

    python scripts/untranslated.py                      # locale/zh_Hans/LC_MESSAGES/django.po
    python scripts/untranslated.py path/to/django.po --count

Run `make messages` first so the catalogue holds every string of the code; this prints what
is left to translate (with where each string is used) and exits 1 while anything is. The
reader is a small parser of the gettext PO format (no dependency), also used by
tests/platform/test_translations.py.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent.parent / "locale/zh_Hans/LC_MESSAGES/django.po"


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    #: msgstr, or msgstr[0], msgstr[1]... of a plural entry, in order.
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    locations: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr) and not self.fuzzy


def _string(line: str) -> str:
    """A quoted PO string ("...") as text; PO escapes are C escapes, as Python's are."""
    return ast.literal_eval(line)


def read_po(path: Path | str) -> tuple[Entry, list[Entry]]:
    """The header entry (msgid "") and the messages, in file order; obsolete (#~) skipped."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int | None] | None = None
    started = False

    def finish():
        nonlocal entry, started, target
        if started:
            entries.append(entry)
        entry, started, target = Entry(), False, None

    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if started and target is not None and target[0] == "msgstr":
                finish()  # comments start the next entry
            if line.startswith("#,"):
                entry.flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            elif line.startswith("#:"):
                entry.locations += line[2:].split()
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            value = _string(line)
            name, index = target
            if name == "msgstr":
                entry.msgstr[index] += value
            else:
                setattr(entry, name, getattr(entry, name) + value)
            continue
        if keyword in ("msgctxt", "msgid") and started and target[0] == "msgstr":
            finish()
        started = True
        value = _string(rest)
        if keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
            while len(entry.msgstr) <= index:
                entry.msgstr.append("")
            entry.msgstr[index] = value
            target = ("msgstr", index)
        elif keyword in ("msgid", "msgctxt", "msgid_plural"):
            setattr(entry, keyword, value)
            target = (keyword, None)
        else:
            raise ValueError(f"{path}: cannot read {raw!r}")
    finish()
    header = next((e for e in entries if e.msgid == "" and e.msgctxt is None), Entry())
    return header, [e for e in entries if e is not header]


def untranslated(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if not e.translated]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("catalogue", nargs="?", default=str(CATALOGUE))
    parser.add_argument("--count", action="store_true", help="print the number only")
    args = parser.parse_args(argv)
    _header, entries = read_po(args.catalogue)
    missing = untranslated(entries)
    if args.count:
        print(len(missing))
    else:
        for entry in missing:
            state = "fuzzy" if entry.fuzzy else "empty"
            context = f" [{entry.msgctxt}]" if entry.msgctxt is not None else ""
            where = " ".join(entry.locations)
            print(f"{state}{context}: {entry.msgid!r}  ({where})", flush=True)
        print(f"{len(missing)} of {len(entries)} messages need a translation.", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
