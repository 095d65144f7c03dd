"""A vectorised hash set of int64 keys (open addressing, linear probing), for membership tests in bulk.

``np.searchsorted`` answers "is key in sorted keys?" too, but each query is a
chain of ~log2(n) dependent memory reads, slow once the keys outgrow the CPU
cache. Here a query is one hash, one gather, and rarely a second probe, all as
whole-array NumPy operations. Used by the BPR sampler (keys u·n_items + item).
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier
_EMPTY = np.int64(-1)


class KeySet:
    """A static set of non-negative int64 keys supporting vectorised ``contains``.

    Built once in O(n log n): keys sorted by home slot are placed at
    ``pos_k = max(slot_k, pos_{k-1} + 1)`` — linear probing solved as a running
    maximum (``np.maximum.accumulate``), with an overflow tail instead of
    wrapping around. Load factor ≤ 0.5.

    >>> ks = KeySet(np.array([3, 10, 12]))
    >>> ks.contains(np.array([10, 11])).tolist()
    [True, False]
    """

    def __init__(self, keys: np.ndarray) -> None:
        keys = np.sort(np.asarray(keys, dtype=np.int64).ravel())
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
        if len(keys) and keys[0] < 0:
            raise ValueError("KeySet keys must be non-negative")
        self.bits = max(4, int(np.ceil(np.log2(max(2 * len(keys), 2)))))
        slots = self._slot(keys)
        order = np.argsort(slots, kind="stable")
        slots, keys = slots[order], keys[order]
        steps = np.arange(len(keys), dtype=np.int64)
        positions = np.maximum.accumulate(slots - steps) + steps if len(keys) else steps
        size = max((1 << self.bits) + 1, int(positions[-1]) + 2 if len(keys) else 0)  # an empty slot at the end
        self.table = np.full(size, _EMPTY, dtype=np.int64)
        self.table[positions] = keys
        self.n_keys = len(keys)

    def _slot(self, keys: np.ndarray) -> np.ndarray:
        hashed = np.multiply(np.ascontiguousarray(keys, dtype=np.int64).view(np.uint64), _GOLDEN)
        np.right_shift(hashed, np.uint64(64 - self.bits), out=hashed)
        return hashed.view(np.int64)

    def contains(self, queries: np.ndarray) -> np.ndarray:
        """Boolean array: is each query one of the keys? (Any shape of int64 queries, flattened.)"""
        queries = np.asarray(queries, dtype=np.int64).ravel()
        table = self.table
        slot = self._slot(queries)
        held = table[slot]
        found = held == queries
        active = np.flatnonzero(~found & (held != _EMPTY))  # probe on only where another key sits
        slot = slot[active] + 1
        while len(active):
            held = table[slot]
            hit = held == queries[active]
            found[active[hit]] = True
            go_on = ~hit & (held != _EMPTY)
            active, slot = active[go_on], slot[go_on] + 1  # the tail guarantees an empty slot ahead
        return found

    def __len__(self) -> int:
        return self.n_keys
