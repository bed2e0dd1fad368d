"""Text algorithms, some compiled by mypyc: ``native.install`` runs before any of them is imported."""

from vocclean import native

native.install()
