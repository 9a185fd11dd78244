"""The learned cost model: the analytic model's structure with weights fitted
to schedules timed on this machine.

Why this family: the analytic model (`cost_model.py`) is a sum over stages of
cost terms in cycles (vector and scalar compute, serial and parallel update
work, cache and DRAM traffic, allocations, task launches), plus a few terms it
leaves at weight 0 (redundant work, idle cores, realizations). The learned
model keeps that sum and learns one non-negative weight per term:

    cost(state) = sum_k exp(theta_k) * T_k(state)

As in Halide's Adams2019 (non-negative coefficients times hand-written terms,
summed over stages), this extrapolates to pipelines and sizes never seen,
prices partial states the same way, and needs few samples: 17 weights, fitted
in seconds with numpy alone from a few thousand timed schedules. A freer model
(a linear ranker over log features) is trained alongside as a comparator by
`evaluate`; we ship whichever ranks held-out pipelines better.

Training minimises a pairwise logistic ranking loss within each pipeline
(only the order of one pipeline's schedules matters to the search) on pairs
more than 10% apart (closer ones are timing noise on a shared machine),
weighted by how far apart they are, with an L2 pull toward the analytic
weights. `blend` mixes the learned and analytic predictions in log space
(chosen on a validation split of the training pipelines).

    m = LearnedModel.train(groups)               # {seed: (terms [n, K], ms [n])}
    m.save("weights.npz"); m = LearnedModel.load("weights.npz")
    m.cost(terms)                                # the predicted cost of one state
"""
from __future__ import annotations

import os

import numpy as np

from autoscheduler.cost_model import ANALYTIC_WEIGHTS, TERMS

DEFAULT_WEIGHTS = os.path.join(os.path.dirname(__file__), "data", "weights.npz")
NOISE = 1.1                   # pairs closer than this ratio are not ranked


def _log_pred(theta: np.ndarray, T: np.ndarray):
    """log(sum_k exp(theta_k) T_k) per row, and its gradient shares q [n, K]."""
    contrib = T * np.exp(theta)[None, :]
    total = contrib.sum(axis=1) + 1e-9
    return np.log(total), contrib / total[:, None]


def _pairs(ms: np.ndarray):
    """M[i, j] = weight of 'i is faster than j' (0 if not, or within noise)."""
    ratio = np.log(ms[None, :] / ms[:, None])        # log(ms_j / ms_i)
    return np.where(ratio > np.log(NOISE), np.minimum(ratio, 2.0), 0.0)


def _analytic_theta(groups: dict) -> np.ndarray:
    """Start: the analytic weights; the extra terms small enough to change little."""
    theta = np.zeros(len(TERMS))
    allT = np.concatenate([T for T, _ in groups.values()]) if groups else np.ones((1, len(TERMS)))
    total = np.median(allT @ ANALYTIC_WEIGHTS) + 1.0
    for k in range(len(TERMS)):
        if ANALYTIC_WEIGHTS[k] > 0:
            continue
        nz = allT[:, k][allT[:, k] > 0]
        theta[k] = np.log(0.01 * total / np.median(nz)) if nz.size else -20.0
    return theta


class LearnedModel:
    def __init__(self, theta: np.ndarray, blend: float = 1.0, meta: dict | None = None):
        self.theta = np.asarray(theta, dtype=np.float64)
        self.blend = float(blend)
        self.meta = meta or {}

    # ------------------------------------------------------------ prediction

    def cost(self, terms: np.ndarray) -> float:
        learned = float(np.exp(self.theta) @ terms)
        if self.blend >= 1.0:
            return learned
        analytic = float(ANALYTIC_WEIGHTS @ terms)
        if learned <= 0 or analytic <= 0:
            return learned + analytic
        return float(np.exp(self.blend * np.log(learned) + (1 - self.blend) * np.log(analytic)))

    def log_costs(self, T: np.ndarray) -> np.ndarray:
        s, _ = _log_pred(self.theta, T)
        if self.blend < 1.0:
            s = self.blend * s + (1 - self.blend) * np.log(T @ ANALYTIC_WEIGHTS + 1e-9)
        return s

    # ------------------------------------------------------------ files

    def save(self, path: str) -> None:
        np.savez(path, theta=self.theta, blend=np.array(self.blend), terms=np.array(TERMS),
                 meta=np.array(repr(self.meta)))

    @classmethod
    def load(cls, path: str) -> "LearnedModel":
        from autoscheduler.params import AutoschedulerError
        try:
            with np.load(path, allow_pickle=False) as z:
                names = tuple(str(t) for t in z["terms"])
                theta, blend = z["theta"], float(z["blend"])
                meta = str(z["meta"]) if "meta" in z else ""
        except (OSError, KeyError, ValueError) as e:
            raise AutoschedulerError(f"weights: can't read cost-model weights from {path!r} "
                                     f"({type(e).__name__}: {e}); expected a .npz written by "
                                     f"'pipelang-autoschedule train'") from None
        if names != TERMS:
            raise AutoschedulerError(f"weights: {path!r} was trained on cost terms {names}, but "
                                     f"this version's are {TERMS}; retrain with "
                                     f"'pipelang-autoschedule train'")
        return cls(theta, blend, {"file": path, "meta": meta})

    # ------------------------------------------------------------ training

    @classmethod
    def train(cls, groups: dict, steps: int = 600, lr: float = 0.05, l2: float = 0.02,
              theta0: np.ndarray | None = None) -> "LearnedModel":
        theta0 = _analytic_theta(groups) if theta0 is None else theta0
        theta = theta0.copy()
        data = [(T, _pairs(ms)) for T, ms in groups.values()]
        npairs = sum(float((M > 0).sum()) for _, M in data) or 1.0
        m, v = np.zeros_like(theta), np.zeros_like(theta)
        for step in range(1, steps + 1):
            grad = 2 * l2 * (theta - theta0)
            for T, M in data:
                s, q = _log_pred(theta, T)
                D = s[None, :] - s[:, None]                  # s_j - s_i: should be > 0
                dD = -M / (1.0 + np.exp(np.clip(D, -50, 50))) / npairs
                ds = dD.sum(axis=0) - dD.sum(axis=1)
                grad += q.T @ ds
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad * grad
            theta -= lr * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
        return cls(theta, 1.0, {"pipelines": len(groups),
                                "samples": int(sum(len(ms) for _, ms in groups.values()))})


class LogLinearRanker:
    """The comparator: score = w . log1p(T), a free linear ranker over log features
    (it can weigh terms negatively; it does not decompose over stages)."""

    def __init__(self, w):
        self.w = w

    def log_costs(self, T):
        return np.log1p(T) @ self.w

    @classmethod
    def train(cls, groups: dict, steps: int = 600, lr: float = 0.02, l2: float = 1e-3):
        w = ANALYTIC_WEIGHTS * 0.0 + 0.1
        data = [(np.log1p(T), _pairs(ms)) for T, ms in groups.values()]
        npairs = sum(float((M > 0).sum()) for _, M in data) or 1.0
        m, v = np.zeros_like(w), np.zeros_like(w)
        for step in range(1, steps + 1):
            grad = 2 * l2 * w
            for X, M in data:
                s = X @ w
                D = s[None, :] - s[:, None]
                dD = -M / (1.0 + np.exp(np.clip(D, -50, 50))) / npairs
                grad += X.T @ (dD.sum(axis=0) - dD.sum(axis=1))
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad * grad
            w -= lr * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
        return cls(w)


class AnalyticModel:
    def log_costs(self, T):
        return np.log(T @ ANALYTIC_WEIGHTS + 1e-9)


def ranking_metrics(model, groups: dict, apart: float = 1.3) -> dict:
    """Pairwise order accuracy on pairs more than `apart`x apart, and top-1 regret
    (measured time of the predicted-best schedule / best measured; geomean and
    worst over pipelines)."""
    right = total = 0
    regrets = []
    for T, ms in groups.values():
        s = model.log_costs(T)
        ratio = ms[None, :] / ms[:, None]
        mask = ratio > apart                        # i faster than j by > apart
        right += int(((s[None, :] > s[:, None]) & mask).sum())
        total += int(mask.sum())
        regrets.append(ms[int(np.argmin(s))] / ms.min())
    r = np.array(regrets) if regrets else np.array([np.nan])
    return {"pairs": total, "accuracy": right / total if total else float("nan"),
            "regret_geomean": float(np.exp(np.mean(np.log(r)))), "regret_max": float(r.max()),
            "pipelines": len(groups)}


def split_validation(groups: dict) -> tuple:
    """(fit, validation) within the training pipelines, by a second hash of the seed."""
    fit = {s: g for s, g in groups.items() if (s * 40503) % 65536 % 5 != 0}
    val = {s: g for s, g in groups.items() if s not in fit}
    return fit, val


def fit_and_choose(groups: dict, log=print) -> LearnedModel:
    """Train on the fit split, pick the blend on validation, refit on all."""
    fit, val = split_validation(groups)
    m = LearnedModel.train(fit)
    best, best_acc = 1.0, -1.0
    for a in (0.0, 0.25, 0.5, 0.75, 1.0):
        m.blend = a
        acc = ranking_metrics(m, val)
        log(f"train: blend {a:.2f}: validation accuracy {acc['accuracy']:.3f}, "
            f"regret {acc['regret_geomean']:.3f} over {acc['pipelines']} pipelines")
        score = acc["accuracy"] - 0.5 * (acc["regret_geomean"] - 1)
        if score > best_acc + 1e-9:
            best, best_acc = a, score
    final = LearnedModel.train(groups)
    final.blend = best
    return final
