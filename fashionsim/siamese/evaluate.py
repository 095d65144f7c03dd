"""Street-to-shop recall of an embedding model on one catalog split (the siamese trainer's validation)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fashionsim._compat import renamed
from fashionsim.metrics import DEFAULT_KS

__all__ = ["evaluate_retrieval", "DEFAULT_KS"]


@renamed(input_size="image_size")
def evaluate_retrieval(
    model,
    cat,
    split: str = "val",
    *,
    image_size: int,
    ks: Iterable[int] = DEFAULT_KS,
    index: str = "exact",
    clean: bool = True,
    batch_size: int = 64,
    progress: bool = False,
    return_vectors: bool = False,
    **recall_options: Any,
) -> dict[str, Any]:
    """Street-to-shop recall@K of ``model`` on one split: street photos search the split's shop photos.

    Returns ``{"full": result, "clean": result or None}`` where each result is
    :func:`fashionsim.retrieval_tasks.street_to_shop_recall`'s dict (``recall``,
    ``chance``, ``map_at_r``, ...; with ``index="annoy"`` also
    ``annoy_recall``, Annoy's recall against exact search). ``clean``: also
    the street photos without occlusion, when the catalog marks them
    (a boolean ``clean`` column). ``return_vectors`` adds ``vectors`` and
    ``ids`` (the split's embeddings).
    """
    from fashionsim.embed import embed_images
    from fashionsim.retrieval_tasks import street_to_shop_recall

    part = cat.split(split)
    table = part.images
    ids = table["image_id"].to_numpy()
    vectors = embed_images(model, part.image_paths(ids), image_size, batch_size=batch_size, progress=progress)
    ks = tuple(ks)
    out: dict[str, Any] = {
        "full": street_to_shop_recall((vectors, ids), cat, split, ks=ks, index=index, **recall_options),
        "clean": None,
    }
    if clean and "clean" in table.columns:
        out["clean"] = street_to_shop_recall((vectors, ids), cat, split, ks=ks, index=index, clean_only=True,
                                             **recall_options)
    if return_vectors:
        out.update(vectors=vectors, ids=ids)
    return out
