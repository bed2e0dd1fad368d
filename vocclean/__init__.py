"""vocclean: clean and deduplicate scraped Chinese/English articles."""

from vocclean import native

__version__ = "0.1.0"

native.install()  # before any compiled module is imported (see vocclean.native)
