"""The command line end to end on a small generated catalog: JSON output, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fashionsim.cli import main

pytestmark = pytest.mark.slow


def run(capsys, *argv: str) -> tuple[int, dict | list | None, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    payload = json.loads(out) if code == 0 and "--json" in argv else None
    return code, payload, err


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def small_demo(workdir) -> Path:
    from fashionsim.data import make_demo

    make_demo(workdir / "demo", seed=0, n_products=40, n_users=30, image_size=64)
    return workdir / "demo"


def test_help_of_every_subcommand():
    for command in ["demo-data", "catalog", "train", "embed", "index", "search", "recommend", "evaluate", "bench"]:
        result = subprocess.run([sys.executable, "-m", "fashionsim", command, "--help"], capture_output=True,
                                text=True)
        assert result.returncode == 0 and "usage: fashionsim" in result.stdout, command


def test_demo_data(capsys, workdir):
    code, payload, _ = run(capsys, "demo-data", "--out", str(workdir / "demo-full"), "--json")
    assert code == 0
    assert payload["products"] == 360 and payload["images"] == 1440 and payload["users"] == 320


def test_siamese_embed_index_search(capsys, small_demo, workdir):
    out = workdir / "siamese"
    code, payload, _ = run(capsys, "train", "siamese", "--catalog", str(small_demo), "--out", str(out),
                           "--epochs", "1", "--triplets-per-epoch", "42", "--image-size", "48", "--json")
    assert code == 0 and Path(payload["model"]).is_file() and payload["collapsed"] is False
    emb = workdir / "shop.npy"
    code, payload, _ = run(capsys, "embed", "--model", str(out / "model.keras"), "--catalog", str(small_demo),
                           "--source", "shop", "--out", str(emb), "--json")
    assert code == 0 and payload["n"] == 80 and payload["dim"] == 128
    code, payload, _ = run(capsys, "index", str(emb), "--out", str(workdir / "shop.ann"), "--n-trees", "5", "--json")
    assert code == 0 and payload["n"] == 80
    street = sorted((small_demo / "images").glob("*_street0.png"))[:2]
    code, payload, _ = run(capsys, "search", *map(str, street), "--model", str(out / "model.keras"),
                           "--index", str(workdir / "shop.ann"), "-k", "3", "--json")
    assert code == 0 and len(payload) == 2
    for answer in payload:
        products = [hit["product_id"] for hit in answer["results"]]
        assert len(products) == 3 and len(set(products)) == 3 and all(p.startswith("p") for p in products)
        distances = [hit["distance"] for hit in answer["results"]]
        assert distances == sorted(distances)

    # the same index refuses another model's vectors: one line, exit 2
    run(capsys, "train", "siamese", "--catalog", str(small_demo), "--out", str(workdir / "other"), "--epochs", "1",
        "--triplets-per-epoch", "42", "--seed", "1", "--json")
    code, _, err = run(capsys, "search", str(street[0]), "--model", str(workdir / "other" / "model.keras"),
                       "--index", str(workdir / "shop.ann"))
    assert code == 2 and "shop.ann" in err and "model" in err.lower(), err
    assert len(err.strip().splitlines()) == 1

    # resumable: a second embed with the same model reuses nothing stale and gives the same vectors
    import numpy as np

    first = np.load(emb)
    code, _, _ = run(capsys, "embed", "--model", str(out / "model.keras"), "--catalog", str(small_demo),
                     "--source", "shop", "--out", str(emb), "--json")
    assert code == 0 and np.allclose(np.load(emb), first, atol=1e-6)
    assert not emb.with_name(emb.name + ".parts").exists()


def test_dvbpr_recommend_and_evaluate(capsys, small_demo, workdir):
    out = workdir / "dvbpr"
    code, payload, _ = run(capsys, "train", "dvbpr", "--catalog", str(small_demo), "--out", str(out),
                           "--epochs", "2", "--image-size", "32", "--batch-size", "64", "--json")
    assert code == 0 and (out / "model.keras").is_file()
    code, payload, _ = run(capsys, "recommend", "--model", str(out), "--catalog", str(small_demo), "--user", "u000",
                           "-n", "5", "--json")
    assert code == 0 and len(payload["items"]) == 5
    import pandas as pd

    inter = pd.read_csv(small_demo / "interactions.csv", dtype=str)
    had = set(inter.loc[inter.user_id == "u000", "product_id"])
    assert not had & {item["product_id"] for item in payload["items"]}   # nothing they already have
    image = next((small_demo / "images").glob("*_shop0.png"))
    code, payload, _ = run(capsys, "recommend", "--model", str(out), "--image", str(image), "-n", "4", "--json")
    assert code == 0 and len(payload["users"]) == 4

    code, _, err = run(capsys, "recommend", "--model", str(out), "--catalog", str(small_demo), "--user", "nobody")
    assert code == 2 and "unknown user" in err

    siamese = workdir / "siamese" / "model.keras"
    if siamese.is_file():
        code, payload, _ = run(capsys, "evaluate", "--catalog", str(small_demo), "--siamese", str(siamese),
                               "--dvbpr", str(out), "--out", str(workdir / "eval"), "--json")
        assert code == 0
        report = json.loads((workdir / "eval" / "report.json").read_text())
        assert set(report["representations"]) == {"triplet-trained", "untrained"}
        assert report["representations"]["untrained"]["verification"]["far"] <= 0.2
        assert set(report["recommendation_auc"]) == {"DVBPR", "popularity", "random"}
        assert (workdir / "eval" / "recall_at_k.png").is_file()


def test_bad_input_is_one_line_and_exit_2(capsys, small_demo, workdir):
    cases = [
        ("embed", "--model", str(workdir / "missing.keras"), "--catalog", str(small_demo), "--out", str(workdir / "x.npy")),
        ("search", str(workdir / "no-such.png"), "--model", "m.keras", "--index", "i.ann"),
        ("index", str(workdir / "no-embeddings.npy"), "--out", str(workdir / "i.ann")),
        ("train", "siamese", "--catalog", str(workdir / "no-catalog"), "--out", str(workdir / "t")),
        ("recommend", "--model", str(workdir / "no-model")),
        ("evaluate", "--out", str(workdir / "e")),
        ("bench", "--only", "nothing"),
    ]
    for argv in cases:
        code, _, err = run(capsys, *argv)
        assert code == 2, argv
        assert len(err.strip().splitlines()) == 1 and "error" in err, (argv, err)
    not_an_image = workdir / "notes.png"
    not_an_image.write_text("not a picture")
    siamese = workdir / "siamese" / "model.keras"
    if siamese.is_file():
        code, _, err = run(capsys, "search", str(not_an_image), "--model", str(siamese), "--index",
                           str(workdir / "shop.ann"))
        assert code == 2 and "notes.png" in err
    assert not list(workdir.glob("x.npy*")) and not (workdir / "e").exists()


# ------------------------------------------------------------------ every user, --show, quiet output
@pytest.fixture(scope="module")
def rec_catalog(workdir) -> Path:
    """A small demo catalog plus two users: one who has every item, one who has all but two."""
    import shutil

    import pandas as pd

    from fashionsim.data import make_demo

    src = workdir / "rec-src"
    make_demo(src, seed=1, n_products=20, n_users=8, image_size=32)
    out = workdir / "rec"
    shutil.copytree(src, out)
    products = pd.read_csv(out / "products.csv", dtype=str)["product_id"].tolist()
    inter = pd.read_csv(out / "interactions.csv", dtype=str)
    # (the last item in test: BPR training needs a negative for every user)
    extra = [{"user_id": "uall", "product_id": p, "split": "train" if p != products[-1] else "test"}
             for p in products]
    extra += [{"user_id": "umost", "product_id": p, "split": "train"} for p in products[:-2]]
    pd.concat([inter, pd.DataFrame(extra)]).to_csv(out / "interactions.csv", index=False)
    return out


@pytest.fixture(scope="module")
def rec_model(rec_catalog, workdir) -> Path:
    out = workdir / "rec-dvbpr"
    code = main(["train", "dvbpr", "--catalog", str(rec_catalog), "--out", str(out), "--epochs", "1",
                 "--image-size", "32", "--batch-size", "64", "--json"])
    assert code == 0
    return out


def test_recommend_works_for_every_user(capsys, rec_catalog, rec_model):
    import math

    import pandas as pd

    inter = pd.read_csv(rec_catalog / "interactions.csv", dtype=str)
    n_items = len(pd.read_csv(rec_catalog / "products.csv"))
    users = sorted(inter["user_id"].unique())
    assert users[-1] == "umost" and "uall" in users
    for user in users:
        code = main(["recommend", "--model", str(rec_model), "--catalog", str(rec_catalog), "--user", user,
                     "-n", "5", "--json"])
        out, err = capsys.readouterr()
        assert code == 0, (user, err)
        payload = json.loads(out, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c} for {user}"))
        had = set(inter.loc[inter.user_id == user, "product_id"])
        got = [item["product_id"] for item in payload["items"]]
        assert not had & set(got), user                                     # never what they already have
        assert len(got) == len(set(got)) == min(5, n_items - len(had)), user
        assert all(math.isfinite(item["score"]) for item in payload["items"])
        assert all(item["category"] and item["color"] for item in payload["items"])
        scores = [item["score"] for item in payload["items"]]
        assert scores == sorted(scores, reverse=True)
        if len(got) < 5:
            assert "note" in payload, user
    # the user who has everything: nothing back, said so, exit 0 (text output too)
    code = main(["recommend", "--model", str(rec_model), "--catalog", str(rec_catalog), "--user", "uall"])
    out, _ = capsys.readouterr()
    assert code == 0 and "every item" in out and "-inf" not in out.lower()
    code = main(["recommend", "--model", str(rec_model), "--catalog", str(rec_catalog), "--user", "umost", "-n", "9"])
    out, _ = capsys.readouterr()
    assert code == 0 and "only 2 items" in out and out.count(" score ") == 2


def test_recommend_text_names_category_and_colour_and_show(capsys, rec_catalog, rec_model, workdir):
    from PIL import Image

    import pandas as pd

    products = pd.read_csv(rec_catalog / "products.csv", dtype=str).set_index("product_id")
    user = pd.read_csv(rec_catalog / "interactions.csv", dtype=str).groupby("user_id").size().idxmin()
    picture = workdir / "shown" / "rec.png"
    code = main(["recommend", "--model", str(rec_model), "--catalog", str(rec_catalog), "--user", user,
                 "-n", "3", "--show", str(picture)])
    out, _ = capsys.readouterr()
    assert code == 0
    lines = [line for line in out.splitlines() if " score " in line]
    assert len(lines) == 3
    for line in lines:
        pid = line.split()[1]
        assert f"{products.at[pid, 'category']}, {products.at[pid, 'color']}" in line
    assert f"picture: {picture.resolve()}" in out
    with Image.open(picture) as img:
        assert img.format == "PNG" and img.width > 300 and img.height > 150
    image = next((rec_catalog / "images").glob("*_shop0.png"))
    code = main(["recommend", "--model", str(rec_model), "--catalog", str(rec_catalog), "--image", str(image),
                 "-n", "3", "--show", str(workdir / "shown" / "cold.png"), "--json"])
    out, _ = capsys.readouterr()
    assert code == 0 and Path(json.loads(out)["picture"]).is_file()
    code = main(["recommend", "--model", str(rec_model), "--catalog", str(rec_catalog), "--user", "u003",
                 "--show", str(workdir / "shown" / "rec.jpg")])
    _, err = capsys.readouterr()
    assert code == 2 and ".png" in err


def test_search_show_and_text_names_category_and_colour(capsys, small_demo, workdir):
    from PIL import Image

    import pandas as pd

    model = workdir / "siamese" / "model.keras"
    if not model.is_file():
        assert main(["train", "siamese", "--catalog", str(small_demo), "--out", str(workdir / "siamese"),
                     "--epochs", "1", "--triplets-per-epoch", "42", "--json"]) == 0
    emb, index = workdir / "show-shop.npy", workdir / "show-shop.ann"
    assert main(["embed", "--model", str(model), "--catalog", str(small_demo), "--source", "shop",
                 "--out", str(emb), "--json"]) == 0
    assert main(["index", str(emb), "--out", str(index), "--n-trees", "5", "--json"]) == 0
    capsys.readouterr()
    street = sorted((small_demo / "images").glob("*_street0.png"))[:2]
    picture = workdir / "shown" / "search.png"
    code = main(["search", *map(str, street), "--model", str(model), "--index", str(index), "-k", "4",
                 "--show", str(picture)])
    out, _ = capsys.readouterr()
    assert code == 0
    products = pd.read_csv(small_demo / "products.csv", dtype=str).set_index("product_id")
    lines = [line for line in out.splitlines() if " distance " in line]
    assert len(lines) == 8
    for line in lines:
        pid = line.split()[1]
        assert f"{products.at[pid, 'category']}, {products.at[pid, 'color']}" in line
    with Image.open(picture) as img:
        assert img.format == "PNG" and img.width > 300 and img.height > 200
    code = main(["search", str(street[0]), "--model", str(model), "--index", str(index), "-k", "2", "--json"])
    out, _ = capsys.readouterr()
    hit = json.loads(out)[0]["results"][0]
    assert code == 0 and hit["category"] == products.at[hit["product_id"], "category"]


def test_evaluate_prints_the_paths_it_wrote(capsys, small_demo, workdir):
    model = workdir / "siamese" / "model.keras"
    if not model.is_file():
        pytest.skip("needs the siamese model of test_siamese_embed_index_search")
    out_dir = workdir / "eval-text"
    code = main(["evaluate", "--catalog", str(small_demo), "--siamese", str(model), "--out", str(out_dir)])
    out, _ = capsys.readouterr()
    assert code == 0
    written = [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("wrote ")]
    assert str((out_dir / "report.json").resolve()) in written
    assert len(written) >= 3 and all(Path(p).is_file() for p in written)


_TF_LINE = r"(absl::InitializeLog|cuda|cuInit|oneDNN|tensorflow|TF-TRT|^[IWEF]\d{4} )"


def test_quiet_by_default_no_tensorflow_lines_on_stderr(rec_catalog, rec_model):
    import os
    import re

    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "GLOG_minloglevel", "GRPC_VERBOSITY")}
    result = subprocess.run([sys.executable, "-m", "fashionsim", "recommend", "--model", str(rec_model),
                             "--catalog", str(rec_catalog), "--user", "u000", "-n", "2"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "score" in result.stdout
    tf_lines = [line for line in result.stderr.splitlines() if re.search(_TF_LINE, line, flags=re.I)]
    assert not tf_lines, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_top_n_never_returns_excluded_items_and_returns_fewer_when_few_are_left():
    import numpy as np
    import scipy.sparse as sp

    from fashionsim.recommend.scoring import top_n

    scores = np.array([[5.0, 4, 3, 2], [1, 2, 3, 4], [np.nan, -np.inf, 0, 1]])
    exclude = sp.csr_matrix(np.array([[1, 1, 1, 1], [1, 0, 1, 0], [0, 0, 0, 1]]))
    items, values = top_n(scores, [0, 1, 2], n=3, exclude=exclude)
    assert items.shape == (3, 3)
    assert items[0].tolist() == [-1, -1, -1]                       # has everything: nothing real
    assert items[1].tolist() == [3, 1, -1] and values[1, :2].tolist() == [4, 2]
    assert set(items[2].tolist()) == {0, 1, 2}                     # NaN / -inf scores still beat excluded items
    assert top_n(scores, [0], n=3, exclude=exclude)[0].shape == (1, 0)
    assert top_n(scores, [1], n=10, exclude=exclude)[0].tolist() == [[3, 1]]
    with pytest.raises(ValueError, match="exclude must be"):
        top_n(scores, [1], n=2, exclude=exclude[[1]])              # a per-user slice is not the full matrix


def test_one_demo_location_from_the_environment_or_the_user_cache(monkeypatch, tmp_path):
    import re
    import sys as _sys

    from fashionsim.data import default_demo_root

    monkeypatch.setenv("FASHIONSIM_DATA_DIR", str(tmp_path / "data"))
    assert default_demo_root() == tmp_path / "data" / "demo"
    monkeypatch.delenv("FASHIONSIM_DATA_DIR")
    if _sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert default_demo_root() == tmp_path / "xdg" / "fashionsim" / "demo"
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    demo_target = re.search(r"^demo:.*?(?=^\S)", makefile, flags=re.M | re.S).group(0)
    (demo_line,) = [line for line in demo_target.splitlines() if "demo-data" in line]
    assert "--out" not in demo_line                                     # make demo uses the CLI's location
    assert not re.search(r"^export FASHIONSIM_DATA_DIR", makefile, flags=re.M)


def test_json_output_is_strict():
    from fashionsim.commands._common import dumps

    text = dumps({"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5], "c": {"d": 2}})
    assert json.loads(text) == {"a": None, "b": [None, None, 1.5], "c": {"d": 2}}
