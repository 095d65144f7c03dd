"""``fashionsim recommend``: a user's top-N items, or the users a new item's picture suits."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from fashionsim.commands._common import UsageError, add_catalog_argument, catalog_from_args, emit, image_files
from fashionsim.commands._show import describe, label, product_info, save_grid

_HISTORY_SHOWN = 8   # items of a user's history drawn by --show


def _line(rank: int, pid: str, entry: dict, score: float) -> str:
    return "  ".join(p for p in (f"  {rank:>2}. {pid}", label(entry), f"score {score:.4f}") if p)


def _for_image(args, loaded) -> int:
    from fashionsim.recommend import users_for_new_item

    (path,) = image_files([args.image])
    n = min(args.n, len(loaded.user_ids))
    users, scores = users_for_new_item(loaded.model, str(path), n=n)
    payload = {"image": str(path), "users": [{"user_id": str(loaded.user_ids[u]), "score": round(float(s), 5)}
                                             for u, s in zip(users, scores)]}
    if n < args.n:
        payload["note"] = f"the model knows only {n} users (asked for {args.n})"
    if args.show:
        cat = catalog_from_args(args)
        info = product_info(cat)
        from fashionsim.recommend import interactions_from_catalog

        inter = interactions_from_catalog(cat)
        seen = inter.seen("train", "val", "test")
        codes = dict(zip(inter.user_ids.astype(str), range(inter.n_users)))
        rows, titles, labels = [[Path(path)]], [["new item\n" + path.name[:18]]], ["new item"]
        for u in payload["users"]:
            had = seen[codes[u["user_id"]]].indices[:_HISTORY_SHOWN] if u["user_id"] in codes else []
            pids = [str(inter.item_ids[i]) for i in had]
            rows.append([info.at[p, "image_id"] for p in pids] or [None])
            titles.append([f"{p}\n{label(describe(info, p))}" for p in pids] or [""])
            labels.append(f"{u['user_id']}\nscore {u['score']:.3f}")
        payload["picture"] = str(save_grid(args.show, cat, rows, titles, labels,
                                           f"users {path.name} suits best, each with items they have"))
    emit(payload, args.json, lambda d: f"users for {d['image']}:\n" + "\n".join(
        f"  {i + 1:>2}. {u['user_id']}  score {u['score']:.4f}" for i, u in enumerate(d["users"]))
        + (f"\n{d['note']}" if "note" in d else "") + (f"\npicture: {d['picture']}" if "picture" in d else ""))
    return 0


def _for_user(args, loaded) -> int:
    import scipy.sparse as sp

    from fashionsim.recommend import interactions_from_catalog, top_n

    codes = np.flatnonzero(loaded.user_ids.astype(str) == str(args.user))
    if len(codes) == 0:
        raise UsageError(f"unknown user {args.user!r}: the model knows {len(loaded.user_ids)} users "
                         f"(e.g. {', '.join(map(str, loaded.user_ids[:3]))})")
    cat = catalog_from_args(args)
    inter = interactions_from_catalog(cat)
    if not np.array_equal(inter.item_ids.astype(str), loaded.item_ids.astype(str)):
        raise UsageError("the model was trained on another catalog: its items differ from --catalog's")
    in_catalog = np.flatnonzero(inter.user_ids.astype(str) == str(args.user))
    if len(in_catalog) == 0:
        raise UsageError(f"user {args.user!r} is known to the model but has no interactions in --catalog")
    had = inter.seen("train", "val", "test")[in_catalog[0]].indices      # every item the user already has
    # top_n indexes `exclude` by user code, like the scores: the user's items sit in the model's row for them.
    exclude = sp.csr_matrix((np.ones(len(had), dtype=np.int8), (np.full(len(had), codes[0]), had)),
                            shape=(len(loaded.user_ids), len(loaded.item_ids)))
    items, scores = top_n(loaded.scores(), codes, n=args.n, exclude=exclude)
    real = items[0] >= 0
    info = product_info(cat)
    entries = []
    for i, s in zip(items[0][real], scores[0][real]):
        pid = str(loaded.item_ids[i])
        entries.append({"product_id": pid, **describe(info, pid), "score": round(float(s), 5)})
    left = len(loaded.item_ids) - len(had)
    payload = {"user_id": str(args.user), "already_has": int(len(had)), "unseen": int(left), "items": entries}
    if len(entries) < args.n:
        payload["note"] = (f"user {args.user} already has every item: nothing to recommend" if not entries else
                           f"only {len(entries)} items user {args.user} does not have yet (asked for {args.n})")
    if args.show:
        history = [str(loaded.item_ids[i]) for i in had[:_HISTORY_SHOWN]]
        rows = [[info.at[p, "image_id"] for p in history] or [None],
                [info.at[e["product_id"], "image_id"] for e in entries] or [None]]
        titles = [[f"{p}\n{label(describe(info, p))}" for p in history] or [""],
                  [f"{e['product_id']}\n{label(e)}\nscore {e['score']:.3f}" for e in entries] or [""]]
        payload["picture"] = str(save_grid(args.show, cat, rows, titles, ["has", "recommended"],
                                           f"user {args.user}: items they have and the top {len(entries)}"))

    def text(d):
        head = (f"top {len(d['items'])} for user {d['user_id']} "
                f"(excluding the {d['already_has']} items they have):")
        lines = [head] + [_line(i + 1, it["product_id"], it, it["score"]) for i, it in enumerate(d["items"])]
        if "note" in d:
            lines.append(d["note"])
        if "picture" in d:
            lines.append(f"picture: {d['picture']}")
        return "\n".join(lines)

    emit(payload, args.json, text)
    return 0


def run(args: argparse.Namespace) -> int:
    from fashionsim.recommend.training import load_dvbpr

    if (args.user is None) == (args.image is None):
        raise UsageError("give exactly one of --user USER_ID or --image PATH")
    if args.n < 1:
        raise UsageError(f"-n must be at least 1, got {args.n}")
    loaded = load_dvbpr(args.model)
    return _for_image(args, loaded) if args.image is not None else _for_user(args, loaded)


def register(sub) -> None:
    p = sub.add_parser("recommend", help="a user id -> top-N items, or an image -> the users it suits",
                       description="Recommend with a DVBPR model saved by notebook 04 or `fashionsim train dvbpr`. "
                                   "A user never gets back an item they already have; when fewer than -n are "
                                   "left, fewer are listed and the output says so.")
    p.add_argument("--model", required=True, help="the folder train_dvbpr/save_dvbpr wrote (artifacts/dvbpr)")
    add_catalog_argument(p)
    p.add_argument("--user", help="a user id: recommend items they do not have yet")
    p.add_argument("--image", help="a picture of a new item (any image file of yours): the users it suits best "
                                   "(cold start)")
    p.add_argument("-n", type=int, default=10, help="how many items or users (default 10)")
    p.add_argument("--show", metavar="FILE.png",
                   help="also save a picture: the user's items and the recommendations (or the new item and, "
                        "per user it suits, items they have), captioned with product id, category, colour, score")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)
