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
from fashionsim.data.demo import contact_sheet, default_demo_root, load_demo, make_demo, read_demo, verify_demo
from fashionsim.data.folder import read_catalog, write_catalog
from fashionsim.data.loaders import *  # noqa: F401,F403
from fashionsim.data.loaders import __all__ as _loader_names

__all__ = [
    "Catalog", "CatalogError", "PRODUCT_COLUMNS", "IMAGE_COLUMNS", "INTERACTION_COLUMNS", "SPLITS", "SOURCES",
    "read_catalog", "write_catalog",
    "load_demo", "make_demo", "read_demo", "verify_demo", "default_demo_root", "contact_sheet",
    *_loader_names,
]
