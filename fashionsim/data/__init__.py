"""Catalogs: the data contract, its validation, the demo catalog and the loaders.

>>> import pandas as pd
>>> from fashionsim import data
>>> products = pd.DataFrame({"product_id": ["p0"], "category": ["dress"], "color": ["red"],
...                          "gender": ["women"], "description": ["A red dress."], "split": ["train"]})
>>> images = pd.DataFrame({"image_id": ["i0"], "product_id": ["p0"], "path": ["p0.png"], "source": ["shop"]})
>>> cat = data.Catalog(products, images, root="/photos")
>>> str(cat.image_path("i0"))
'/photos/p0.png'

``data.load_demo()`` gives the generated demo catalog every notebook uses; ``data.read_catalog``
and the ``data.from_*`` loaders read your own.
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
from fashionsim.data.csv_folder import read_catalog, write_catalog
from fashionsim.data.demo import default_demo_root, load_demo, make_demo, read_demo, verify_demo
from fashionsim.data.loaders import (
    FASHION_MNIST_CLASSES,
    IMAGE_EXTENSIONS,
    from_article_csv,
    from_deepfashion_consumer2shop,
    from_deepfashion_inshop,
    from_dvbpr_npy,
    from_fashion_mnist,
    from_folders,
    read_idx,
    split_products,
)

__all__ = [
    "Catalog", "CatalogError", "PRODUCT_COLUMNS", "IMAGE_COLUMNS", "INTERACTION_COLUMNS", "SPLITS", "SOURCES",
    "read_catalog", "write_catalog",
    "load_demo", "make_demo", "read_demo", "verify_demo", "default_demo_root",
    "IMAGE_EXTENSIONS", "FASHION_MNIST_CLASSES", "split_products", "read_idx", "from_article_csv", "from_folders",
    "from_deepfashion_inshop", "from_deepfashion_consumer2shop", "from_fashion_mnist", "from_dvbpr_npy",
]
