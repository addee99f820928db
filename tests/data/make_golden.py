"""Writes tests/data/golden.json: the specification's worked examples and edge cases, with
expectations computed here, independently of the C++ core, straight from the formulas.

Run with Debian's python3 (numpy is needed for float32 arithmetic):
    /usr/bin/python3 tests/data/make_golden.py           # rewrite golden.json
    /usr/bin/python3 tests/data/make_golden.py --check   # exit 1 if golden.json is not what this computes

How each expectation is computed
- Code range: symmetric [-(2^(b-1)-1), 2^(b-1)-1]; asymmetric [-2^(b-1), 2^(b-1)-1];
  asymmetric-unsigned [0, 2^b-1]; qmin/qmax options override.
- Range: the option, or [min(x), max(x)]; a zero-width range from the samples is widened to
  include 0; an all-zero range gets scale 1.
- scale (float64): symmetric max(|min|,|max|)/qmax, asymmetric (max-min)/(qmax-qmin); the
  scale option replaces it. zero point: 0 for symmetric, else round_half_even(qmin - min/scale)
  clamped to [qmin, qmax]; the zeroPoint option replaces it.
- float64 arithmetic: scaled = x/scale + zp; r = ROUND(scaled); q = clamp(r); xhat = (q-zp)*scale.
- float32 arithmetic (numpy.float32 scalars, one rounding per operation): s = f32(scale),
  scaled = f32(f32(f32(x)/s) + f32(zp)), r = ROUND(scaled) in float32, xhat = f32(f32(q-zp)*s).
  The reported scale is float(s).
- error = x - xhat in float64 with x exactly as given, except for float32 samples in float32
  arithmetic, where it is the float32 difference (as a float32 runtime computes it).
- Rounding rules from exact operations: floor/trunc and x - floor(x) are exact.
- Metrics: sums with math.fsum (exactly rounded); percentiles of |e| by linear interpolation
  between closest ranks, as numpy's default; SQNR "Infinity" when sum(e^2) == 0 and null when
  sum(x^2) == 0; PSNR the same with MSE and max|x|; cosine null when a norm is 0; ties where
  scaled - floor(scaled) == 0.5 exactly.
"""
import json
import math
from pathlib import Path

import numpy as np

F32 = np.float32


def code_range(bits, mode):
    half = 1 << (bits - 1)
    return {"symmetric": (-(half - 1), half - 1), "asymmetric": (-half, half - 1),
            "asymmetric-unsigned": (0, 2 * half - 1)}[mode]


def round_rule(rule, v):
    """One rounding rule applied to v (a float or numpy.float32), in v's precision."""
    f = math.floor(v)
    d = v - type(v)(f)  # exact
    if rule == "half-even":
        return f + 1 if d > 0.5 or (d == 0.5 and f % 2 != 0) else f
    if rule == "half-away":
        t = math.trunc(v)
        return t + (1 if v > 0 else -1) if abs(v - type(v)(t)) >= 0.5 else t
    if rule == "half-up":
        return f + 1 if d >= 0.5 else f
    if rule == "floor":
        return f
    if rule == "ceil":
        return math.ceil(v)
    if rule == "toward-zero":
        return math.trunc(v)
    raise ValueError(rule)


def percentile(sorted_values, p):
    pos = p * (len(sorted_values) - 1)
    lo = math.floor(pos)
    t = pos - lo
    a = sorted_values[lo]
    b = sorted_values[min(lo + 1, len(sorted_values) - 1)]
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


def ratio_db(signal, noise):
    if signal == 0:
        return None
    if noise == 0:
        return "Infinity"
    return 10 * math.log10(signal / noise)


def expected(values, options, float32_input):
    bits = options.get("bits", 8)
    mode = options.get("mode", "symmetric")
    rule = options.get("rounding", "half-even")
    f32 = options.get("arithmetic", "float64") == "float32"
    qmin, qmax = code_range(bits, mode)
    qmin, qmax = options.get("qmin", qmin), options.get("qmax", qmax)
    if options.get("range"):
        lo, hi = options["range"]["min"], options["range"]["max"]
    else:
        lo, hi = min(values), max(values)
        if lo == hi:
            lo, hi = min(lo, 0.0), max(hi, 0.0)
    if "scale" in options:
        scale = options["scale"]
    elif lo == 0 and hi == 0:
        scale = 1.0
    elif mode == "symmetric":
        scale = max(abs(lo), abs(hi)) / qmax
    else:
        scale = (hi - lo) / (qmax - qmin)
    if "zeroPoint" in options:
        zp = options["zeroPoint"]
    elif mode == "symmetric":
        zp = 0
    else:
        zp = min(max(round(qmin - lo / scale), qmin), qmax)  # Python's round() is half to even
    s32 = F32(scale)
    codes, deq, errs, clipped, ties = [], [], [], [], 0
    for x in values:
        if f32:
            scaled = F32(F32(F32(x) / s32) + F32(zp))
        else:
            scaled = x / scale + zp
        ties += scaled - math.floor(scaled) == 0.5
        r = round_rule(rule, scaled)
        q = min(max(r, qmin), qmax)
        xhat = float(F32(F32(q - zp) * s32)) if f32 else (q - zp) * scale
        err = float(F32(x) - F32(xhat)) if f32 and float32_input else x - xhat
        codes.append(int(q))
        deq.append(xhat)
        errs.append(err)
        clipped.append(r < qmin or r > qmax)
    n = len(values)
    sum_e2 = math.fsum(e * e for e in errs)
    sum_x2 = math.fsum(x * x for x in values)
    sum_xh2 = math.fsum(v * v for v in deq)
    mse = sum_e2 / n
    mean = math.fsum(errs) / n
    abs_errs = sorted(abs(e) for e in errs)
    max_abs = max(abs(e) for e in errs)
    max_x = max(abs(x) for x in values)
    norms = math.sqrt(sum_x2) * math.sqrt(sum_xh2)
    counts = {}
    for c in codes:
        counts[c] = counts.get(c, 0) + 1
    metrics = {
        "count": n,
        "mse": mse,
        "rmse": math.sqrt(mse),
        "mae": math.fsum(abs_errs) / n,
        "maxAbsError": max_abs,
        "maxAbsErrorIndex": next(i for i, e in enumerate(errs) if abs(e) == max_abs),
        "meanError": mean,
        "errorStd": math.sqrt(max(0.0, mse - mean * mean)),
        "sqnrDb": ratio_db(sum_x2, sum_e2),
        "psnrDb": ratio_db(max_x * max_x, mse),
        "clipCount": sum(clipped),
        "clipRate": sum(clipped) / n,
        "step": float(s32) if f32 else scale,
        "uniformNoise": (float(s32) if f32 else scale) ** 2 / 12,
        "medianAbsError": percentile(abs_errs, 0.5),
        "p95AbsError": percentile(abs_errs, 0.95),
        "cosine": None if norms == 0 else math.fsum(x * v for x, v in zip(values, deq)) / norms,
        "tieCount": int(ties),
        "codesUsed": len(counts),
        "codeEntropyBits": -math.fsum(c / n * math.log2(c / n) for c in counts.values()),
    }
    return {"scale": float(s32) if f32 else scale, "zeroPoint": zp, "qmin": qmin, "qmax": qmax,
            "rangeMin": lo, "rangeMax": hi, "codes": codes, "dequantized": deq, "errors": errs,
            "clipped": clipped, "metrics": metrics}


SEED_TEXT = "-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46"
TIES = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.25, 1.75, 0.25, -0.75]


def case(name, source, values, options, seed_says=None, float32=False):
    if float32:
        values = [float(F32(v)) for v in values]
    c = {"name": name, "source": source, "values": values,
         "valuesText": ", ".join(repr(v) for v in values), "options": options}
    if float32:
        c["float32"] = True
    c["expected"] = expected(values, options, float32)
    if seed_says:
        c["seedSays"] = {k: {"value": v, "tolerance": t} for k, (v, t) in seed_says.items()}
    return c


def cases():
    seed = [float(t) for t in SEED_TEXT.split(",")]
    out = [
        case("seed004-symmetric", "seed 004: the example values, 8-bit symmetric signed, range -1.50 to 1.50",
             seed, {"bits": 8, "mode": "symmetric", "rounding": "half-even", "range": {"min": -1.5, "max": 1.5}}),
        case("seed004-asymmetric-from-samples", "seed 004: the same values, asymmetric, range from the samples",
             seed, {"bits": 8, "mode": "asymmetric", "rounding": "half-even"}),
        case("seed001-msqe", "seed 001 example 2: [2.3, 3.7, 4.1] -> [2, 4, 4], MSQE ~ 0.0633",
             [2.3, 3.7, 4.1], {"bits": 8, "mode": "asymmetric-unsigned", "scale": 1.0, "zeroPoint": 0},
             {"mse": (0.0633, 5e-5)}),
        case("seed001-psqnr", "seed 001 example 3: MAX 10 and MSQE 0.25 give PSQNR ~ 26.02 dB",
             [10.0, 1.0, 10.0, 10.0], {"bits": 8, "mode": "symmetric", "scale": 2.0}, {"psnrDb": (26.02, 0.005)}),
        case("seed003-step", "seed 003: 8-bit symmetric on [-1, 1]: step ~ 0.0078, max error ~ half a step",
             [i / 1000 - 1 for i in range(2001)], {"bits": 8, "mode": "symmetric", "range": {"min": -1.0, "max": 1.0}},
             {"step": (0.0078, 1e-4), "maxAbsError": (0.0039, 1e-4)}),
    ]
    for rule in ["half-even", "half-away", "half-up", "floor", "ceil", "toward-zero"]:
        out.append(case(f"rounding-{rule}", f"the {rule} rule on exact ties and off them", TIES,
                        {"bits": 8, "mode": "symmetric", "rounding": rule, "scale": 1.0}))
    wide = [-3.0, -2.2, -1.0, -0.4, 0.0, 0.3, 0.99, 1.0, 1.7, 3.0]
    out += [
        case("clipping-4bit", "a range narrower than the data: clipping on both sides", wide,
             {"bits": 4, "mode": "asymmetric", "range": {"min": -1.0, "max": 1.0}}),
        case("relu-unsigned", "skewed activations (ReLU outputs 0..6), 8-bit asymmetric unsigned",
             [0.0, 0.0, 0.05, 0.4, 1.2, 2.9, 3.3, 4.75, 5.5, 6.0], {"bits": 8, "mode": "asymmetric-unsigned"}),
        case("bits-2", "2-bit symmetric: three levels", seed, {"bits": 2, "mode": "symmetric"}),
        case("bits-16", "16-bit asymmetric", seed, {"bits": 16, "mode": "asymmetric"}),
        case("qmin-qmax-override", "quant_min 0, quant_max 127 (a reduced range)", [0.0, 0.31, 0.5, 1.27, 2.0],
             {"bits": 8, "mode": "asymmetric-unsigned", "qmin": 0, "qmax": 127, "range": {"min": 0.0, "max": 1.27}}),
        case("explicit-scale-zero-point", "a deployed model's scale and zero point", [-5.0, 0.0, 1.2, 3.3, 200.0],
             {"bits": 8, "mode": "asymmetric-unsigned", "scale": 0.5, "zeroPoint": 10}),
        case("degenerate-equal", "all samples equal: the range widens to include zero", [0.7, 0.7, 0.7],
             {"bits": 8, "mode": "asymmetric"}),
        case("degenerate-zero", "all samples zero: scale 1, SQNR undefined", [0.0, 0.0, 0.0, 0.0],
             {"bits": 8, "mode": "symmetric"}),
        case("float32-asymmetric", "float32 samples, float32 arithmetic, 8-bit asymmetric", seed,
             {"bits": 8, "mode": "asymmetric", "arithmetic": "float32"}, float32=True),
        case("float32-symmetric-4bit", "float32 samples, float32 arithmetic, 4-bit symmetric", wide,
             {"bits": 4, "mode": "symmetric", "arithmetic": "float32", "range": {"min": -2.0, "max": 2.0}}, float32=True),
        case("float32-arithmetic-float64-samples", "typed samples, float32 arithmetic: errors against x as typed", seed,
             {"bits": 8, "mode": "asymmetric", "arithmetic": "float32"}),
    ]
    return out


def main():
    import sys
    golden = {"generated_by": "tests/data/make_golden.py",
              "about": __doc__.strip().splitlines()[0] + " See make_golden.py for how each value is computed.",
              "cases": cases()}
    path = Path(__file__).with_name("golden.json")
    text = json.dumps(golden, indent=1) + "\n"
    if "--check" in sys.argv:
        same = path.read_text() == text
        print("golden.json matches make_golden.py" if same else "golden.json differs from what make_golden.py computes")
        sys.exit(0 if same else 1)
    path.write_text(text)
    for c in golden["cases"]:
        m = c["expected"]["metrics"]
        print(f'{c["name"]:38} scale {c["expected"]["scale"]:.6g} zp {c["expected"]["zeroPoint"]:4} '
              f'codes {c["expected"]["codes"][:6]} mse {m["mse"]:.6g} sqnr {m["sqnrDb"]}')


if __name__ == "__main__":
    main()
