"""Writes tests/data/formats.json: reference encodings for the number formats, computed here
independently of the C++ core.

Run with Debian's python3, numpy and (for bfloat16) python3-torch:
    /usr/bin/python3 tests/data/make_format_golden.py           # rewrite formats.json
    /usr/bin/python3 tests/data/make_format_golden.py --check   # exit 1 if it differs

- fp16: numpy's float64 -> float16 conversion (IEEE round to nearest even, overflow to Inf).
- bf16: torch's float32 -> bfloat16 conversion (round to nearest even, overflow to Inf); the
  inputs are float32 values, so nothing is rounded twice.
- FP8 E4M3 / E5M2, FP6 E3M2 / E2M3, FP4 E2M1: every code's value written from the OCP
  definitions (value = (-1)^s 2^(e-bias) (1 + m/2^M), subnormals 2^(1-bias) m/2^M, specials as
  each format defines them), and each sample encoded by brute force: the nearest finite value of
  the table, a tie to the code with an even mantissa, beyond the largest finite by the overflow
  policy (saturate, or Inf/NaN where the format has it).
- E8M0 and the NF4 levels, as published.
"""
import json
import math
import sys
from pathlib import Path

import numpy as np

# name: (exponent bits, mantissa bits, bias, specials)
MINIFLOATS = {
    "fp8-e4m3": (4, 3, 7, "finite-nan"),
    "fp8-e5m2": (5, 2, 15, "ieee"),
    "fp6-e3m2": (3, 2, 3, "none"),
    "fp6-e2m3": (2, 3, 1, "none"),
    "fp4-e2m1": (2, 1, 1, "none"),
}

NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
       -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
       0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
       0.7229568362236023, 1.0]


def table(ebits, mbits, bias, specials):
    """Every code's value: a float, 'nan', 'inf' or '-inf'."""
    out = []
    e_all, m_all = (1 << ebits) - 1, (1 << mbits) - 1
    for code in range(1 << (1 + ebits + mbits)):
        s = code >> (ebits + mbits)
        e = (code >> mbits) & e_all
        m = code & m_all
        if specials == "ieee" and e == e_all:
            out.append("nan" if m else ("-inf" if s else "inf"))
            continue
        if specials == "finite-nan" and e == e_all and m == m_all:
            out.append("nan")
            continue
        v = math.ldexp(m, 1 - bias - mbits) if e == 0 else math.ldexp((1 << mbits) + m, e - bias - mbits)
        out.append(-v if s else v)
    return out


def brute_encode(v, values, ebits, mbits, bias, specials, overflow):
    sign = 1 << (ebits + mbits)
    finite = [(c, x) for c, x in enumerate(values) if not isinstance(x, str) and (c & sign) == 0]
    top_code, top = max(finite, key=lambda cx: cx[1])
    neg = math.copysign(1.0, v) < 0
    a = abs(v)
    # One quantum above the largest finite value (a NaN code, Inf, or past the last code): a
    # value rounds there when nearer to it, or on the tie when the top code's mantissa is odd.
    ulp = math.ldexp(1.0, max(top_code >> mbits, 1) - bias - mbits)
    if math.isinf(a) or a > top + ulp / 2 or (a == top + ulp / 2 and (top_code & 1) == 1):
        if overflow == "inf-nan" and specials == "ieee":
            return (sign if neg else 0) | (((1 << ebits) - 1) << mbits)
        if overflow == "inf-nan" and specials == "finite-nan":
            return (sign if neg else 0) | (((1 << ebits) - 1) << mbits) | ((1 << mbits) - 1)
        return (sign if neg else 0) | top_code
    best = min(finite, key=lambda cx: (abs(cx[1] - a), cx[0] & 1))
    return (sign if neg else 0) | best[0]


def log_uniform(rng, lo, hi, n):
    """n doubles of random sign whose magnitudes spread evenly over the binades 2^lo … 2^hi, from
    integer draws and exact ldexp alone: numpy's vectorised pow differs in the last bit between
    machines (its SIMD paths depend on the CPU), and this file must come out the same everywhere."""
    e = rng.integers(math.floor(lo), math.ceil(hi), n)
    m = rng.integers(1 << 52, 1 << 53, n)
    s = rng.choice([-1.0, 1.0], n)
    return [math.ldexp(float(mi), int(ei) - 52) * float(si) for mi, ei, si in zip(m, e, s)]


def samples(rng, top, tiny):
    """Magnitudes from below the smallest subnormal to beyond the largest, both signs, plus every
    midpoint of the table and its neighbours."""
    return log_uniform(rng, math.log2(tiny) - 2, math.log2(top) + 1.5, 400) + [0.0, -0.0]


def build():
    rng = np.random.default_rng(20261124)
    out = {"generator": "tests/data/make_format_golden.py", "minifloats": {}}
    for name, (ebits, mbits, bias, specials) in MINIFLOATS.items():
        values = table(ebits, mbits, bias, specials)
        finite = sorted({x for x in values if not isinstance(x, str) and x >= 0})
        xs = samples(rng, finite[-1], finite[1])
        # Every midpoint between neighbours, and just beside it.
        for lo, hi in zip(finite, finite[1:]):
            mid = (lo + hi) / 2
            xs += [mid, -mid, float(np.nextafter(mid, 0)), float(np.nextafter(mid, math.inf))]
        ulp_top = finite[-1] - finite[-2]
        xs += [finite[-1] + ulp_top / 2, finite[-1] + ulp_top, finite[-1] * 4, -finite[-1] * 4]
        cases = []
        for x in xs:
            cases.append([x, brute_encode(x, values, ebits, mbits, bias, specials, "saturate"),
                          brute_encode(x, values, ebits, mbits, bias, specials, "inf-nan")])
        out["minifloats"][name] = {
            "ebits": ebits, "mbits": mbits, "bias": bias, "specials": specials,
            "values": values, "cases": cases,
        }
    # fp16: numpy, every code and random doubles (overflow to Inf, so the inf-nan policy).
    f16 = np.array(log_uniform(rng, -27, 17, 3000))
    f16 = np.concatenate([f16, [65504.0, 65519.99, 65520.0, 65536.0, 2.0 ** -25, 2.0 ** -25 * 1.0000001, 2.0 ** -24, 0.0, -0.0]])
    with np.errstate(over="ignore"):  # overflow to Inf is the behaviour under test
        out["fp16"] = [[float(x), int(np.array(x).astype(np.float16).view(np.uint16))] for x in f16]
    try:
        import torch
        b = np.array(log_uniform(rng, -136, 128, 3000)).astype(np.float32)  # up to the top binade of float32
        b = np.concatenate([b, np.array([3.3895313892515355e38, 3.3961775292304172e38, 2.0 ** -133, 2.0 ** -134], dtype=np.float32)])
        bits = torch.from_numpy(b).to(torch.bfloat16).view(torch.int16).numpy().astype(np.uint16)
        out["bf16"] = [[float(x), int(c)] for x, c in zip(b, bits)]
        out["torch"] = torch.__version__
    except ImportError:
        sys.exit("python3-torch is needed for the bfloat16 reference")
    out["e8m0"] = [[code, math.ldexp(1.0, code - 127) if code < 255 else "nan"] for code in range(256)]
    out["nf4"] = NF4
    return out


def main():
    path = Path(__file__).with_name("formats.json")
    text = json.dumps(build(), separators=(",", ":")) + "\n"
    if "--check" in sys.argv:
        if path.read_text() != text:
            print(f"{path} differs from what {Path(__file__).name} computes", file=sys.stderr)
            sys.exit(1)
        print(f"{path.name} is what {Path(__file__).name} computes")
        return
    path.write_text(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
