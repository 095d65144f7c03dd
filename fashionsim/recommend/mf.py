"""BPR matrix factorisation in NumPy: mini-batch Adam or SGD on BPR-Opt, every step a handful of whole-array operations.

The model is BPR-MF's: user vectors θ (n_users, K), item vectors γ (n_items, K)
and item biases β, scored x_uij = θ_u · (γ_i − γ_j) + β_i − β_j. A step takes a
batch of B triples and minimises

    mean_b softplus(−x_b) + λ_u mean_b ‖θ_u‖² + λ_i mean_b (‖γ_i‖² + ‖γ_j‖² + β_i² + β_j²)

— the loss of the Keras model :func:`~fashionsim.recommend.models.build_bpr_mf`
(a batch mean, the L2 on the rows the batch looks up) — with the gradients
written out by hand. Per-triple gradients are summed into their rows by one
sparse product: a (rows × B) matrix with one entry per column (the triple's
row) times the (B, w) values, which is one pass of compiled code, no Python
loop per triple and no graph tracing.

* :class:`Adam` (Keras' update rule, dense over the tables). As in Keras, whose
  Adam squares the gradient of an embedding lookup slice by slice, the second
  moment of a row accumulates the squares of its per-triple gradients (not the
  square of their sum): one NumPy step equals one Keras step on the Keras model.
  The sums are taken in float64 in batch order, then rounded to float32.
* :class:`SGD` (plain gradient descent on the batch-mean loss): the derivative
  ``d`` of each triple is the sparse matrix's entry, so the product gives
  Σ_b d_b (γ_i − γ_j) per user and Σ_b ±d_b θ_u per item directly in float32;
  the L2 part is added per row from occurrence counts. The fast path: an epoch
  over MovieLens-100k (100,000 triples, K = 10) is a few milliseconds.

:func:`fashionsim.recommend.train_bpr_mf` drives it (notebook 04).

>>> rng = np.random.default_rng(0)
>>> params = init_params(30, 40, 4, rng)
>>> u, i, j = rng.integers(0, 30, 512), rng.integers(0, 20, 512), rng.integers(20, 40, 512)
>>> first, _ = run_epoch(params, Adam(3e-2), u, i, j, batch_size=128, lambda_u=1e-3, lambda_i=1e-3)
>>> later, accuracy = run_epoch(params, Adam(3e-2), u, i, j, batch_size=128, lambda_u=1e-3, lambda_i=1e-3)
>>> bool(later < first < np.log(2.0) + 1e-3), accuracy > 0.9
(True, True)
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp


@dataclasses.dataclass
class MFParams:
    """The BPR-MF tables: ``user`` (n_users, K), ``item`` (n_items, K), ``bias`` (n_items,) or None; float32."""

    user: np.ndarray
    item: np.ndarray
    bias: np.ndarray | None

    def arrays(self) -> list[np.ndarray]:
        return [self.user, self.item] + ([self.bias] if self.bias is not None else [])


def init_params(n_users: int, n_items: int, latent_dim: int, rng: np.random.Generator, *,
                item_bias: bool = True, stddev: float = 0.01) -> MFParams:
    """Vectors from N(0, ``stddev``²) (as the Keras model's initialiser), biases 0."""
    user = rng.normal(0.0, stddev, size=(n_users, latent_dim)).astype(np.float32)
    item = rng.normal(0.0, stddev, size=(n_items, latent_dim)).astype(np.float32)
    return MFParams(user, item, np.zeros(n_items, np.float32) if item_bias else None)


class SGD:
    """Plain gradient descent, ``p -= learning_rate · g`` (rows a batch does not touch do not move)."""

    needs_squares = False

    def __init__(self, learning_rate: float):
        self.learning_rate = float(learning_rate)
        self.iterations = 0

    def apply(self, params: list[np.ndarray], grads: list[np.ndarray], squares=None) -> None:
        self.iterations += 1
        for p, g in zip(params, grads):
            g *= np.float32(self.learning_rate)
            p -= g


class Adam:
    """Adam with Keras' defaults (β₁ 0.9, β₂ 0.999, ε 1e-7) over a list of arrays, updated in place."""

    needs_squares = True

    def __init__(self, learning_rate: float, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7):
        self.learning_rate, self.beta_1, self.beta_2, self.epsilon = float(learning_rate), beta_1, beta_2, epsilon
        self.iterations = 0
        self._m: list[np.ndarray] | None = None
        self._v: list[np.ndarray] | None = None

    def apply(self, params: list[np.ndarray], grads: list[np.ndarray], squares: list[np.ndarray] | None = None) -> None:
        """One update; ``squares`` (default ``grads``²) is what enters the second moment."""
        if self._m is None:
            self._m = [np.zeros_like(p) for p in params]
            self._v = [np.zeros_like(p) for p in params]
        self.iterations += 1
        t = self.iterations
        step = self.learning_rate * np.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)
        squares = [np.square(g) for g in grads] if squares is None else squares
        for p, g, g2, m, v in zip(params, grads, squares, self._m, self._v):
            m *= self.beta_1
            m += (1.0 - self.beta_1) * g
            v *= self.beta_2
            v += (1.0 - self.beta_2) * g2
            p -= (step * m / (np.sqrt(v) + self.epsilon)).astype(p.dtype, copy=False)


class _Batch(NamedTuple):
    """A batch's looked-up rows, scores x (B,) and d = ∂(mean softplus(−x))/∂x = −σ(−x) / B (float32)."""

    theta: np.ndarray
    gi: np.ndarray
    gj: np.ndarray
    diff: np.ndarray
    bi: np.ndarray | None
    bj: np.ndarray | None
    x: np.ndarray
    d: np.ndarray


class _Buffers:
    """Reusable (B, K) arrays for the gathers of one epoch's steps (fewer temporaries, memory that stays hot)."""

    def __init__(self, size: int, latent_dim: int):
        self.theta, self.gi, self.gj, self.diff = (np.empty((size, latent_dim), np.float32) for _ in range(4))
        self.pairs, self.signed = np.empty(2 * size, np.int32), np.empty(2 * size, np.float32)
        self.ptr = np.arange(size + 1, dtype=np.int32)


def _forward(params: MFParams, u: np.ndarray, i: np.ndarray, j: np.ndarray, buffers: _Buffers | None = None) -> _Batch:
    """Look the batch's rows up and score it (shared by both optimisers; ``buffers``: write into them)."""
    n = len(u)
    out = (None,) * 4 if buffers is None else (buffers.theta[:n], buffers.gi[:n], buffers.gj[:n], buffers.diff[:n])
    theta, gi, gj = (np.take(table, rows, axis=0, out=o, mode="clip")
                     for table, rows, o in ((params.user, u, out[0]), (params.item, i, out[1]), (params.item, j, out[2])))
    diff = np.subtract(gi, gj, out=out[3])
    x = np.einsum("bk,bk->b", theta, diff)
    bi = bj = None
    if params.bias is not None:
        bi, bj = np.take(params.bias, i), np.take(params.bias, j)
        x += bi - bj
    sig = 0.5 * (1.0 - np.tanh(0.5 * x))  # σ(−x), stable
    return _Batch(theta, gi, gj, diff, bi, bj, x, (-sig / n).astype(np.float32))


def _loss(user: np.ndarray, item: np.ndarray, bias: np.ndarray | None, x: np.ndarray, user_counts: np.ndarray,
          item_counts: np.ndarray, lambda_u: float, lambda_i: float) -> float:
    """The batch's BPR-Opt loss: mean softplus(−x) plus the L2 on the rows it looks up.

    The L2 sum over the batch's lookups is Σ_rows (times looked up) × ‖row‖²: from the tables, not the gathers.
    """
    item_norms = np.einsum("rk,rk->r", item, item)
    if bias is not None:
        item_norms += np.square(bias)
    reg = lambda_u * np.dot(user_counts, np.einsum("rk,rk->r", user, user)) + lambda_i * np.dot(item_counts, item_norms)
    softplus = np.maximum(-x, 0.0) + np.log1p(np.exp(-np.abs(x)))  # softplus(−x), stable
    return float(np.mean(softplus) + reg / len(x))


def _ones_sums(rows: np.ndarray, n_rows: int, values: np.ndarray) -> np.ndarray:
    """Σ values[b] into row ``rows[b]`` in float64, in batch order (as ``np.bincount`` adds), shape (n_rows, w)."""
    ones = sp.csc_matrix((np.ones(len(rows)), rows, np.arange(len(rows) + 1)), shape=(n_rows, len(rows)))
    return ones @ values


def _adam_grads(params: MFParams, b: _Batch, u, i, j, lambda_u: float, lambda_i: float):
    """Per-row sums of the per-triple gradients (L2 included) and of their squares, float32."""
    n = len(u)
    cu, ci = np.float32(2.0 * lambda_u / n), np.float32(2.0 * lambda_i / n)
    k = params.user.shape[1]
    per_user = b.d[:, None] * b.diff + cu * b.theta
    both = _ones_sums(u, len(params.user), np.hstack([per_user, np.square(per_user)])).astype(np.float32)
    grads, squares = [both[:, :k]], [both[:, k:]]
    dtheta = b.d[:, None] * b.theta
    per_item = [np.concatenate([dtheta + ci * b.gi, ci * b.gj - dtheta])]
    if b.bi is not None:
        per_item.append(np.concatenate([b.d + ci * b.bi, ci * b.bj - b.d])[:, None])
    per_item = np.hstack(per_item)
    both = _ones_sums(np.concatenate([i, j]), len(params.item), np.hstack([per_item, np.square(per_item)]))
    both = both.astype(np.float32)
    width = per_item.shape[1]
    grads.append(both[:, :k])
    squares.append(both[:, width:width + k])
    if b.bi is not None:
        grads.append(both[:, k])
        squares.append(both[:, width + k])
    return grads, squares


class _SGDTables:
    """The tables as the SGD path steps them: θ with a column of ones, γ with the biases as its last column.

    Then x = [θ_u, 1] · ([γ_i, β_i] − [γ_j, β_j]) is one row product, and Σ ±d_b [θ_u, 1] per item row holds
    the bias gradient in its last column. ``store`` writes the tables back into ``params``.
    """

    def __init__(self, params: MFParams):
        self.k, extra = params.user.shape[1], int(params.bias is not None)
        self.user = np.ones((len(params.user), self.k + extra), np.float32)
        self.user[:, :self.k] = params.user
        self.item = np.column_stack(params.arrays()[1:]).astype(np.float32, copy=False)
        self.scored = MFParams(self.user, self.item, None)
        self.vectors = self.user[:, :self.k]  # the trained part of the user table (a view)

    def store(self, params: MFParams) -> None:
        params.user[...] = self.vectors
        params.item[...] = self.item[:, :self.k]
        if params.bias is not None:
            params.bias[...] = self.item[:, self.k]


def _sgd_step(tables: _SGDTables, optimizer: SGD, u: np.ndarray, i: np.ndarray, j: np.ndarray, lambda_u: float,
              lambda_i: float, buffers: _Buffers | None = None) -> tuple[float, float]:
    """:func:`step` for SGD, in float32: ``d`` is the sparse matrices' entries, the L2 part comes from row counts.

    Column b of the user matrix holds d_b at row u_b (times [γ_i, β_i] − [γ_j, β_j]); column b of the item
    matrix holds +d_b at row i_b and −d_b at row j_b (times [θ_u, 1]: the vectors' and the biases' gradients).
    """
    n = len(u)
    buffers = buffers if buffers is not None else _Buffers(n, tables.user.shape[1])
    b = _forward(tables.scored, u, i, j, buffers)
    users = u.astype(np.int32)
    pairs = buffers.pairs[:2 * n]  # i_0, j_0, i_1, j_1, ...: the item rows of the batch, interleaved
    pairs[0::2], pairs[1::2] = i, j
    signed = buffers.signed[:2 * n]
    signed[0::2] = b.d
    np.negative(b.d, out=signed[1::2])
    n_users, n_items = len(tables.user), len(tables.item)
    user_counts, item_counts = np.bincount(users, minlength=n_users), np.bincount(pairs, minlength=n_items)
    loss = _loss(tables.vectors, tables.item, None, b.x, user_counts, item_counts, lambda_u, lambda_i)
    ptr = buffers.ptr[:n + 1]
    g_user = (sp.csc_matrix((b.d, users, ptr), shape=(n_users, n)) @ b.diff)[:, :tables.k]
    g_user += (2.0 * lambda_u / n * user_counts).astype(np.float32)[:, None] * tables.vectors
    g_item = sp.csc_matrix((signed, pairs, 2 * ptr), shape=(n_items, n)) @ b.theta
    g_item += (2.0 * lambda_i / n * item_counts).astype(np.float32)[:, None] * tables.item
    optimizer.apply([tables.vectors, tables.item], [g_user, g_item])
    return loss, np.count_nonzero(b.x > 0) / n


def step(params: MFParams, optimizer: Adam | SGD, u: np.ndarray, i: np.ndarray, j: np.ndarray, *,
         lambda_u: float, lambda_i: float) -> tuple[float, float]:
    """One optimiser step on a batch of triples; returns (the batch loss, the fraction with x_uij > 0)."""
    if not optimizer.needs_squares:
        tables = _SGDTables(params)
        result = _sgd_step(tables, optimizer, np.asarray(u), np.asarray(i), np.asarray(j), lambda_u, lambda_i)
        tables.store(params)
        return result
    b = _forward(params, u, i, j)
    grads, squares = _adam_grads(params, b, u, i, j, lambda_u, lambda_i)
    loss = _loss(params.user, params.item, params.bias, b.x, np.bincount(u, minlength=len(params.user)),
                 np.bincount(np.concatenate([i, j]), minlength=len(params.item)), lambda_u, lambda_i)
    optimizer.apply(params.arrays(), grads, squares)
    return loss, float(np.mean(b.x > 0))


def run_epoch(params: MFParams, optimizer: Adam | SGD, u: np.ndarray, i: np.ndarray, j: np.ndarray, *,
              batch_size: int, lambda_u: float, lambda_i: float) -> tuple[float, float]:
    """Steps over the triples in order, ``batch_size`` at a time; returns the triple-weighted mean loss and accuracy."""
    losses, accuracies, sizes = [], [], []
    sgd = not optimizer.needs_squares
    if sgd:
        tables = _SGDTables(params)
        buffers = _Buffers(min(batch_size, len(u)), tables.user.shape[1])
    for k in range(0, len(u), batch_size):
        stop = min(k + batch_size, len(u))
        if sgd:
            loss, accuracy = _sgd_step(tables, optimizer, u[k:stop], i[k:stop], j[k:stop], lambda_u, lambda_i, buffers)
        else:
            loss, accuracy = step(params, optimizer, u[k:stop], i[k:stop], j[k:stop], lambda_u=lambda_u,
                                  lambda_i=lambda_i)
        losses.append(loss)
        accuracies.append(accuracy)
        sizes.append(stop - k)
    if sgd:
        tables.store(params)
    return float(np.average(losses, weights=sizes)), float(np.average(accuracies, weights=sizes))
