"""Every package's docstring is its table of contents: it names each of its modules."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import xpuplan

PACKAGES = sorted(m.name for m in pkgutil.iter_modules(xpuplan.__path__) if m.ispkg)


@pytest.mark.parametrize("package", PACKAGES)
def test_package_docstring_names_every_module(package):
    pkg = importlib.import_module(f"xpuplan.{package}")
    doc = pkg.__doc__ or ""
    modules = [m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.ispkg]
    missing = [m for m in modules if m not in doc]
    assert modules and not missing, f"xpuplan/{package}/__init__.py does not name {missing}"
