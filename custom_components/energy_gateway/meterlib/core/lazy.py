"""Names a package exports but loads on first use, so importing the package stays cheap."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module


def lazy_attributes(package: str, sources: Mapping[str, str]) -> Callable[[str], object]:
    """A module-level `__getattr__` for `package`: each name in `sources` is imported from
    its (relative) module when first asked for."""

    def __getattr__(name: str) -> object:
        module = sources.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(module, package), name)

    return __getattr__
