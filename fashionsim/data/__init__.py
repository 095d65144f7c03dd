"""Catalogs: the data contract, its validation, the demo catalog and loaders.

>>> from fashionsim import data
>>> cat = data.load_demo()          # doctest: +SKIP
"""

from fashionsim.data.catalog import (
    IMAGE_COLUMNS,
    INTERACTION_COLUMNS,
    PRODUCT_COLUMNS,
    SOURCES,
    SPLITS,
    Catalog,
    CatalogError,
)

__all__ = [
    "Catalog", "CatalogError", "PRODUCT_COLUMNS", "IMAGE_COLUMNS", "INTERACTION_COLUMNS", "SPLITS", "SOURCES",
]

try:  # the demo catalog and the loaders live in their own modules
    from fashionsim.data.demo import load_demo, make_demo  # noqa: F401

    __all__ += ["load_demo", "make_demo"]
except ImportError:  # pragma: no cover - while the demo module is being written
    pass
try:
    from fashionsim.data.loaders import *  # noqa: F401,F403
    from fashionsim.data.loaders import __all__ as _loader_names

    __all__ += list(_loader_names)
except ImportError:  # pragma: no cover
    pass
