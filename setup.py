"""Build: the modules listed in vocclean/native.py compiled by mypyc (README, Install).

Everything else is in pyproject.toml. A C compiler is needed for the compiled
modules; without one their build is skipped (the extensions are optional) and
the same files run as Python. VOCCLEAN_PURE_PYTHON=1 skips it on purpose.
"""

import json
import os
import runpy
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from setuptools import setup

native = runpy.run_path("vocclean/native.py")
PURE = bool(os.environ.get(native["PURE_ENV"]))
modules = native["COMPILED"]
paths = [module.replace(".", "/") + ".py" for module in modules]

extensions = []
if not PURE:
    from mypyc.build import mypycify

    # Type errors elsewhere in the package (imported, not compiled) do not stop the build.
    extensions = mypycify(["--follow-imports=silent", "--ignore-missing-imports", *paths], opt_level="3")
    for extension in extensions:
        extension.optional = True

# What is compiled, and from which source (vocclean.native runs the source of a module whose source
# differs, or when the shared library of the compiled code is missing).
recorded = Path("vocclean") / native["SOURCES_FILE"]
if PURE:
    recorded.unlink(missing_ok=True)
else:
    digests = {
        module: native["source_digest"](Path(path)) for module, path in zip(modules, paths, strict=True)
    }
    shared = [extension.name for extension in extensions if extension.name.endswith("__mypyc")]
    recorded.write_text(json.dumps({"shared": shared, "sources": digests}, indent=1) + "\n", encoding="utf-8")

# An extension module left in the tree by an earlier build, of a module no longer compiled or an
# older shared library, would be imported instead of its source: remove those.
kept = {path.removesuffix(".py") for path in paths} | {extension.name for extension in extensions}
for built in [*Path("vocclean").rglob("*"), *Path(".").glob("*__mypyc.*")]:
    suffix = next((suffix for suffix in EXTENSION_SUFFIXES if built.name.endswith(suffix)), None)
    if suffix and str(built)[: -len(suffix)] not in kept:
        built.unlink()

setup(ext_modules=extensions)
