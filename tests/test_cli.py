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
    for command in ["demo-data", "train", "embed", "index", "search", "recommend", "evaluate", "bench"]:
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
