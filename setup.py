"""Build: the modules listed in vocclean/native.py compiled by mypyc (README, Install).

Everything else is in pyproject.toml. A C compiler is needed for the compiled
modules; without one their build is skipped (the extensions are optional) and
the same files run as Python. VOCCLEAN_PURE_PYTHON=1 skips it on purpose.
"""

import os
import runpy
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from setuptools import setup

PURE = bool(os.environ.get("VOCCLEAN_PURE_PYTHON"))
modules = runpy.run_path("vocclean/native.py")["COMPILED"]
paths = [module.replace(".", "/") + ".py" for module in modules]

# An extension module left in the tree by an earlier build, of a module no longer compiled, would be
# imported instead of its source: remove those before building.
kept = set() if PURE else {path.removesuffix(".py") for path in paths}
for built in [*Path("vocclean").rglob("*"), *Path(".").glob("*__mypyc.*")]:
    suffix = next((suffix for suffix in EXTENSION_SUFFIXES if built.name.endswith(suffix)), None)
    if suffix and str(built)[: -len(suffix)] not in kept:
        built.unlink()

extensions = []
if not PURE:
    from mypyc.build import mypycify

    # Type errors elsewhere in the package (imported, not compiled) do not stop the build.
    extensions = mypycify(["--follow-imports=silent", "--ignore-missing-imports", *paths], opt_level="3")
    for extension in extensions:
        extension.optional = True
setup(ext_modules=extensions)
