"""The steps ``clean`` runs, in its order, each with its defaults: ``vocclean ... clean`` from Python."""

from __future__ import annotations

from vocclean.steps.base import Step
from vocclean.steps.dedup_articles import DedupArticles
from vocclean.steps.dedup_paragraphs import DedupParagraphs
from vocclean.steps.fix_encoding import FixEncoding
from vocclean.steps.normalize_script import NormalizeScript
from vocclean.steps.strip_boilerplate import StripBoilerplate

__all__ = ["clean_steps"]


def clean_steps(learn: bool = True) -> list[Step]:
    """New step objects for one run of ``clean``: fix-encoding, normalize-script,
    strip-boilerplate (learning the corpus's boilerplate unless ``learn`` is False),
    dedup-paragraphs, dedup-articles.

    The command line's ``clean`` also applies ``vocclean.toml`` and ``VOCCLEAN_*``
    settings; these are the defaults alone. Learning reads the input twice: give
    ``Pipeline.run`` a ``records_factory``, or ``runner.run`` files.
    """
    return [
        FixEncoding(),
        NormalizeScript(),
        StripBoilerplate(learn=learn),
        DedupParagraphs(),
        DedupArticles(),
    ]
