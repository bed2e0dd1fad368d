"""Engines: how a chain of steps is executed.

- ``local`` (the default): per-article steps on ``-j`` worker processes over
  chunks of records, whole-stream steps (dedup across documents) in this
  process; output byte-identical to ``-j 1``.
- ``batch``: directory to directory, one input file per task, with a
  manifest for ``--resume`` (chosen by the runner for per-article chains).
- ``dask``: the same chain on a Dask cluster (``pip install 'vocclean[dask]'``).
"""

from vocclean.engines.local import ParallelPipeline, default_jobs

ENGINES = ("local", "dask")

__all__ = ["ENGINES", "ParallelPipeline", "default_jobs"]
