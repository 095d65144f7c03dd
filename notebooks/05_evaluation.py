# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Evaluation: how good is each picture of the catalog?
#
# Notebooks 01, 03 and 04 each trained a model that turns a product photo into
# a vector. This notebook puts them side by side on the **test split** of the
# demo catalog and asks the questions a shop would ask before shipping one:
#
# * **Retrieval** — a customer photographs a garment in the street: is the
#   right product among the first K shop photos? (recall@K, mAP@R)
# * **Verification** — are two photos the same product? Pick a distance
#   threshold from VAL and FAR (FaceNet), with FAR kept under 0.20 as the
#   item-recognition README did.
# * **Matching** — compare a photo with one representative per product (the
#   medoid of its shop photos) and keep the five closest under the threshold.
# * **Recommendation** — does the visual recommender of notebook 04 rank a
#   user's held-out item above the items they never touched? (AUC)
#
# Methods: FaceNet's VAL/FAR (Schroff et al. 2015) and the matching test of the
# item-recognition triplet README; recall@K as in the street-to-shop InceptionV3
# notebook; mAP@R from Musgrave et al. 2020. Runs in about two minutes on a
# 2-core CPU when notebooks 01, 03 and 04 have saved their models (it retrains
# them with the same functions, in a few more minutes, when they have not).
#
# *The demo catalog is generated: drawings, not photographs.*

# %% [markdown]
# ## Setup
#
# One `Config` holds every choice. For a real dataset, point `catalog` at a
# catalog folder and `artifacts` at the models you trained on it.

# %%
import dataclasses
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fashionsim import data, evaluation, metrics, plots
from fashionsim.lessons import Lessons, notebook_seed


@dataclasses.dataclass(frozen=True)
class Config:
    catalog: str = "demo"                  # "demo" or a catalog folder (products.csv, images.csv, ...)
    split: str = "test"                    # products none of the models trained on
    artifacts: Path = Path("../artifacts")  # where notebooks 01, 03 and 04 saved their models
    ks: tuple = (1, 3, 5, 10, 25, 50, 100)
    far_bound: float = 0.20                # the README's bound on the false accept rate
    retrain_if_missing: bool = True        # train quickly with the notebooks' functions if a model is absent
    seed: int = notebook_seed(0)           # 0; tools/lessons.py re-runs the notebooks for seeds 0-4


CONFIG = Config()
lessons = Lessons("05_evaluation", seed=CONFIG.seed)  # the asserted lessons, also measured over seeds
keras.utils.set_random_seed(CONFIG.seed)
pd.set_option("display.precision", 3)

# %% [markdown]
# ## Data

# %%
cat = data.load_demo() if CONFIG.catalog == "demo" else data.read_catalog(CONFIG.catalog)
test = cat.split(CONFIG.split)
print(cat)
print(f"{CONFIG.split} split: {len(test.products)} products, "
      f"{(test.images.source == 'street').sum()} street queries, {(test.images.source == 'shop').sum()} shop photos")

# %% [markdown]
# ## The models
#
# Three image representations, plus the recommender:
#
# * **untrained** — the siamese architecture of notebook 03 with random
#   weights: what the network knows before it has seen a single triplet;
# * **multilabel vectors** — the pooled backbone features of notebook 01's tag
#   classifier, trained from descriptions, never from street photos;
# * **triplet-trained** — notebook 03's siamese model, trained with semi-hard
#   triplets of street and shop photos.
#
# `fashionsim.artifacts` loads what the notebooks saved, or trains it again
# with the same functions and settings when it is missing.

# %%
# NBVAL_IGNORE_OUTPUT
from fashionsim import artifacts

siamese = artifacts.siamese_model(CONFIG.artifacts / "siamese", cat, retrain=CONFIG.retrain_if_missing)
untrained = artifacts.untrained_like(siamese, seed=CONFIG.seed)
multilabel = artifacts.multilabel_vector_model(CONFIG.artifacts / "multilabel", cat,
                                               retrain=CONFIG.retrain_if_missing)
dvbpr = artifacts.dvbpr_model(CONFIG.artifacts / "dvbpr", cat, retrain=CONFIG.retrain_if_missing)
representations = {"untrained": untrained, "multilabel vectors": multilabel, "triplet-trained": siamese}

# %% [markdown]
# Every image of the catalog is embedded once per representation (the gallery
# holds the shop photos of *all* products, as the reference notebook searched
# every seller photo; the queries are the test split's street photos).

# %%
vectors = {name: evaluation.embed_split(model, cat, None, progress=False)
           for name, model in representations.items()}
reports = {name: evaluation.evaluate_representation(v, ids, cat, CONFIG.split, ks=CONFIG.ks,
                                                    far_bound=CONFIG.far_bound)
           for name, (v, ids) in vectors.items()}
print({name: v.shape for name, (v, _) in vectors.items()})

# %% [markdown]
# ## Retrieval: recall@K
#
# A street query is a hit at K when any shop photo of its product is among the
# K nearest. The dashed line is chance: a random ranking of the gallery.

# %%
ax = evaluation.plot_recall_curves(reports)
ax.set_title(f"street → shop recall@K, {CONFIG.split} split ({reports['untrained']['retrieval']['n_candidates']} shop photos)")
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
pd.DataFrame({name: r["retrieval"]["recall"] for name, r in reports.items()}).T

# %% [markdown]
# Training with triplets is what makes street photos find their product:

# %%
recall_untrained = reports["untrained"]["retrieval"]["recall"]
recall_trained = reports["triplet-trained"]["retrieval"]["recall"]
lessons.check("triplet-trained recall@10 > 2 × untrained", recall_trained[10], ">", 2 * recall_untrained[10])
lessons.check("triplet-trained recall@1 > 5 × chance", recall_trained[1], ">",
              5 * reports["triplet-trained"]["retrieval"]["chance"][1])

# %% [markdown]
# ## Verification: VAL and FAR against the threshold
#
# Every (street, shop) pair of the test split is either the same product or
# not. For a distance threshold *d*, VAL(*d*) is the share of same-product
# pairs closer than *d* and FAR(*d*) the share of different-product pairs
# closer than *d*. Raising *d* accepts more of both; the chosen threshold is
# the one with the highest VAL whose FAR stays under the bound.

# %%
ax = evaluation.plot_val_far(reports["triplet-trained"])
ax.set_title("triplet-trained model: street–shop pairs of the test split")
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
best = reports["triplet-trained"]["verification"]
print(f"threshold {best['threshold']:.3f}: VAL {best['val']:.3f}, FAR {best['far']:.3f} (bound {best['far_bound']})")
assert best["far"] <= CONFIG.far_bound, (best["far"], CONFIG.far_bound)

# %% [markdown]
# ## The matching test
#
# Each product is represented by one embedding: the medoid of its shop photos
# (the photo with the smallest summed distance to the others). A street photo
# is matched against these representatives; the five closest under the
# threshold are its answer. Green frames mark the right product, red the wrong
# ones, no frame means fewer than five representatives were close enough.

# %%
report = reports["triplet-trained"]
match = report["matching_result"]
street = test.images[test.images.source == "street"].reset_index(drop=True)
rng = np.random.default_rng(CONFIG.seed)
shown = np.sort(rng.choice(len(street), size=6, replace=False))
rows, marks, titles = [], [], []
for q in shown:
    answers = [p for p in match.products[q] if p is not None]
    rows.append([street.image_id[q], None] + [report["medoid_images"][p] for p in answers])
    marks.append([None, None] + list(match.correct[q][: len(answers)]))
    titles.append(["query", ""] + [f"{d:.2f}" for d in match.distances[q][: len(answers)]])
plots.image_grid(cat, rows, marks=marks, titles=titles, ncols=7,
                 title=f"matching test at threshold {match.threshold:.2f}: query | top-5 representatives")
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
pd.DataFrame({name: r["matching"] for name, r in reports.items()}).T

# %% [markdown]
# ## A map of the embedding space
#
# A 2-D PCA projection of the test split's photos, coloured by category; dots
# are shop photos, crosses street photos. Compare where the two kinds of photo
# of one product land before and after training: the untrained network mostly
# sorts photos by their background, which is exactly what retrieval must
# ignore, while training was told only "same product or not".

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
table = cat.image_table().set_index("image_id")
for ax, name in zip(axes, ["untrained", "triplet-trained"]):
    v, ids = vectors[name]
    keep = np.isin(ids, test.images.image_id)
    evaluation.plot_projection(v[keep], table.loc[ids[keep], "category"], sources=table.loc[ids[keep], "source"],
                               ax=ax, title=name)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Where it fails
#
# The queries whose first correct shop photo ranks lowest, each with its five
# nearest shop photos.

# %%
# NBVAL_IGNORE_OUTPUT
worst = evaluation.worst_queries(reports["triplet-trained"], n=4)
worst

# %%
plots.image_grid(cat, [[q, None, *top] for q, top in zip(worst["query"], worst["top"])],
                 row_labels=[f"rank {r}" if r <= max(CONFIG.ks) else f"not in top {max(CONFIG.ks)}"
                             for r in worst["first_correct_rank"]],
                 title="worst street queries | their top-5 shop photos")
plt.show()

# %% [markdown]
# Look at what the failures share: the garment is small or hidden behind an
# occluder, and a large patch of another colour (the occluder, a wall, a
# sleeve) dominates the photo, so the network retrieves shop photos *of that
# colour*. At 48 pixels and a few minutes of training the model has learnt
# colour and rough shape, not yet to ignore what is not the garment. The cure
# is the one the reference notebooks used at scale: bigger images, ImageNet
# initialisation and many more epochs of re-mined triplets.

# %% [markdown]
# ## Recommendation: AUC of the visual recommender
#
# The DVBPR model of notebook 04 is scored on every user's held-out test item
# against every item the user never interacted with.

# %%
# headline figures: compared by nbval (repeatable training keeps them stable)
rec = artifacts.dvbpr_test_report(dvbpr, cat)
rec

# %%
lessons.check("DVBPR AUC > popularity AUC", rec.loc["DVBPR", "AUC"], ">", rec.loc["popularity", "AUC"])
lessons.check("popularity AUC > 0.5", rec.loc["popularity", "AUC"], ">", 0.5)

# %% [markdown]
# ## Summary
#
# Every figure of merit in one table.

# %%
# headline figures: compared by nbval (repeatable training keeps them stable)
summary = evaluation.summary_table(reports)
summary

# %%
lessons.check("pair AUC (VAL/FAR pairs): triplet-trained > untrained", summary.loc["triplet-trained", "pair AUC"],
              ">", summary.loc["untrained", "pair AUC"])
assert (summary.filter(like="FAR").to_numpy() <= CONFIG.far_bound).all(), summary.filter(like="FAR")

# %% [markdown]
# **What to take away.** Triplet training is what turns a network into a
# street-to-shop search engine: the same architecture with random weights is
# close to chance. The features of notebook 01's small tag classifier do even
# worse here: they were learnt from shop photos only, so a cluttered street
# photo lands nowhere near its own product. Features are only as good as the
# question they were trained to answer. A verification threshold is a business choice — the
# FAR bound says how many wrong "same product" answers a shop accepts — and
# VAL at that threshold says how many right ones it gets in return.
