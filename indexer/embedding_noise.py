"""Noise for synthetic copies of real passage vectors, so that a tiled archive is not
a pile of exact duplicates.

A copy of a unit vector `v` is `v + sigma * z @ B`, re-normalised, with `z`
standard normal. `B` is either the identity (isotropic noise) or the square root of
the real encodings' covariance scaled to the same trace (shaped noise). Either way
the noise has an expected squared norm of sigma² × dimension (0.96 at sigma 0.05
and 384 dimensions), so a copy keeps a cosine of about 0.7 to its original
(`indexer.synthetic_index` reports the mean it got).

Shaped noise moves a copy along the directions in which real passages differ from
one another, as a different passage on the same subject would; it is the default.
Isotropic noise in 384 dimensions makes every copy nearly equidistant from all the
others (thousands of near ties around each paragraph at a million rows): the worst
case for a graph index, not what real text looks like.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["NOISE_KINDS", "noise_basis", "perturbed"]

NOISE_KINDS = ("shaped", "isotropic")

Matrix = npt.NDArray[np.float32]


def noise_basis(samples: Matrix, *, kind: str) -> Matrix:
    """B, (dimension, dimension), such that `z @ B` is the noise: the identity, or the
    samples' covariance square root with trace `dimension` (unit variance on average)."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise kind {kind!r} is not one of {', '.join(NOISE_KINDS)}")
    dimension = samples.shape[1]
    if kind == "isotropic":
        return np.eye(dimension, dtype=np.float32)
    variances, axes = np.linalg.eigh(np.cov(np.asarray(samples, dtype=np.float64).T))
    variances = np.clip(variances, 0.0, None)
    scale = np.sqrt(dimension / variances.sum())
    basis: Matrix = ((axes * np.sqrt(variances)).T * scale).astype(np.float32)
    return basis


def perturbed(rows: Matrix, basis: Matrix, *, sigma: float, rng: np.random.Generator) -> Matrix:
    """Unit-length noisy copies of `rows` (one fresh draw of noise per row)."""
    noise = rng.standard_normal(rows.shape, dtype=np.float32) @ basis
    noisy = np.asarray(rows, dtype=np.float32) + np.float32(sigma) * noise
    unit: Matrix = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    return unit
