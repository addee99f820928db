"""numpy rows of `npm run bench`: the same computation as analyze(..., perSample: false) for
8-bit asymmetric quantization with the range from the samples, on the raw float32 file that
bench/bench.js writes. float32 arithmetic computes x/scale, the rounding, x_hat and the error
in float32 (as the core does for float32 samples); sums are float64 in both rows.

usage: bench_numpy.py SAMPLES.f32 REPEATS   (prints one JSON object per row)
"""
import json
import sys
import time

import numpy as np

QMIN, QMAX = -128, 127


def analyze(x, dtype):
    lo, hi = float(x.min()), float(x.max())
    scale = (hi - lo) / (QMAX - QMIN)
    zp = int(np.clip(np.rint(QMIN - lo / scale), QMIN, QMAX))
    xa = x.astype(dtype, copy=False)
    s = dtype(scale)
    scaled = xa / s + dtype(zp)
    r = np.rint(scaled)
    clipped = (r < QMIN) | (r > QMAX)
    q = np.clip(r, QMIN, QMAX)
    xhat = (q - dtype(zp)) * s
    e = (x - xhat if dtype is np.float32 else x.astype(np.float64) - xhat).astype(np.float64)
    ae = np.abs(e)
    i = int(ae.argmax())
    x64 = x.astype(np.float64)
    return {
        "mse": float(np.dot(e, e) / e.size),
        "mae": float(ae.sum() / e.size),
        "maxAbsError": float(ae[i]),
        "maxAbsErrorIndex": i,
        "meanError": float(e.sum() / e.size),
        "sqnrDb": float(10 * np.log10(np.dot(x64, x64) / np.dot(e, e))),
        "clipCount": int(clipped.sum()),
        "tieCount": int(((scaled - np.floor(scaled)) == 0.5).sum()),
    }


def main():
    x = np.fromfile(sys.argv[1], dtype="<f4")
    repeats = max(1, int(sys.argv[2]))
    for name, dtype in (("numpy f32", np.float32), ("numpy f64", np.float64)):
        ms = []
        analyze(x, dtype)  # warm-up: page faults and allocator
        for _ in range(repeats):
            t0 = time.perf_counter()
            metrics = analyze(x, dtype)
            ms.append((time.perf_counter() - t0) * 1000)
        print(json.dumps({"name": name, "n": int(x.size), "ms": ms, "metrics": metrics}), flush=True)


if __name__ == "__main__":
    main()
