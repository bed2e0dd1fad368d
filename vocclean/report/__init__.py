"""Reports of a cleaning run: ``--report PATH.json`` and ``--report PATH.html``.

``observer`` watches a run (samples, rejection reasons), ``data`` turns a run's
result into one dict, ``json_report`` and ``html_report`` write it.
This package's ``__init__`` stays empty: the runner imports ``observer``.
"""
