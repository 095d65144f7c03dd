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
# # 02 · Triplets from catalog metadata
#
# ← [01 · Tags and a multilabel classifier](01_tags_and_multilabel.ipynb) · [03 · Siamese network, semi-hard triplets](03_siamese_semihard.ipynb) →
#
# **What it teaches.** A ranking network learns from triplets: a *query* image, a *positive*
# that should sit close to it and a *negative* that should sit farther away. Labelling millions
# of them by hand is out of the question, but a shop catalog already knows which photos show the
# same product, and each product's category and colour. This notebook turns that metadata into
# triplets of four kinds, shows why some negatives are harder than others, checks the rules every
# triplet obeys, draws them at catalog scale with grouped integer indices instead of one
# DataFrame filter per triplet, and ends by training a network on them.
#
# **Learning objectives.** After this notebook you can
# 1. name the four kinds of metadata triplet (same-product or same-colour positive; in-class or
#    out-of-class negative) and say which negatives are hard;
# 2. check that a triplet table obeys its rules, and count the fallbacks a catalog forces;
# 3. replace a per-row DataFrame sampler by grouped integer indices, and measure the difference;
# 4. train an embedding on metadata triplets alone (a catalog with one photo per product) and
#    judge it by same-category and same-colour precision@K.
#
# **Prerequisites.** pandas and NumPy indexing; what an embedding and a triplet loss are
# (notebook 03 treats the loss in depth).
#
# **Sources.**
# * J. Wang, Y. Song, T. Leung, C. Rosenberg, J. Wang, J. Philbin, B. Chen, Y. Wu. *Learning
#   Fine-grained Image Similarity with Deep Ranking*. CVPR 2014.
#   [arXiv:1404.4661](https://arxiv.org/abs/1404.4661) — triplets and the ranking network.
# * *Visual Search using Deep Learning, pt. 1* — a blog article on generating deep-ranking
#   triplets from a fashion catalog's metadata (author not named in the copy we worked from):
#   the four kinds and their proportions (90/10 positives, 30/70 negatives), re-implemented in
#   `fashionsim.triplets` without its per-row sampler.
#
# **Data.** The bundled demo catalog: *generated* garment pictures, clean shop photos and
# distorted street photos of the same products.
#
# **Run time.** About 150 CPU-seconds on a 2-core machine, most of it training on the triplets
# at the end (measured for seeds 0–4 in [docs/lessons.md](../docs/lessons.md)); on a busy
# machine the wall time is two to three times that. The first notebook to run generates the demo
# catalog (about 10 CPU-seconds).

# %% [markdown]
# ## Setup
#
# The settings cell is the only one to edit: `cfg.replace(catalog_dir=...)` points at a catalog folder (see
# `fashionsim.data.read_catalog`) to draw triplets from a real dataset.

# %%
import time
import warnings

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fashionsim import data, deep_ranking, plots, presets, training, triplets
from fashionsim.images import load_image
from fashionsim.lessons import Lessons, notebook_seed
from fashionsim.models.embedding import build_embedding_model
from fashionsim.repeatable import seed_training
from fashionsim.triplet_data import triplet_dataset

SEED = notebook_seed(0)  # 0; tools/lessons.py re-runs the notebook for seeds 0-4


# The settings live in `fashionsim.presets` (one home for the notebooks, the CLI and
# `fashionsim.artifacts`): the sampler's (`n_triplets`, `p_same_product`, `p_in_class`), the preview's
# `preview_size`, and the training run's (`image_size`, `epochs`, `triplets_per_epoch`, ...).
cfg = presets.NOTEBOOK_02.replace(seed=SEED)
print(cfg)
lessons = Lessons("02_triplet_generation", seed=cfg.seed)  # the asserted lessons, also measured over seeds
keras.utils.set_random_seed(cfg.seed)

# %% [markdown]
# ## Data
#
# Every image carries its product, and through it a category and a colour. The triplet sampler
# uses nothing else.

# %%
cat = data.load_demo() if cfg.catalog_dir is None else data.read_catalog(cfg.catalog_dir)
print(cat)
table = cat.image_table()
groups = table.groupby(["category", "color"])["product_id"].nunique()
print(f"{table['category'].nunique()} categories, {table['color'].nunique()} colours, "
      f"{len(groups)} (category, colour) groups; {int((groups == 1).sum())} of them hold a single product")
print(f"images per product: {table.groupby('product_id').size().describe()[['min', 'mean', 'max']].to_dict()}")

# %% [markdown]
# ## The four kinds of triplet
#
# | kind | positive | negative |
# |---|---|---|
# | `same_product/in_class` | another photo of the same product | same category, another colour |
# | `same_product/out_of_class` | another photo of the same product | another category |
# | `same_color/in_class` | another product, same category and colour | same category, another colour |
# | `same_color/out_of_class` | another product, same category and colour | another category |
#
# By default 90 % of positives are the same product and 30 % of negatives are in-class. The query
# is drawn the article's way: a category by its image frequency, a colour by its image frequency,
# then an image of that pair.
#
# **Why in-class negatives are harder.** A shoe is told apart from a dress by its outline alone;
# after a few epochs the loss for such a pair is already zero and it stops teaching anything. A
# blue dress against a red dress has the same outline, so only colour and pattern separate it
# from the query: those triplets force the embedding to encode the fine attributes a shopper
# cares about. We measure it below on the clean shop photos: how much a negative's silhouette
# overlaps the query's.

# %%
sampler = triplets.TripletSampler(p_same_product=cfg.p_same_product, p_in_class=cfg.p_in_class).fit(cat)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", triplets.TripletFallbackWarning)
    df = sampler.sample(cfg.n_triplets, seed=cfg.seed)
for w in caught:
    print("warning:", w.message)
# From here on the counts are in each table's attrs; the warning would only repeat them.
warnings.simplefilter("ignore", triplets.TripletFallbackWarning)
print("fallbacks:", df.attrs["fallbacks"], "| images left out as queries:", df.attrs["excluded_queries"])
df.head()

# %% [markdown]
# Some requested draws are impossible: a (category, colour) group with a single product has no
# "other product of the same colour". Those triplets fall back to a same-product positive, and
# the sampler counts and reports every fallback instead of silently dropping the row (the article
# skipped such rows with a bare `except: continue`).
#
# ## Inspection
#
# ### Realised against requested proportions

# %%
realised = triplets.kind_proportions(df)
requested = triplets.requested_proportions(cfg.p_same_product, cfg.p_in_class)
ax = pd.concat([requested, realised], axis=1).plot.bar(figsize=(7, 3), rot=0, color=["#bbbbbb", "#2a7ab9"])
ax.set_ylabel("share of triplets")
ax.set_title(f"{cfg.n_triplets:,} triplets from the demo catalog")
ax.set_xticklabels([k.replace("/", "\n") for k in realised.index], fontsize=8)
pd.concat([requested, realised], axis=1).round(4)

# %% [markdown]
# The gap on the `same_color` kinds is exactly the fallbacks. Put them back and the requested
# shares come out within sampling noise:

# %%
n = len(df)
fb = df.attrs["fallbacks"]
same_color = df["kind"].astype(str).str.startswith("same_color").sum()
asked_same_color = same_color + fb["same_color->same_product"] - fb["same_product->same_color"]
in_class = df["kind"].astype(str).str.endswith("in_class").sum()
asked_in_class = in_class + fb["in_class->out_of_class"] - fb["out_of_class->in_class"]
for name, got, p in [("same_color", asked_same_color, 1 - cfg.p_same_product),
                     ("in_class", asked_in_class, cfg.p_in_class)]:
    sd = np.sqrt(n * p * (1 - p))
    print(f"{name}: asked for {got / n:.4f} of the triplets, requested {p:.4f} (±{sd / n:.4f})")
    lessons.check(f"{name}: |asked − requested| in standard deviations", abs(got - n * p) / sd, "<", 4)

# %% [markdown]
# ### Example triplets of each kind
#
# Each row is one triplet: query, positive, negative.

# %%
fig, axes = plt.subplots(2, 2, figsize=(9, 7.6))
for ax, kind in zip(axes.ravel(), triplets.KINDS):
    rows = df[df["kind"] == kind].head(3)[["query", "positive", "negative"]].to_numpy().tolist()
    info = table.set_index("image_id")
    titles = [[f"{info.at[i, 'color']} {info.at[i, 'category']}" for i in row] for row in rows]
    plots.image_grid(cat, rows, titles=titles, tile=80, border=12, ax=ax,
                     col_labels=["query", "positive", "negative"])
    ax.set_title(kind, pad=18)  # above the column labels
fig.tight_layout()

# %% [markdown]
# ### How hard is each kind of negative?
#
# The silhouette overlap (intersection over union of the garment masks) between query and
# negative, on clean shop photos. In-class negatives share the outline with the query nearly as
# much as a photo of the same product does; out-of-class negatives do not.

# %%
shop = triplets.generate(cat, 3000, cfg.seed, p_in_class=0.5, query_sources="shop", target_sources="shop")


def silhouette(image_id: str) -> np.ndarray:
    """Pixels that differ from the photo's corner (its background)."""
    x = load_image(cat.image_path(image_id), 48)
    return np.abs(x - x[0, 0]).sum(-1) > 0.15


def overlap(a: str, b: str) -> float:
    ma, mb = silhouette(a), silhouette(b)
    return (ma & mb).sum() / max((ma | mb).sum(), 1)


kinds = shop["kind"].astype(str)
pairs = {
    "positive (same product)": shop[kinds.str.startswith("same_product")][["query", "positive"]],
    "in-class negative": shop[kinds.str.endswith("/in_class")][["query", "negative"]],
    "out-of-class negative": shop[kinds.str.endswith("out_of_class")][["query", "negative"]],
}
iou = {name: np.mean([overlap(a, b) for a, b in rows.head(300).to_numpy()]) for name, rows in pairs.items()}
pd.Series(iou, name="mean silhouette IoU with the query").round(3)

# %%
lessons.check("silhouette IoU: in-class negative > out-of-class negative + 0.1", iou["in-class negative"], ">",
              iou["out-of-class negative"] + 0.1)

# %% [markdown]
# ### The rules every triplet obeys
#
# Checked here with plain pandas over the whole table (and by `triplets.check_rules`, which the
# tests also run against hypothesis-generated catalogs).

# %%
info = table.set_index("image_id")[["product_id", "category", "color"]]
q, p, neg = (info.loc[df[c]].reset_index(drop=True) for c in ("query", "positive", "negative"))
kind = df["kind"].astype(str)
same_product, in_class = kind.str.startswith("same_product"), kind.str.endswith("/in_class")

sc = ~same_product
broken = {  # how many triplets break each rule: all must be 0
    "query is its own positive": (df["query"] == df["positive"]).sum(),
    "same-product positive of another product": (p.product_id != q.product_id)[same_product].sum(),
    "same-colour positive off category/colour": (~((p.category == q.category) & (p.color == q.color)
                                                   & (p.product_id != q.product_id)))[sc].sum(),
    "in-class negative off category or same colour": (~((neg.category == q.category)
                                                        & (neg.color != q.color)))[in_class].sum(),
    "out-of-class negative in the query's category": (neg.category == q.category)[~in_class].sum(),
}
assert not any(broken.values()), broken
assert (triplets.check_rules(cat, df) == 0).all(), triplets.check_rules(cat, df)
assert sampler.sample(1000, seed=7).equals(sampler.sample(1000, seed=7))  # same seed, same triplets
print("all rules hold for", len(df), "triplets")

# %% [markdown]
# ### Speed: one filter per triplet against grouped indices
#
# The article's sampler filtered the whole table three times per triplet and appended rows one by
# one; it calls itself "highly inefficient". Here is that approach in a few lines, for contrast.
# `fashionsim.triplets` instead sorts the images once by (category, colour, product): every pool
# a triplet draws from is then a contiguous range, and each draw is a uniform position in a range
# that skips one sub-range, for all triplets at once.


# %%
def per_row_triplets(table: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """The per-row way (contrast only): filter the whole table for every draw."""
    rng = np.random.default_rng(seed)
    p_cat = table["category"].value_counts(normalize=True)
    p_col = table["color"].value_counts(normalize=True)
    rows = []
    for _ in range(n):
        c, k = rng.choice(p_cat.index, p=p_cat.to_numpy()), rng.choice(p_col.index, p=p_col.to_numpy())
        pool = table[(table.category == c) & (table.color == k)]
        if pool.empty:
            continue
        query = pool.sample(random_state=rng).iloc[0]
        if rng.random() < 0.3:
            negatives = table[(table.category == c) & (table.color != k)]
        else:
            negatives = table[table.category != c]
        positives = table[(table.product_id == query.product_id) & (table.image_id != query.image_id)]
        if negatives.empty or positives.empty:
            continue
        rows.append((query.image_id, positives.sample(random_state=rng).image_id.iloc[0],
                     negatives.sample(random_state=rng).image_id.iloc[0]))
    return pd.DataFrame(rows, columns=["query", "positive", "negative"])


# %%
# NBVAL_IGNORE_OUTPUT
n_slow = 200
start = time.perf_counter()
per_row_triplets(table, n_slow, cfg.seed)
slow = (time.perf_counter() - start) / n_slow
start = time.perf_counter()
triplets.TripletSampler().fit(cat).sample(cfg.n_triplets, seed=cfg.seed)
fast = (time.perf_counter() - start) / cfg.n_triplets
print(f"per-row: {slow * 1e6:,.0f} µs per triplet ({n_slow} triplets)")
print(f"grouped indices: {fast * 1e6:,.2f} µs per triplet ({cfg.n_triplets:,} triplets, fit included)")
print(f"{slow / fast:,.0f} times faster; at the article's 800,000 triplets: "
      f"{800_000 * slow / 3600:.1f} h against {800_000 * fast:.2f} s")

# %% [markdown]
# At the article's scale the gap only widens: the benchmark `python -m fashionsim.bench.triplets`
# builds a 700,000-image catalog and draws 800,000 triplets from it in under two seconds on this
# 2-core machine, while the per-row approach needs about a fifth of a second *per triplet* on a
# table that size (some 40 hours for the lot).
#
# ## Training input
#
# Triplets are saved as a table of image ids, in chunks when there are millions of them, and
# become training batches through `tf.data`: flat batches ordered (anchor, positive, negative,
# anchor, …), decoded in parallel and augmented, the layout notebook 03's triplet losses expect.

# %%
n_rows = triplets.write_triplets(sampler.sample_chunks(cfg.n_triplets, chunk_size=5_000, seed=cfg.seed),
                               "../artifacts/02_triplets.parquet")
print("rows written:", n_rows)
again = triplets.read_triplets("../artifacts/02_triplets.parquet", catalog=cat)
assert len(again) == cfg.n_triplets and (triplets.check_rules(cat, again) == 0).all()

# %%
# NBVAL_IGNORE_OUTPUT
# (TensorFlow may log notes while it traces the input pipeline; they vary from run to run.)
ds = triplet_dataset(cat, again.head(4), cfg.preview_size, batch_triplets=4, seed=cfg.seed)
images, targets = next(iter(ds))

# %%
print("batch:", tuple(images.shape), "targets:", tuple(targets.shape))
assert images.shape == (12, cfg.preview_size, cfg.preview_size, 3) and not targets.numpy().any()
mosaic = images.numpy().reshape(4, 3, cfg.preview_size, cfg.preview_size, 3).transpose(0, 2, 1, 3, 4)
fig, ax = plt.subplots(figsize=(4, 5.2))
ax.imshow(mosaic.reshape(4 * cfg.preview_size, 3 * cfg.preview_size, 3))
ax.set_xticks([(i + 0.5) * cfg.preview_size for i in range(3)], ["anchor", "positive", "negative"])
ax.set_yticks([])
ax.set_title("one augmented batch (4 triplets)")
fig.tight_layout()

# %% [markdown]
# ## Training on these triplets
#
# The deep-ranking article trains its ranking network on exactly such triplets, and for a shop
# whose catalog has one studio photo per product and no street photos they are the only
# supervision there is. `training.train_siamese(..., triplets="metadata")` draws the four kinds
# afresh every epoch (from the seed and the epoch), embeds them with the current model and swaps
# each drawn negative for the *semi-hard* one among all the epoch's negatives that its own rule
# allows (an in-class triplet keeps an in-class negative), then trains the margin triplet loss
# of notebook 03 on them. The same compact CNN as notebook 03, at 48 px.
#
# What it should learn shows on products it never saw: among a test photo's nearest neighbours,
# how many show the same category, and the same category *and* colour?

# %%
seed_training(cfg.seed)  # the same initial weights on every run (fashionsim.repeatable)
net = build_embedding_model(backbone="small_cnn", image_size=cfg.image_size)
before = deep_ranking.evaluate_metadata(net, cat, "test", image_size=cfg.image_size, ks=(1, 5, 10))

# %%
# NBVAL_IGNORE_OUTPUT
tic = time.process_time()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", triplets.TripletFallbackWarning)  # fallbacks are counted in the history
    ranked = training.train_siamese(cat, model=net, **cfg.train_kwargs(), progress=False, verbose=1)
train_cpu = time.process_time() - tic
print(f"trained {cfg.epochs} epochs in {train_cpu:.0f} CPU-seconds")
after = deep_ranking.evaluate_metadata(ranked.model, cat, "test", image_size=cfg.image_size, ks=(1, 5, 10))

# %%
# headline figures: compared by nbval (repeatable training keeps them stable)
precision = pd.DataFrame({
    (name, label): pd.Series(result[key]) for name, result in (("untrained", before), ("trained", after))
    for key, label in (("category", "same category"), ("category_color", "same category and colour"))
}).T
precision.columns = [f"P@{k}" for k in precision.columns]
precision.round(3)

# %%
lessons.check("same category and colour P@10: trained > untrained + 0.05", after["category_color"][10], ">",
              before["category_color"][10] + 0.05)
gain = lessons.measure("same category P@10: trained − untrained", after["category"][10] - before["category"][10])
print(f"same category and colour P@10: {before['category_color'][10]:.3f} → {after['category_color'][10]:.3f}; "
      f"same category P@10 moves by {gain:+.3f}")

# %% [markdown]
# Colour is what these triplets teach best: 30% of the negatives share the query's category and
# differ only in colour, and every positive shares both. Same-category precision moves much
# less (its gain over seeds is in `docs/lessons.md`): an out-of-class negative is usually far
# already, so it rarely has a loss to learn from.

# %% [markdown]
# ## Exercises
#
# Solutions: `solutions/exercises_02.py` (try first; the test suite runs them, `tests/test_exercises.py`).
#
# 1. **No in-class negatives.** *Goal:* draw 20,000 triplets with `p_in_class=0` and with 0.5 and
#    compare the share of each kind. *Hint:* `triplets.generate(cat, n, seed, p_in_class=...)` and
#    `df["kind"].value_counts(normalize=True)`. *Expected outcome:* with 0 no triplet has an
#    in-class negative; with 0.5 about half do — and the negatives' silhouette overlap with the
#    query (above) falls when they are all out-of-class: easier triplets.
# 2. **Street queries, shop targets.** *Goal:* triplets for street-to-shop training: street photos
#    as queries, shop photos as positives and negatives. *Hint:* `query_sources="street",
#    target_sources="shop"`. *Expected outcome:* every query is a street photo, every positive and
#    negative a shop photo.
# 3. **One photo a product.** *Goal:* keep one shop photo per product (what most shops have) and
#    count the fallbacks. *Hint:* build a `data.Catalog` from `cat.products` and one image row per
#    product, then read `df.attrs["fallbacks"]`. *Expected outcome:* every same-product positive
#    falls back to a same-colour one: about 90% of the triplets.

# %% [markdown]
# ## Summary
#
# * Catalog metadata gives four kinds of triplet for free: a positive is another photo of the
#   product or another product of the same category and colour; a negative is in-class (same
#   category, other colour: same outline, hard) or out-of-class (another category: easy).
# * Impossible draws fall back to the other kind, and every fallback is counted, never hidden.
# * Sorting the images once by (category, colour, product) turns every pool into a contiguous
#   range: hundreds of thousands of triplets per second instead of a few per second.
# * `triplet_data.triplet_dataset` feeds them to Keras as (a, p, n, …) batches, and
#   `train_siamese(..., triplets="metadata")` trains on them with negatives re-mined semi-hard
#   within their rules: the route for a catalog of shop photos only. Notebook 03 trains the same
#   network on (street, shop) pairs instead.
