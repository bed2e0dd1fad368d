"""vocclean: clean and deduplicate scraped Chinese/English articles."""

__version__ = "0.1.0"
