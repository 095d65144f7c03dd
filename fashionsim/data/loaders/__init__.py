"""Loaders: real datasets, in their own on-disk formats, turned into a validated :class:`~fashionsim.data.Catalog`.

Every loader reads the dataset's files as they are distributed, builds the
three tables, validates them (and, with ``check_files``, that every image
file exists inside the root) and says exactly what is wrong: the file, the
line and the offending value. One module per format:

=================================  ======================  ====================================================
loader                             module                  reads
=================================  ======================  ====================================================
:func:`from_article_csv`           ``article_csv``         a CSV with the columns ``_category,_color,_id,_gender,_name``
:func:`from_folders`               ``product_folders``     ``root/<product_id>/*.jpg|*.jpeg|*.png`` (+ ``shop/``, ``street/``)
:func:`from_deepfashion_inshop`    ``deepfashion_inshop``  DeepFashion In-shop ``list_eval_partition.txt``
:func:`from_deepfashion_consumer2shop`  ``deepfashion_consumer2shop``  DeepFashion Consumer-to-shop ``list_eval_partition.txt``
:func:`from_fashion_mnist`         ``fashion_mnist``       Fashion-MNIST idx files (gzip or raw), written once as PNG
:func:`from_dvbpr_npy`             ``dvbpr``               the DVBPR Amazon ``.npy`` pickles (explicit opt-in only)
=================================  ======================  ====================================================

The folder of CSV files fashionsim itself writes is read by :func:`fashionsim.data.read_catalog`
(:mod:`fashionsim.data.csv_folder`). Products without a split in the source get a seeded split by
product (:func:`split_products`, ``seed=``). Shared helpers: :mod:`~fashionsim.data.loaders.common`.
Taught in notebook 01 (bring your own catalog).
"""

from fashionsim.data.loaders.article_csv import from_article_csv
from fashionsim.data.loaders.common import IMAGE_EXTENSIONS, split_products
from fashionsim.data.loaders.deepfashion_consumer2shop import from_deepfashion_consumer2shop
from fashionsim.data.loaders.deepfashion_inshop import from_deepfashion_inshop
from fashionsim.data.loaders.dvbpr import from_dvbpr_npy
from fashionsim.data.loaders.fashion_mnist import FASHION_MNIST_CLASSES, from_fashion_mnist, read_idx
from fashionsim.data.loaders.product_folders import from_folders

__all__ = [
    "IMAGE_EXTENSIONS",
    "FASHION_MNIST_CLASSES",
    "split_products",
    "read_idx",
    "from_article_csv",
    "from_folders",
    "from_deepfashion_inshop",
    "from_deepfashion_consumer2shop",
    "from_fashion_mnist",
    "from_dvbpr_npy",
]
