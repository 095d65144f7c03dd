"""``fashionsim recommend``: a user's top-N items, or the users a new item's picture suits."""

from __future__ import annotations

import argparse

import numpy as np

from fashionsim.commands._common import UsageError, add_catalog_argument, emit, image_files, load_catalog


def run(args: argparse.Namespace) -> int:
    from fashionsim.recommend import interactions_from_catalog, top_n, users_for_new_item
    from fashionsim.recommend.training import load_dvbpr

    if (args.user is None) == (args.image is None):
        raise UsageError("give exactly one of --user USER_ID or --image PATH")
    loaded = load_dvbpr(args.model)
    if args.image is not None:
        (path,) = image_files([args.image])
        users, scores = users_for_new_item(loaded.model, str(path), n=args.n)
        payload = {"image": str(path), "users": [{"user_id": str(loaded.user_ids[u]), "score": round(float(s), 5)}
                                                 for u, s in zip(users, scores)]}
        emit(payload, args.json, lambda d: f"users for {d['image']}:\n" + "\n".join(
            f"  {i + 1:>2}. {u['user_id']}  score {u['score']:.4f}" for i, u in enumerate(d["users"])))
        return 0
    codes = np.flatnonzero(loaded.user_ids.astype(str) == str(args.user))
    if len(codes) == 0:
        raise UsageError(f"unknown user {args.user!r}: the model knows {len(loaded.user_ids)} users "
                         f"(e.g. {', '.join(map(str, loaded.user_ids[:3]))})")
    cat = load_catalog(args.catalog)
    inter = interactions_from_catalog(cat)
    if not np.array_equal(inter.item_ids.astype(str), loaded.item_ids.astype(str)):
        raise UsageError("the model was trained on another catalog: its items differ from --catalog's")
    seen = inter.seen("train", "val", "test")
    items, scores = top_n(loaded.scores(), codes, n=args.n, exclude=seen[codes])
    payload = {"user_id": str(args.user), "already_has": int(seen[codes].nnz),
               "items": [{"product_id": str(loaded.item_ids[i]), "score": round(float(s), 5)}
                         for i, s in zip(items[0], scores[0])]}
    emit(payload, args.json, lambda d: f"top {len(d['items'])} for user {d['user_id']} "
         f"(excluding the {d['already_has']} items they have):\n" + "\n".join(
             f"  {i + 1:>2}. {it['product_id']}  score {it['score']:.4f}" for i, it in enumerate(d["items"])))
    return 0


def register(sub) -> None:
    p = sub.add_parser("recommend", help="a user id -> top-N items, or an image -> the users it suits",
                       description="Recommend with a DVBPR model saved by notebook 04 or `fashionsim train dvbpr`.")
    p.add_argument("--model", required=True, help="the folder train_dvbpr/save_dvbpr wrote (artifacts/dvbpr)")
    add_catalog_argument(p)
    p.add_argument("--user", help="a user id: recommend items they do not have yet")
    p.add_argument("--image", help="a picture of a new item: the users it suits best (cold start)")
    p.add_argument("-n", type=int, default=10, help="how many items or users (default 10)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)
