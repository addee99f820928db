"""Writes tests/data/calibration.json: calibration ranges computed here with numpy, independently
of the C++ core, for seeded data sets.

Run with Debian's python3 and numpy:
    /usr/bin/python3 tests/data/make_calibration_golden.py           # rewrite calibration.json
    /usr/bin/python3 tests/data/make_calibration_golden.py --check   # exit 1 if it differs

- percentile: numpy.percentile (method 'linear'); symmetric modes on |x| -> [-t, t];
  asymmetric modes [P(100-p), P(p)].
- entropy: TensorRT's KL search written with numpy arrays: a 2048-bin histogram of |x| over
  [0, max|x|]; for i = 2^(b-1) .. 2048: P = hist[:i] with hist[i:].sum() added to P[-1]; Q =
  hist[:i] merged into 2^(b-1) groups of i // 2^(b-1) bins (the remainder joins the last group),
  each group's total spread evenly over its bins where P is non-zero; P and Q smoothed as
  MXNet's _smooth_distribution (eps 1e-4) and KL = sum p log(p/q) of the normalised vectors;
  threshold = (argmin + 0.5) * bin width. Symmetric: [-t, t]; asymmetric: [max(min, -t), min(max, t)].
- minmax: [min, max].
"""
import json
import sys
from pathlib import Path

import numpy as np


def datasets():
    rng = np.random.default_rng(20261124)
    laplace = rng.laplace(0.0, 1.0, 6000)
    outliers = rng.normal(0.0, 1.0, 6000)
    outliers[rng.random(6000) < 0.01] *= 8
    relu = np.maximum(rng.normal(0.3, 1.0, 5000), 0.0)
    skewed = rng.gamma(2.0, 1.5, 5000) - 1.0
    return [
        ("laplace", laplace.tolist(), False),
        ("normal-outliers-float32", outliers.astype(np.float32).astype(np.float64).tolist(), True),
        ("relu", relu.tolist(), False),
        ("skewed", skewed.tolist(), False),
    ]


def percentile_range(x, p, symmetric):
    if symmetric:
        t = float(np.percentile(np.abs(x), p))
        return -t, t
    return float(np.percentile(x, 100 - p)), float(np.percentile(x, p))


def smooth(p, eps=1e-4):
    zeros = p == 0
    n_zeros = zeros.sum()
    n_nonzeros = p.size - n_zeros
    return p + np.where(zeros, eps, -eps * n_zeros / n_nonzeros)


def entropy_threshold(x, bits):
    amax = float(np.max(np.abs(x)))
    levels = 1 << (bits - 1)
    bins = 2048
    if levels >= bins or amax == 0:
        return amax
    hist, edges = np.histogram(np.abs(x), bins=bins, range=(0.0, amax))
    width = amax / bins
    hist = hist.astype(np.float64)
    best, best_i = np.inf, None
    for i in range(levels, bins + 1):
        p = hist[:i].copy()
        p[-1] += hist[i:].sum()
        merged = i // levels
        q = np.zeros(i)
        for j in range(levels):
            start = j * merged
            stop = i if j == levels - 1 else start + merged
            nonzero = p[start:stop] != 0
            if nonzero.any():
                q[start:stop][nonzero] = hist[start:stop].sum() / nonzero.sum()
        if not q.any():
            continue
        ps, qs = smooth(p), smooth(q)
        ps, qs = ps / ps.sum(), qs / qs.sum()
        kl = float(np.sum(np.where(ps > 0, ps * np.log(ps / qs), 0.0)))
        if kl < best:
            best, best_i = kl, i
    return (best_i + 0.5) * width


def main():
    cases = []
    for name, values, f32 in datasets():
        x = np.array(values)
        for mode in ("symmetric", "asymmetric"):
            sym = mode == "symmetric"
            for p in (99.9, 99.99):
                lo, hi = percentile_range(x, p, sym)
                cases.append({"data": name, "mode": mode, "bits": 8, "calibration": "percentile", "percentile": p,
                              "rangeMin": lo, "rangeMax": hi})
            for bits in (4, 8):
                t = entropy_threshold(x, bits)
                lo, hi = (-t, t) if sym else (max(float(x.min()), -t), min(float(x.max()), t))
                cases.append({"data": name, "mode": mode, "bits": bits, "calibration": "entropy", "threshold": t,
                              "rangeMin": lo, "rangeMax": hi})
            cases.append({"data": name, "mode": mode, "bits": 8, "calibration": "minmax",
                          "rangeMin": float(x.min()), "rangeMax": float(x.max())})
    golden = {"generated_by": "tests/data/make_calibration_golden.py",
              "about": "Calibration ranges from numpy; see the generator's docstring for each method.",
              "data": {name: {"values": values, "float32": f32} for name, values, f32 in datasets()},
              "cases": cases}
    path = Path(__file__).with_name("calibration.json")
    text = json.dumps(golden) + "\n"
    if "--check" in sys.argv:
        same = path.read_text() == text
        print("calibration.json matches make_calibration_golden.py" if same else "calibration.json differs")
        sys.exit(0 if same else 1)
    path.write_text(text)
    for c in cases:
        print(f'{c["data"]:24} {c["mode"]:10} {c["bits"]:2} {c["calibration"]:10} [{c["rangeMin"]:.6g}, {c["rangeMax"]:.6g}]')


if __name__ == "__main__":
    main()
