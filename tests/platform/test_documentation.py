"""The project documents itself: whoever clones it can read every document its code, docs
and README point to. The design notes its authors work from are not in the repository, so
nothing may cite them, and every relative link in the Markdown must lead to a file here."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Files outside the repository that an author could be tempted to cite.
OUTSIDE = re.compile(r"DESIGN\.md|STYLE\.md|\.\./shared|shared/seeds")
TEXT = (".py", ".md", ".html", ".txt", ".yaml", ".yml", ".toml", ".cfg", ".po")
#: A Markdown link's target: [text](target) with no scheme.
LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s]+)\)")


def tracked(*suffixes: str) -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in names if name.endswith(suffixes)]


def test_nothing_cites_a_document_outside_the_repository():
    this = Path(__file__).resolve()
    citing = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in tracked(*TEXT)
        if path != this
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert citing == []


def test_every_relative_link_of_the_documentation_leads_to_a_file_here():
    broken = []
    for page in tracked(".md"):
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.exists() or ROOT not in path.parents:
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []
