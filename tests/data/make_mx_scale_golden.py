"""Writes tests/data/mx_scales.json: the OCP MX formats under the four E8M0 scale roundings
(floor, ceil, even, rceil) on float32 blocks of 32, derived here independently of the C++ core.

Run with Debian's python3 and numpy:
    /usr/bin/python3 tests/data/make_mx_scale_golden.py           # rewrite mx_scales.json
    /usr/bin/python3 tests/data/make_mx_scale_golden.py --check   # exit 1 if it differs

The core compares log2 thresholds of amax in double (formats.cpp: mx_scale_exponent); this file
works on amax's float32 bits instead, as torchao's to_mx does (ScaleCalculationMode):
- floor: the biased exponent field of amax, less 127 and the element's emax
- ceil:  the same, plus one when the mantissa field is not zero
- even:  half an element-ulp (1 << (23 − M − 1)) added to amax's bits, the mantissa field cleared,
         then the exponent field as for floor (a carry moves amax up a binade)
- rceil: the least k with amax ≤ max_elem · 2^k, searched in exact rational arithmetic
         (fractions.Fraction); and checked against NVIDIA's recipe, the float32 quotient
         amax / max_elem rounded up to a power of two (cvt.rp.ue8m0x2), which must agree
The scale code is k clamped to [−127, 127], plus 127. Each element x / 2^k (exact) is encoded by
brute force: the nearest value of the element format's table (every code's value from the OCP
definitions, make_format_golden.table), a tie to the even mantissa, beyond the largest finite
value saturated; MXINT8 rounds x / 2^k · 64 half to even and clamps to ±127. A block saturates
when one of its elements rounds past the largest value (on the grid continued one step beyond it).
"""
import json
import math
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from make_format_golden import brute_encode, table  # noqa: E402  (the OCP value tables)

# name: (element (ebits, mbits, bias, specials) or None for MXINT8, max element, emax, M)
FORMATS = {
    "mxfp8-e4m3": ((4, 3, 7, "finite-nan"), 448.0, 8, 3),
    "mxfp8-e5m2": ((5, 2, 15, "ieee"), 57344.0, 15, 2),
    "mxfp6-e3m2": ((3, 2, 3, "none"), 28.0, 4, 2),
    "mxfp6-e2m3": ((2, 3, 1, "none"), 7.5, 2, 3),
    "mxfp4": ((2, 1, 1, "none"), 6.0, 2, 1),
    "mxint8": (None, 127.0 / 64, 0, 6),
}
RULES = ["floor", "ceil", "even", "rceil"]
BLOCK = 32


def f32_bits(v):
    return int(np.array(v, dtype=np.float32).view(np.uint32))


def scale_exponent(amax, rule, max_elem, emax, mbits):
    """k, unclamped, for a float32 amax > 0 (normal)."""
    bits = f32_bits(amax)
    biased, mantissa = (bits >> 23) & 0xFF, bits & 0x7FFFFF
    assert biased != 0, "the blocks here keep amax a normal float32"
    if rule == "floor":
        return biased - 127 - emax
    if rule == "ceil":
        return biased - 127 + (mantissa != 0) - emax
    if rule == "even":
        rounded = (bits + (1 << (23 - mbits - 1))) & (0x1FF << 23)
        return ((rounded >> 23) & 0xFF) - 127 - emax
    exact = Fraction(float(np.float32(amax)))
    k = -400
    while exact > Fraction(max_elem) * Fraction(2) ** k:
        k += 1
    # NVIDIA's recipe: the float32 quotient, rounded up to a power of two.
    q = np.float32(amax) / np.float32(max_elem)
    qb = f32_bits(q)
    nv = ((qb >> 23) & 0xFF) - 127 + ((qb & 0x7FFFFF) != 0)
    assert nv == k, (amax, max_elem, k, nv)
    return k


def element(q, fmt, values, max_elem):
    """(code, value, overflowed) of q = x / X."""
    if fmt is None:  # MXINT8: int8 · 2^−6
        r = round(q * 64)  # Python rounds half to even
        over = abs(r) > 127
        r = max(-127, min(127, r))
        return r & 0xFF, r / 64, over
    ebits, mbits, bias, specials = fmt
    code = brute_encode(q, values, ebits, mbits, bias, specials, "saturate")
    v = values[code]
    # Past the largest value: nearer to the next step of the grid beyond it, or its tie with an odd top.
    sign = 1 << (ebits + mbits)
    top_code = max((c for c, x in enumerate(values) if not isinstance(x, str) and (c & sign) == 0), key=lambda c: values[c])
    ulp = math.ldexp(1.0, max(top_code >> mbits, 1) - bias - mbits)
    a = abs(q)
    over = a > max_elem + ulp / 2 or (a == max_elem + ulp / 2 and (top_code & 1) == 1)
    return code, v, over


def blocks(rng, max_elem, emax, mbits):
    """float32 blocks: random ones over many binades, heavy tails, and blocks whose largest
    element sits at, just below and just above a power of two, the element's max times a power
    of two and EVEN's rounding threshold; an all-zero block."""
    out = []
    for _ in range(16):
        b = rng.standard_normal(BLOCK) * math.ldexp(1.0, int(rng.integers(-20, 21)))
        out.append(b)
    for _ in range(6):
        b = rng.standard_normal(BLOCK) * 0.01
        b[int(rng.integers(0, BLOCK))] = float(rng.choice([-1, 1])) * float(rng.uniform(1, 50))
        out.append(b)
    m = max_elem / 2 ** emax
    t = 2 - 2.0 ** -(mbits + 1)
    for k in (-9, 0, 12):
        p = 2.0 ** k
        for top in (p, m * p, t * p):
            f = np.float32(top)
            for v in (f, np.nextafter(f, np.float32(0)), np.nextafter(f, np.float32(np.inf))):
                b = rng.uniform(-1, 1, BLOCK) * float(v) * 0.9
                b[int(rng.integers(0, BLOCK))] = float(v) * float(rng.choice([-1, 1]))
                out.append(b)
    out.append(np.zeros(BLOCK))
    return [np.asarray(b, dtype=np.float32) for b in out]


def build():
    rng = np.random.default_rng(20261204)
    out = {"generator": "tests/data/make_mx_scale_golden.py", "block": BLOCK, "formats": {}}
    for name, (fmt, max_elem, emax, mbits) in FORMATS.items():
        values = table(*fmt) if fmt else None
        bs = blocks(rng, max_elem, emax, mbits)
        x = [float(v) for b in bs for v in b]
        entry = {"values": x, "rules": {}}
        for rule in RULES:
            scale_codes, codes, xhat, saturated = [], [], [], 0
            for b in bs:
                amax = float(np.max(np.abs(b)))
                code = 0 if amax == 0 else max(-127, min(127, scale_exponent(amax, rule, max_elem, emax, mbits))) + 127
                X = math.ldexp(1.0, code - 127)
                scale_codes.append(code)
                any_over = False
                for v in b:
                    c, e, over = element(float(v) / X, fmt, values, max_elem)
                    codes.append(c)
                    xhat.append(e * X)
                    any_over |= over
                saturated += any_over
            entry["rules"][rule] = {"scaleCodes": scale_codes, "codes": codes, "xhat": xhat, "saturatedBlocks": saturated}
        out["formats"][name] = entry
    return out


def main():
    path = Path(__file__).with_name("mx_scales.json")
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
