"""Rotation conversions and interpolation for arrays with any leading shape.

Thin, shape-preserving wrappers around ``scipy.spatial.transform.Rotation`` (which does
the numerics: it is well tested and handles the 180-degree and tiny-angle cases), so
callers can pass ``(F, J, 3)`` arrays without flattening by hand. Conventions:

- axis-angle ("rotvec"): (..., 3), radians, axis * angle.
- matrices: (..., 3, 3), column vectors (``R @ v``).
- quaternions: (..., 4), scalar LAST (x, y, z, w), scipy's order.
- 6D: (..., 6), the first two COLUMNS of the matrix, concatenated (Zhou et al. 2019,
  "On the Continuity of Rotation Representations"), the representation the learned
  models use.

Torch code (fitting, training) uses ``roma`` for the same conversions on tensors.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation


def _flat(array: np.ndarray, trailing: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...]]:
    array = np.asarray(array, dtype=np.float64)
    if array.shape[array.ndim - len(trailing):] != trailing:
        raise ValueError(f"expected an array of shape (..., {', '.join(map(str, trailing))}), "
                         f"got {array.shape}")
    lead = array.shape[: array.ndim - len(trailing)]
    return array.reshape((-1,) + trailing), lead


def axis_angle_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrices (float64)."""
    flat, lead = _flat(rotvec, (3,))
    return Rotation.from_rotvec(flat).as_matrix().reshape(lead + (3, 3))


def matrix_to_axis_angle(matrix: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices -> (..., 3) axis-angle, angle in [0, pi]."""
    flat, lead = _flat(matrix, (3, 3))
    return Rotation.from_matrix(flat).as_rotvec().reshape(lead + (3,))


def axis_angle_to_quat(rotvec: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 4) unit quaternions (x, y, z, w), w >= 0."""
    flat, lead = _flat(rotvec, (3,))
    return Rotation.from_rotvec(flat).as_quat(canonical=True).reshape(lead + (4,))


def quat_to_axis_angle(quat: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions (x, y, z, w), any norm > 0 -> (..., 3) axis-angle."""
    flat, lead = _flat(quat, (4,))
    return Rotation.from_quat(flat).as_rotvec().reshape(lead + (3,))


def align_quaternions(quats: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``quats`` (..., 4) with each one's sign flipped where that puts it in the same
    hemisphere as ``reference`` (..., 4, broadcast): q and -q are the same rotation, and
    interpolating toward the one nearer the reference takes the short way round."""
    quats = np.asarray(quats)
    dots = np.sum(quats * reference, axis=-1, keepdims=True)
    return quats * np.where(dots < 0.0, -1.0, 1.0)


def continuous_quaternions(quats: np.ndarray) -> np.ndarray:
    """(F, ..., 4) quaternions with signs flipped along axis 0 so each is in the same
    hemisphere as the one before it (non-negative dot), e.g. keys that a player slerps
    between, or spline anchors. A new array; the first row is kept as it is."""
    quats = np.array(quats, copy=True)
    if len(quats) > 1:
        dots = np.sum(quats[1:] * quats[:-1], axis=-1)
        # Flipping q_k flips its dot with q_(k+1) too, so the signs accumulate.
        quats[1:] *= np.cumprod(np.where(dots < 0.0, -1.0, 1.0), axis=0)[..., None]
    return quats


def quat_to_axis_angle_fast(quats: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions (x, y, z, w), any norm > 0 -> (..., 3) axis-angle, angle <= pi.

    Plain numpy rather than ``Rotation.from_quat(q).as_rotvec()``: with scipy 1.17 on
    the 2-core dev machine, ``as_rotvec`` took ~12 ms for the 16.5k rotations of a
    300-frame range (the whole budget is 20 ms); this takes ~2 ms, same result to 1e-15.
    """
    # Canonical sign (w >= 0) so the angle 2*atan2(|v|, w) lies in [0, pi].
    quats = quats * np.where(quats[..., 3:] < 0.0, -1.0, 1.0)
    vector, w = quats[..., :3], quats[..., 3]
    sin_half = np.sqrt(np.einsum("...k,...k->...", vector, vector))
    angle = 2.0 * np.arctan2(sin_half, w)
    # angle / |v|, with its limit 2 / w as |v| -> 0 (no division by zero at identity).
    tiny = sin_half < 1e-12
    # (w >= 0 here; the floor only guards the degenerate all-zero quaternion.)
    scale = np.where(tiny, 2.0 / np.maximum(w, 1e-12), angle / np.where(tiny, 1.0, sin_half))
    return vector * scale[..., None]


def axis_angle_to_quat_fast(rotvec: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 4) unit quaternions (x, y, z, w), in plain numpy for
    the many small conversions where scipy's per-call checks cost more than the work."""
    rotvec = np.asarray(rotvec, np.float64)
    angle = np.linalg.norm(rotvec, axis=-1, keepdims=True)
    # sin(a/2)/a, with its limit 1/2 - a^2/48 near 0.
    small = angle < 1e-6
    scale = np.where(small, 0.5 - angle ** 2 / 48.0, np.sin(angle / 2) / np.where(small, 1.0, angle))
    return np.concatenate([rotvec * scale, np.cos(angle / 2)], axis=-1)


def slerp_quaternions(q0: np.ndarray, q1: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """(..., 4) unit quaternions between ``q0`` and ``q1`` (..., 4) at fractions
    ``alpha`` (broadcast to their leading shape), along the shorter arc: plain numpy
    slerp weights, for per-frame sampling where scipy's Rotation products cost most of
    the time."""
    dots = np.sum(q0 * q1, axis=-1)
    q1 = np.where(dots[..., None] < 0, -q1, q1)
    theta = np.arccos(np.clip(np.abs(dots), -1.0, 1.0))
    sin_theta = np.sin(theta)
    near = sin_theta < 1e-9  # (almost) equal rotations: lerp, the limit of the weights
    safe = np.where(near, 1.0, sin_theta)
    w0 = np.where(near, 1.0 - alpha, np.sin((1.0 - alpha) * theta) / safe)
    w1 = np.where(near, alpha, np.sin(alpha * theta) / safe)
    return w0[..., None] * q0 + w1[..., None] * q1


def matrix_to_6d(matrix: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (..., 6): first column then second column."""
    matrix = np.asarray(matrix)
    return np.concatenate([matrix[..., :, 0], matrix[..., :, 1]], axis=-1)


def sixd_to_matrix(sixd: np.ndarray) -> np.ndarray:
    """(..., 6) -> (..., 3, 3) by Gram-Schmidt, so any non-degenerate 6D is valid."""
    sixd = np.asarray(sixd, dtype=np.float64)
    a, b = sixd[..., :3], sixd[..., 3:]
    x = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b - np.sum(x * b, axis=-1, keepdims=True) * x
    y = b / np.linalg.norm(b, axis=-1, keepdims=True)
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=-1)


def axis_angle_to_6d(rotvec: np.ndarray) -> np.ndarray:
    return matrix_to_6d(axis_angle_to_matrix(rotvec))


def sixd_to_axis_angle(sixd: np.ndarray) -> np.ndarray:
    return matrix_to_axis_angle(sixd_to_matrix(sixd))


def slerp(start: np.ndarray, end: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Spherical interpolation between two axis-angle arrays along the shorter arc.

    ``start``, ``end``: (..., 3). ``t``: scalar, or (T,) to get (T, ..., 3), 0 -> start,
    1 -> end. Each joint turns at constant angular speed about one fixed axis.
    """
    start_flat, lead = _flat(start, (3,))
    end_flat, lead_end = _flat(end, (3,))
    if lead != lead_end:
        raise ValueError(f"slerp: shapes differ, {np.shape(start)} vs {np.shape(end)}")
    r0 = Rotation.from_rotvec(start_flat)
    delta = (r0.inv() * Rotation.from_rotvec(end_flat)).as_rotvec()  # (N, 3), shortest arc
    ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
    steps = Rotation.from_rotvec((ts[:, None, None] * delta[None]).reshape(-1, 3))
    out = (Rotation.concatenate([r0] * len(ts)) * steps).as_rotvec()
    out = out.reshape((len(ts),) + lead + (3,))
    return out[0] if np.ndim(t) == 0 else out


def slerp_along(rotvecs: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Sample a rotation track at fractional frame positions.

    ``rotvecs``: (F, ..., 3) one rotation per frame. ``positions``: (T,) fractional frame
    indices in [0, F-1]. Returns (T, ..., 3): slerp between the two frames around
    each position (exact at integer positions).
    """
    rotvecs = np.asarray(rotvecs, dtype=np.float64)
    positions = np.asarray(positions, dtype=np.float64)
    num_frames = rotvecs.shape[0]
    if num_frames == 1:
        return np.repeat(rotvecs, len(positions), axis=0)
    if positions.size and (positions.min() < 0 or positions.max() > num_frames - 1):
        raise ValueError(f"slerp_along: positions must lie in [0, {num_frames - 1}]")
    lower = np.clip(np.floor(positions).astype(np.int64), 0, num_frames - 2)
    alpha = positions - lower
    lead = rotvecs.shape[1:-1]
    quats = axis_angle_to_quat(rotvecs)
    weights = alpha.reshape((-1,) + (1,) * len(lead))
    out = quat_to_axis_angle_fast(slerp_quaternions(quats[lower], quats[lower + 1], weights))
    exact = alpha == 0.0  # keep source frames bit for bit where no interpolation happens
    out[exact] = rotvecs[lower[exact]]
    return out


def similarity(source: np.ndarray, target: np.ndarray, weights: np.ndarray
               ) -> tuple[float, np.ndarray, np.ndarray]:
    """Weighted Umeyama: (s, R (3, 3), t (3,)) minimising sum w |s R source + t - target|^2."""
    w = weights / weights.sum()
    mu_s, mu_t = w @ source, w @ target
    a, b = source - mu_s, target - mu_t
    cov = (b * w[:, None]).T @ a
    u, sigma, vt = np.linalg.svd(cov)
    flip = np.sign(np.linalg.det(u @ vt)) or 1.0
    d = np.array([1.0, 1.0, flip])
    rotation = u @ np.diag(d) @ vt
    scale = float((sigma * d).sum() / (w @ (a * a).sum(axis=1)))
    return scale, rotation, mu_t - scale * rotation @ mu_s
