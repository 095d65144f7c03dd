"""The README's command blocks run as written, so they cannot rot.

The worked example and the "Bring your own catalog" path are read out of
README.md and executed command by command through ``fashionsim.cli.main``
(in one process, so TensorFlow starts once), in a fresh folder. The only
change is size: ``--epochs N`` becomes ``--epochs 1`` and ``train siamese``
gets ``--triplets-per-epoch 42``. ``$(fashionsim ...)`` is replaced by that
command's output, as the shell would.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
from pathlib import Path

import pytest

from fashionsim.cli import main

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parent.parent / "README.md"


def _block(marker: str) -> list[str]:
    """The bash block of README.md that contains ``marker``, as one string per command."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    found = [b for b in blocks if marker in b]
    assert len(found) == 1, f"README has {len(found)} bash blocks with {marker!r}"
    return [line for line in found[0].replace("\\\n", " ").splitlines() if line.strip()]


def _capture(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


def _substitute(command: str) -> str:
    def run(match: re.Match) -> str:
        code, out = _capture(shlex.split(match.group(1))[1:])
        assert code == 0, match.group(0)
        return out.strip()

    return re.sub(r"\$\((fashionsim [^)]*)\)", run, command)


def _smaller(argv: list[str]) -> list[str]:
    argv = list(argv)
    if "--epochs" in argv:
        argv[argv.index("--epochs") + 1] = "1"
    if argv[:2] == ["train", "siamese"]:
        argv += ["--triplets-per-epoch", "42"]
    return argv


def run_block(lines: list[str]) -> list[tuple[list[str], str]]:
    """Run every ``fashionsim`` command of a README block; returns (argv, stdout) per command."""
    done = []
    for line in lines:
        words = shlex.split(_substitute(line), comments=True)
        if not words or words[0] == "source":      # `source .venv/bin/activate`: this interpreter is the venv
            continue
        assert words[0] == "fashionsim", f"README command does not start with fashionsim: {line}"
        argv = _smaller(words[1:])
        code, out = _capture(argv)
        assert code == 0, f"README command failed (exit {code}): {line}"
        done.append((argv, out))
    return done


def test_worked_example_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = _block("fashionsim train siamese --out runs/siamese")
    done = run_block(lines)
    commands = [" ".join(argv[:2]) for argv, _ in done]
    assert commands[0].startswith("demo-data") and "evaluate --siamese" in commands[-1]
    assert len(done) == len([line for line in lines if line.startswith("fashionsim")])
    for path in ["runs/siamese/model.keras", "runs/shop.npy", "runs/shop.ann", "runs/search.png",
                 "runs/dvbpr/model.keras", "runs/u007.png", "runs/eval/report.json"]:
        assert (tmp_path / path).is_file(), path
    search = next(out for argv, out in done if argv[0] == "search")
    assert search.count(" distance ") == 5 and "picture:" in search
    recommend = next(out for argv, out in done if argv[0] == "recommend" and "--user" in argv)
    assert "u007" in recommend and recommend.count(" score ") == 5
    evaluate = done[-1][1]
    assert f"wrote {(tmp_path / 'runs/eval/report.json').resolve()}" in evaluate


@pytest.fixture
def my_photos(tmp_path) -> Path:
    """A folder per product (shop/ and street/ photos) with a metadata.csv, and a JPEG query photo."""
    import pandas as pd
    from PIL import Image

    from fashionsim.data import make_demo, read_catalog

    src = make_demo(tmp_path / "source", seed=3, n_products=20, n_users=4, image_size=48).root
    cat = read_catalog(src)
    photos = tmp_path / "my_photos"
    for row in cat.images.itertuples():
        dest = photos / row.product_id / row.source / Path(row.path).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(cat.image_path(row.image_id), dest)
    cat.products[["product_id", "category", "color"]].to_csv(photos / "metadata.csv", index=False)
    street = cat.images.loc[cat.images["source"] == "street", "image_id"].iloc[0]
    Image.open(cat.image_path(street)).convert("RGB").save(tmp_path / "my_query.jpg", quality=90)
    return photos


def test_bring_your_own_catalog_runs_as_written(tmp_path, monkeypatch, my_photos):
    import pandas as pd

    monkeypatch.chdir(tmp_path)
    done = run_block(_block("fashionsim catalog import"))
    assert [argv[0] for argv, _ in done][:2] == ["catalog", "catalog"]
    info = done[0][1]
    assert "products: 20" in info and "no description" in info        # problems are named, not refused
    imported = pd.read_csv(tmp_path / "my_catalog" / "products.csv", dtype=str)
    assert len(imported) == 20 and set(imported["category"]) != {"unknown"}
    assert (tmp_path / "results.png").is_file()
    search = done[-1][1]
    hits = [line for line in search.splitlines() if " distance " in line]
    assert len(hits) == 5
    colours = set(imported["color"])
    assert all(any(f", {c} " in line for c in colours) for line in hits)   # category and colour named
