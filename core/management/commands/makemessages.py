"""`makemessages` with the project's settings, so `make messages`, a maintainer's own call and
the catalogue test (tests/platform/test_translations.py) extract the same messages.

Only the product's code is read (not the tests, the benchmark, nor build and run-time
directories); messages no longer in the code are dropped, never kept as obsolete; locations
name the file only, so a line moved in a template does not rewrite the catalogue.
"""

from django.core.management.commands import makemessages

#: Paths (fnmatch patterns, from the project's root) that hold no user-facing string.
IGNORED = ["tests/*", "bench/*", "var/*", "staticfiles/*", "node_modules/*", "locale/*"]


class Command(makemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options["ignore_patterns"], *IGNORED]
        options["no_obsolete"] = True
        options["add_location"] = options["add_location"] or "file"
        return super().handle(*args, **options)
