"""What both apps share and neither owns, with no Django: the rules for ids and names, the
errors of processing, and reading untrusted image bytes. `assets` and `graphics` (and the
Django-free `graphics.processing`) import it; it imports neither (see the import-linter
contracts in pyproject.toml)."""
