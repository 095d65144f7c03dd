"""fashionsim.triplets: the four kinds, their rules, fallbacks, reproducibility, files, training input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fashionsim import triplets
from fashionsim.data import Catalog
from fashionsim.triplets import (
    FALLBACKS,
    KINDS,
    TripletFallbackWarning,
    TripletIndex,
    TripletSampler,
    check_rules,
    generate,
    kind_proportions,
    read_triplets,
    requested_proportions,
    write_triplets,
)

quiet = pytest.mark.filterwarnings("ignore::fashionsim.triplets.TripletFallbackWarning")


def make_catalog(spec, sources=None, int_ids=False) -> Catalog:
    """``spec``: list of (category, colour, n_images) per product; ``sources``: one per image (default shop)."""
    products, images = [], []
    for i, (category, color, k) in enumerate(spec):
        products.append(dict(product_id=f"p{i}", category=category, color=color, gender="women",
                             description="", split="train"))
        for _ in range(k):
            j = len(images)
            images.append(dict(image_id=j if int_ids else f"i{j}", product_id=f"p{i}", path=f"img/{j}.png",
                               source=sources[j] if sources is not None else "shop"))
    return Catalog(pd.DataFrame(products), pd.DataFrame(images))


class Options:
    """Independent, per-image brute force of what each query could get (no code shared with the sampler)."""

    def __init__(self, cat: Catalog, query_sources=("shop", "street"), target_sources=("shop", "street")):
        t = cat.image_table()
        self.table = t.set_index("image_id")
        targets = t[t["source"].isin(target_sources)]
        rows = {}
        for q in t[t["source"].isin(query_sources)].itertuples():
            same_cat = targets["category"] == q.category
            same_col = targets["color"] == q.color
            same_prod = targets["product_id"] == q.product_id
            rows[q.image_id] = dict(
                same_product=set(targets.loc[same_prod & (targets["image_id"] != q.image_id), "image_id"]),
                same_color=set(targets.loc[same_cat & same_col & ~same_prod, "image_id"]),
                in_class=set(targets.loc[same_cat & ~same_col, "image_id"]),
                out_of_class=set(targets.loc[~same_cat, "image_id"]),
            )
        self.rows = rows
        self.eligible = {q for q, o in rows.items()
                         if (o["same_product"] or o["same_color"]) and (o["in_class"] or o["out_of_class"])}


@st.composite
def catalogs(draw):
    n = draw(st.integers(1, 10))
    spec = [(draw(st.sampled_from("abc")), draw(st.sampled_from(["red", "blue", "green"])), draw(st.integers(1, 4)))
            for _ in range(n)]
    total = sum(k for _, _, k in spec)
    sources = draw(st.lists(st.sampled_from(["shop", "street"]), min_size=total, max_size=total))
    return spec, sources


SOURCE_SETS = st.sampled_from([None, ("shop",), ("street",), ("shop", "street")])
PROBS = st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0)


@quiet
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs(), SOURCE_SETS, SOURCE_SETS, PROBS, PROBS, st.sampled_from(["category_color", "image"]),
       st.integers(0, 2**31))
def test_rules_hold_on_random_catalogs(spec_sources, qsrc, tsrc, p_sp, p_in, weighting, seed):
    spec, sources = spec_sources
    cat = make_catalog(spec, sources)
    opts = Options(cat, qsrc or ("shop", "street"), tsrc or ("shop", "street"))
    kwargs = dict(p_same_product=p_sp, p_in_class=p_in, query_sources=qsrc, target_sources=tsrc,
                  query_weighting=weighting)
    if not opts.eligible:
        with pytest.raises(ValueError, match="no triplet can be drawn"):
            generate(cat, 50, seed, **kwargs)
        return
    df = generate(cat, 300, seed, **kwargs)
    assert len(df) == 300 and list(df.columns) == ["query", "positive", "negative", "kind"]
    assert set(df["query"]) <= opts.eligible
    assert df.attrs["excluded_queries"] == len(opts.rows) - len(opts.eligible)
    pos_kind = df["kind"].astype(str).str.split("/").str[0]
    neg_kind = df["kind"].astype(str).str.split("/").str[1]
    for q, p, n, pk, nk in zip(df["query"], df["positive"], df["negative"], pos_kind, neg_kind):
        assert p != q
        assert p in opts.rows[q][pk], (q, p, pk)  # shares product / shares category+colour, other product
        assert n in opts.rows[q][nk], (q, n, nk)  # same category other colour / other category
    assert (check_rules(cat, df) == 0).all()

    # A fallback happens only when the requested kind is impossible for that query, and is counted.
    fb = df.attrs["fallbacks"]
    no_sp = np.array([not opts.rows[q]["same_product"] for q in df["query"]])
    no_sc = np.array([not opts.rows[q]["same_color"] for q in df["query"]])
    no_in = np.array([not opts.rows[q]["in_class"] for q in df["query"]])
    no_out = np.array([not opts.rows[q]["out_of_class"] for q in df["query"]])
    is_sc, is_out = (pos_kind == "same_color").to_numpy(), (neg_kind == "out_of_class").to_numpy()
    assert fb["same_product->same_color"] <= np.sum(is_sc & no_sp)
    assert fb["same_color->same_product"] <= np.sum(~is_sc & no_sc)
    assert fb["in_class->out_of_class"] <= np.sum(is_out & no_in)
    assert fb["out_of_class->in_class"] <= np.sum(~is_out & no_out)
    if p_sp == 1.0:  # every same-colour positive is a fallback from an impossible same-product one
        assert fb["same_product->same_color"] == is_sc.sum() and (no_sp[is_sc]).all()
    if p_sp == 0.0:
        assert fb["same_color->same_product"] == (~is_sc).sum() and (no_sc[~is_sc]).all()
    if p_in == 1.0:
        assert fb["in_class->out_of_class"] == is_out.sum() and (no_in[is_out]).all()
    if p_in == 0.0:
        assert fb["out_of_class->in_class"] == (~is_out).sum() and (no_out[~is_out]).all()


@quiet
@settings(max_examples=30, deadline=None)
@given(catalogs(), st.integers(0, 2**31))
def test_same_seed_same_triplets(spec_sources, seed):
    cat = make_catalog(*spec_sources)
    try:
        a = generate(cat, 200, seed)
    except ValueError:
        return
    b = TripletSampler().fit(cat).sample(200, seed=np.random.default_rng(seed))
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, generate(cat, 200, seed))


@pytest.fixture
def rich_catalog() -> Catalog:
    """Every kind always possible: 3 categories × 3 colours × 2 products × 3 images."""
    spec = [(c, col, 3) for c in "abc" for col in ("red", "blue", "green") for _ in range(2)]
    return make_catalog(spec)


def test_different_seeds_differ_and_no_warning_without_fallbacks(rich_catalog):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a, b = generate(rich_catalog, 500, 1), generate(rich_catalog, 500, 2)
    assert not a.equals(b)
    assert a.attrs["fallbacks"] == dict.fromkeys(FALLBACKS, 0) and a.attrs["excluded_queries"] == 0


@pytest.mark.parametrize("p_sp,p_in", [(0.9, 0.3), (0.5, 0.5), (0.2, 0.8)])
def test_realised_proportions_match_requested(rich_catalog, p_sp, p_in):
    n = 40_000
    df = generate(rich_catalog, n, 0, p_same_product=p_sp, p_in_class=p_in)
    realised, requested = kind_proportions(df), requested_proportions(p_sp, p_in)
    assert list(realised.index) == list(KINDS)
    sd = np.sqrt(requested * (1 - requested) / n)
    assert (np.abs(realised - requested) < 5 * sd + 1e-12).all(), pd.concat([realised, requested], axis=1)


@quiet
def test_queries_follow_category_and_colour_frequency():
    # Category a has 3 colours, b has 1: p(cat) and p(colour) are marginals over images.
    spec = [("a", "red", 2), ("a", "red", 2), ("a", "blue", 2), ("a", "blue", 4), ("a", "green", 2),
            ("b", "red", 6), ("b", "red", 2)]
    cat = make_catalog(spec)
    t = cat.image_table()
    p_cat = t["category"].value_counts(normalize=True)
    p_col = t["color"].value_counts(normalize=True)
    groups = t.groupby(["category", "color"]).size().index
    expected = pd.Series([p_cat[c] * p_col[k] for c, k in groups], index=groups)
    expected /= expected.sum()
    n = 60_000
    df = generate(cat, n, 3)
    got = t.set_index("image_id").loc[df["query"], ["category", "color"]].value_counts(normalize=True)
    got = got.reindex(expected.index, fill_value=0)
    sd = np.sqrt(expected * (1 - expected) / n)
    assert (np.abs(got - expected) < 5 * sd).all(), pd.concat([got, expected], axis=1)
    # Within its group the query is uniform over images: p1 (2 images) vs p3 (4 images) in a/blue.
    blue = df.loc[df["query"].map(t.set_index("image_id")["color"]).eq("blue") &
                  df["query"].map(t.set_index("image_id")["category"]).eq("a"), "query"]
    share_p3 = blue.map(t.set_index("image_id")["product_id"]).eq("p3").mean()
    assert abs(share_p3 - 4 / 6) < 0.02

    # Draws smaller than the number of groups take the cdf-search path: same distribution.
    index, rng = TripletSampler().fit(cat).index_, np.random.default_rng(0)
    small = np.concatenate([index.draw(3, rng).query for _ in range(10_000)])
    got = t.loc[small, ["category", "color"]].value_counts(normalize=True).reindex(expected.index, fill_value=0)
    assert (np.abs(got - expected) < 5 * np.sqrt(expected * (1 - expected) / len(small))).all()

    uniform = generate(cat, n, 3, query_weighting="image")["query"].value_counts(normalize=True)
    assert len(uniform) == len(t) and (np.abs(uniform - 1 / len(t)) < 5 * np.sqrt(1 / len(t) / n)).all()


def test_draws_are_uniform_within_their_pool(rich_catalog):
    from scipy.stats import chisquare

    df = generate(rich_catalog, 60_000, 5, p_same_product=0.5, p_in_class=0.5)
    t = rich_catalog.image_table().set_index("image_id")
    q0 = df["query"].iloc[0]
    rows = df[df["query"] == q0]
    opts = Options(rich_catalog).rows[q0]
    for column, kind_part, pool in (("positive", "same_product", "same_product"),
                                    ("positive", "same_color", "same_color"),
                                    ("negative", "in_class", "in_class"),
                                    ("negative", "out_of_class", "out_of_class")):
        drawn = rows.loc[rows["kind"].astype(str).str.contains(kind_part), column]
        counts = drawn.value_counts().reindex(sorted(opts[pool]), fill_value=0)
        assert set(drawn) <= opts[pool]
        assert chisquare(counts.to_numpy()).pvalue > 1e-4, (pool, counts.to_dict())
    assert t.loc[q0, "category"] in "abc"


@pytest.mark.parametrize("spec,kwargs,fallback", [
    # product p0 has a single image: same-product positives fall back to same-colour (p1)
    ([("a", "red", 1), ("a", "red", 2), ("b", "red", 2)], dict(p_same_product=1.0), "same_product->same_color"),
    # p0 is alone in a/red: same-colour positives fall back to same-product
    ([("a", "red", 2), ("a", "blue", 2), ("b", "red", 2)], dict(p_same_product=0.0), "same_color->same_product"),
    # category b has one colour: its in-class negatives fall back to out-of-class
    ([("a", "red", 2), ("a", "blue", 2), ("b", "red", 2)], dict(p_in_class=1.0), "in_class->out_of_class"),
    # one category only: out-of-class negatives fall back to in-class
    ([("a", "red", 2), ("a", "blue", 2)], dict(p_in_class=0.0), "out_of_class->in_class"),
])
def test_fallbacks_are_counted_and_warned(spec, kwargs, fallback):
    cat = make_catalog(spec)
    with pytest.warns(TripletFallbackWarning, match=fallback.replace(">", ">")):
        df = generate(cat, 2000, 0, **kwargs)
    assert df.attrs["fallbacks"][fallback] > 0
    assert (check_rules(cat, df) == 0).all()
    if fallback == "out_of_class->in_class":
        assert df.attrs["fallbacks"][fallback] == 2000 and (df["kind"].astype(str).str.endswith("in_class")).all()


def test_images_without_any_positive_are_excluded_and_reported():
    cat = make_catalog([("a", "red", 1), ("a", "blue", 2), ("b", "red", 2)])  # i0: one image, alone in a/red
    with pytest.warns(TripletFallbackWarning, match="1 of 5 images cannot be queries"):
        sampler = TripletSampler().fit(cat)
    with pytest.warns(TripletFallbackWarning):  # i1, i2 (a/blue) have no in-class negative
        df = sampler.sample(500, 0)
    assert "i0" not in set(df["query"]) and df.attrs["excluded_queries"] == 1


@pytest.mark.parametrize("spec,match", [
    ([("a", "red", 1)], "no query has another image of its product"),
    ([("a", "red", 1), ("b", "red", 1)], "no query has another image of its product"),
    ([("a", "red", 3), ("a", "red", 2)], "no negative exists"),
])
def test_truly_impossible_catalogs_raise(spec, match):
    with pytest.raises(ValueError, match=match):
        generate(make_catalog(spec), 10)


@quiet
def test_street_to_shop_sources():
    spec = [(c, "red", 4) for c in "abc"]
    cat = make_catalog(spec, sources=["shop", "shop", "street", "street"] * 3)
    df = generate(cat, 1000, 0, query_sources="street", target_sources=["shop"])
    src = cat.images.set_index("image_id")["source"]
    assert (src[df["query"]] == "street").all()
    assert (src[df["positive"]] == "shop").all() and (src[df["negative"]] == "shop").all()


def test_integer_ids_and_chunks(tmp_path):
    cat = make_catalog([("a", "red", 2), ("a", "blue", 2), ("b", "red", 3)], int_ids=True)
    sampler = TripletSampler().fit(cat)
    with pytest.warns(TripletFallbackWarning):
        chunks = list(sampler.sample_chunks(2500, chunk_size=1000, seed=4))
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    assert chunks[0]["query"].dtype.kind == "i"
    with pytest.warns(TripletFallbackWarning):
        again = list(sampler.sample_chunks(2500, chunk_size=1000, seed=4))
    pd.testing.assert_frame_equal(pd.concat(chunks), pd.concat(again))


@pytest.mark.parametrize("kwargs,match", [
    (dict(p_same_product=1.5), "p_same_product"),
    (dict(p_in_class=-0.1), "p_in_class"),
    (dict(p_in_class="0.3"), "p_in_class"),
    (dict(query_sources=["studio"]), "query_sources"),
    (dict(target_sources=[]), "target_sources"),
    (dict(query_weighting="uniform"), "query_weighting"),
])
def test_bad_arguments_are_named(rich_catalog, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate(rich_catalog, 10, **kwargs)


def test_bad_n_and_unfitted(rich_catalog):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(ValueError, match="n must be"):
        generate(rich_catalog, -1)
    with pytest.raises(NotFittedError):
        TripletSampler().sample(3)
    assert len(generate(rich_catalog, 0)) == 0


def test_index_from_codes_checks_its_input():
    with pytest.raises(ValueError, match="more than one category"):
        TripletIndex.from_codes(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), np.array([0, 0, 0, 1]))
    with pytest.raises(ValueError, match="one entry per image"):
        TripletIndex.from_codes(np.array([0, 1]), np.array([0]), np.array([0, 0]))
    with pytest.raises(ValueError, match="integer codes"):
        TripletIndex.from_codes(np.array([0.0, 1.0]), np.array([0, 1]), np.array([0, 0]))
    d = TripletIndex.from_codes(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]), np.array([0, 0, 0, 0])).draw(50, 0)
    assert (d.positive != d.query).all() and (d.kind == 1).all()  # same product, out of class


def test_check_rules_finds_each_violation(rich_catalog):
    df = generate(rich_catalog, 200, 0).reset_index(drop=True)
    assert (check_rules(rich_catalog, df) == 0).all()
    t = rich_catalog.image_table().set_index("image_id")
    bad = df.copy()
    bad["kind"] = bad["kind"].astype(str)
    first_sp = int(np.flatnonzero(bad["kind"].str.startswith("same_product"))[0])
    bad.loc[first_sp, "positive"] = bad.loc[first_sp, "query"]
    in_rows = np.flatnonzero(bad["kind"].str.endswith("in_class"))
    other_cat = t.index[t["category"] != t.loc[bad.loc[in_rows[0], "query"], "category"]][0]
    bad.loc[in_rows[0], "negative"] = other_cat
    bad.loc[in_rows[1], "kind"] = "nonsense"
    counts = check_rules(rich_catalog, bad)
    assert counts["positive_is_query"] == 1 and counts["in_class_negative"] == 1 and counts["unknown_kind"] == 1


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.parquet"])
def test_write_read_roundtrip_in_chunks(tmp_path, rich_catalog, name):
    sampler = TripletSampler().fit(rich_catalog)
    whole = pd.concat(list(sampler.sample_chunks(2500, 1000, seed=0)), ignore_index=True)
    assert write_triplets(sampler.sample_chunks(2500, 1000, seed=0), tmp_path / name) == 2500
    back = read_triplets(tmp_path / name, catalog=rich_catalog)
    pd.testing.assert_frame_equal(back, whole)
    parts = list(read_triplets(tmp_path / name, chunksize=700))
    assert [len(p) for p in parts] == [700, 700, 700, 400]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_csv_ids_map_back_to_catalog_values(tmp_path):
    cat = make_catalog([("a", "red", 2), ("a", "blue", 2), ("b", "red", 3)], int_ids=True)
    with pytest.warns(TripletFallbackWarning):
        df = generate(cat, 100, 0)
    write_triplets(df, tmp_path / "t.csv")
    assert read_triplets(tmp_path / "t.csv")["query"].iloc[0] == str(df["query"].iloc[0])
    back = read_triplets(tmp_path / "t.csv", catalog=cat)
    assert back["query"].tolist() == df["query"].tolist()


def test_io_errors_name_the_problem(tmp_path, rich_catalog):
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        read_triplets(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match=r"\.csv, \.csv\.gz, \.parquet"):
        write_triplets(generate(rich_catalog, 5), tmp_path / "t.json")
    with pytest.raises(ValueError, match="missing column"):
        write_triplets(pd.DataFrame({"query": [1]}), tmp_path / "t.csv")
    (tmp_path / "bad.csv").write_text("query,positive,negative\ni0,i1,nope\n")
    with pytest.raises(ValueError, match=r"negative names image ids not in the catalog at row 0 \('nope'\)"):
        read_triplets(tmp_path / "bad.csv", catalog=rich_catalog)

    def broken():
        yield generate(rich_catalog, 5)
        raise RuntimeError("generator failed")

    with pytest.raises(RuntimeError):
        write_triplets(broken(), tmp_path / "atomic.parquet")
    assert not list(tmp_path.glob("*atomic*")) and not list(tmp_path.glob(".atomic*"))


def test_module_reexports_io():
    from fashionsim import triplet_data  # the tf.data input left the pure triplets package

    assert triplets.write_triplets is write_triplets
    assert callable(triplet_data.triplet_dataset)


@pytest.fixture
def tiny_triplets(tiny_catalog):
    with warnings.catch_warnings():  # one product per category and colour: same-colour positives fall back
        warnings.simplefilter("ignore", TripletFallbackWarning)
        return generate(tiny_catalog, 5, 0)


def test_triplet_dataset_yields_flat_apn_batches(tiny_catalog, tiny_triplets):
    from fashionsim.images import load_image
    from fashionsim.triplet_data import triplet_dataset
    from fashionsim.triplets import interleave_paths

    paths = interleave_paths(tiny_catalog, tiny_triplets)
    assert paths[:3] == tiny_catalog.image_paths(tiny_triplets.iloc[0, :3])
    batches = list(triplet_dataset(tiny_catalog, tiny_triplets, 16, 2, augment=False).as_numpy_iterator())
    assert [x.shape for x, _ in batches] == [(6, 16, 16, 3), (6, 16, 16, 3), (3, 16, 16, 3)]
    x = np.concatenate([b for b, _ in batches])
    expected = np.stack([load_image(p, 16) for p in paths])
    np.testing.assert_allclose(x, expected, atol=1e-6)
    assert all((y == 0).all() and y.dtype == np.float32 and y.shape == (len(b),) for b, y in batches)

    shuffled = list(triplet_dataset(tiny_catalog, tiny_triplets, 16, 5, augment=False, shuffle=True,
                                    seed=3).as_numpy_iterator())[0][0]
    order = np.random.default_rng(3).permutation(5)
    np.testing.assert_allclose(shuffled, expected.reshape(5, 3, 16, 16, 3)[order].reshape(15, 16, 16, 3), atol=1e-6)


def test_triplet_dataset_augments_reproducibly_and_trains(tiny_catalog, tiny_triplets):
    import keras

    from fashionsim.triplet_data import triplet_dataset

    a = next(triplet_dataset(tiny_catalog, tiny_triplets, 16, 5, seed=1).as_numpy_iterator())[0]
    b = next(triplet_dataset(tiny_catalog, tiny_triplets, 16, 5, seed=1).as_numpy_iterator())[0]
    plain = next(triplet_dataset(tiny_catalog, tiny_triplets, 16, 5, augment=False).as_numpy_iterator())[0]
    np.testing.assert_array_equal(a, b)
    assert a.shape == plain.shape and not np.allclose(a, plain) and a.min() >= 0 and a.max() <= 1

    def margin_loss(y_true, y_pred):  # reads y_pred only, as the triplet losses of notebook 03 do
        t = keras.ops.reshape(y_pred, (-1, 3, 4))
        d_ap = keras.ops.sum(keras.ops.square(t[:, 0] - t[:, 1]), axis=-1)
        d_an = keras.ops.sum(keras.ops.square(t[:, 0] - t[:, 2]), axis=-1)
        return keras.ops.mean(keras.ops.relu(0.3 + d_ap - d_an))

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Flatten(), keras.layers.Dense(4)])
    model.compile(optimizer="sgd", loss=margin_loss)
    history = model.fit(triplet_dataset(tiny_catalog, tiny_triplets, 16, 2, seed=0), epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"][0])


def test_triplet_dataset_checks_arguments(tiny_catalog, tiny_triplets):
    from fashionsim.triplet_data import triplet_dataset

    with pytest.raises(ValueError, match="batch_triplets"):
        triplet_dataset(tiny_catalog, tiny_triplets, 16, 0)
    with pytest.raises(ValueError, match="empty"):
        triplet_dataset(tiny_catalog, tiny_triplets.iloc[:0], 16, 2)
    with pytest.raises(KeyError, match="unknown image_id"):
        triplet_dataset(tiny_catalog, tiny_triplets.assign(negative="nope"), 16, 2)


@quiet
def test_old_random_state_keyword_still_draws_the_same_with_a_future_warning(rich_catalog):
    sampler = TripletSampler().fit(rich_catalog)
    with pytest.warns(FutureWarning, match=r"sample\(random_state=\.\.\.\) is deprecated: pass seed="):
        old = sampler.sample(300, random_state=5)
    pd.testing.assert_frame_equal(old, sampler.sample(300, seed=5))
    with pytest.warns(FutureWarning, match="sample_chunks"):
        chunks = list(sampler.sample_chunks(300, 100, random_state=5))
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True),
                                  pd.concat(sampler.sample_chunks(300, 100, seed=5), ignore_index=True))
