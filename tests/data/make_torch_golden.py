"""Writes tests/data/torch_per_channel.json: per-channel 8-bit quantization as PyTorch does it,
with torch.ao.quantization.observer.PerChannelMinMaxObserver (per_channel_affine, qint8) and
torch.fake_quantize_per_channel_affine / torch.quantize_per_channel, for seeded float32 tensors;
and per tensor with MinMaxObserver (per_tensor_affine, qint8) and the per-tensor functions
(cases with "axis": null).

Run with Debian's python3 and python3-torch (1.13):
    /usr/bin/python3 tests/data/make_torch_golden.py           # rewrite torch_per_channel.json
    /usr/bin/python3 tests/data/make_torch_golden.py --check   # exit 1 if it differs

Where the calculator's formulas and PyTorch's conventions agree, the results must be equal:
- The observer's range always includes 0 (min(x_c, 0), max(x_c, 0)); every channel here holds
  values of both signs, so it is the min-max range of the formulas.
- scale = (max - min) / (q_max - q_min) in float32 after float32 min and max; the formulas divide
  in float64 and round once to float32. zero_point = q_min - round(min / scale) (half to even),
  clamped: the same formula.
- The kernels compute round(x * (1 / scale)) + zero_point in float32, the formulas
  round(x / scale + zero_point): equal when 1 / scale is exact.
The "power-of-two" cases choose each channel's extremes so that scale = 2^-k exactly, with exact
ties among the values: there every code and x̂ must match bit for bit. The "normal" case has
arbitrary scales: scales agree to 1 float32 ulp, zero points exactly, and codes everywhere except
at samples whose x / scale lies within 1e-4 of a rounding boundary (listed as near_ties).
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

QMIN, QMAX = -128, 127


def pow2_channels(rng, shape, axis):
    """Values in [lo, hi] per channel with lo = -a·2^-k and hi = (255 - a)·2^-k planted, so
    scale = 2^-k and zero_point = a - 128; a third of the values are exact ties (k + 1/2 steps)."""
    x = np.empty(shape, dtype=np.float32)
    moved = np.moveaxis(x, axis, 0)
    for c in range(shape[axis]):
        k = int(rng.integers(2, 9))
        a = int(rng.integers(20, 236))
        step = 2.0 ** -k
        lo, hi = -a * step, (255 - a) * step
        size = moved[c].size
        v = rng.uniform(lo, hi, size)
        ties = rng.random(size) < 1 / 3
        v[ties] = (np.floor(v[ties] / step) + 0.5) * step
        flat = v.astype(np.float32)
        flat[0], flat[1] = lo, hi
        flat[2] = 0.0
        moved[c] = flat.reshape(moved[c].shape)
    return x


def torch_reference(x, axis):
    t = torch.from_numpy(x)
    obs = PerChannelMinMaxObserver(ch_axis=axis, dtype=torch.qint8, qscheme=torch.per_channel_affine)
    obs(t)
    scale, zero_point = obs.calculate_qparams()
    scale = scale.to(torch.float32)
    zero_point = zero_point.to(torch.int32)
    xhat = torch.fake_quantize_per_channel_affine(t, scale, zero_point, axis, QMIN, QMAX)
    codes = torch.quantize_per_channel(t, scale.double(), zero_point.long(), axis, torch.qint8).int_repr()
    return scale.numpy(), zero_point.numpy(), codes.numpy().astype(np.int32), xhat.numpy()


def torch_per_tensor(x):
    t = torch.from_numpy(x)
    obs = MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_affine)
    obs(t)
    scale, zero_point = obs.calculate_qparams()
    s, z = float(scale), int(zero_point)
    xhat = torch.fake_quantize_per_tensor_affine(t, s, z, QMIN, QMAX)
    codes = torch.quantize_per_tensor(t, s, z, torch.qint8).int_repr()
    return np.array([s], dtype=np.float32), np.array([z]), codes.numpy().astype(np.int32), xhat.numpy()


def near_ties(x, scale, axis):
    shape = [1] * x.ndim
    shape[axis] = -1
    s = x.astype(np.float64) / scale.astype(np.float64).reshape(shape)
    frac = s - np.floor(s)
    return np.flatnonzero(np.abs(frac - 0.5) < 1e-4).tolist()


def build():
    rng = np.random.default_rng(20261124)
    cases = []
    for name, shape, axis, values in [
        ("power-of-two, axis 0", [6, 3, 8], 0, None),
        ("power-of-two, axis 1", [4, 5, 6], 1, None),
        ("power-of-two, last axis", [16, 7], -1, None),
        ("normal, axis 0", [8, 64], 0, rng.normal(0.0, 1.0, (8, 64)).astype(np.float32) * np.linspace(0.2, 3, 8, dtype=np.float32)[:, None]),
        ("per tensor (MinMaxObserver), power-of-two", [300], None, None),
        ("per tensor (MinMaxObserver), normal", [1000], None, rng.normal(0.5, 2.0, 1000).astype(np.float32)),
    ]:
        if axis is None:  # per tensor: MinMaxObserver
            x = values if values is not None else pow2_channels(rng, [1] + shape, 0).reshape(shape)
            scale, zero_point, codes, xhat = torch_per_tensor(x)
        else:
            x = values if values is not None else pow2_channels(rng, shape, axis % len(shape))
            scale, zero_point, codes, xhat = torch_reference(x, axis % len(shape))
        cases.append({
            "name": name,
            "shape": shape,
            "axis": axis,
            "exact": values is None,
            "values": [float(v) for v in x.reshape(-1)],
            "scale": [float(v) for v in scale],
            "zero_point": [int(v) for v in zero_point],
            "codes": [int(v) for v in codes.reshape(-1)],
            "dequantized": [float(v) for v in xhat.reshape(-1)],
            "near_ties": [] if values is None else near_ties(x, scale, 0 if axis is None else axis % len(shape)),
        })
    return {
        "generator": "tests/data/make_torch_golden.py",
        "torch": torch.__version__,
        "observer": "PerChannelMinMaxObserver(dtype=qint8, qscheme=per_channel_affine); fake_quantize_per_channel_affine(-128, 127)",
        "cases": cases,
    }


def main():
    out = Path(__file__).with_name("torch_per_channel.json")
    text = json.dumps(build(), indent=None, separators=(",", ":")) + "\n"
    if "--check" in sys.argv:
        if out.read_text() != text:
            print(f"{out} differs from what {Path(__file__).name} computes", file=sys.stderr)
            sys.exit(1)
        print(f"{out.name} is what {Path(__file__).name} computes")
        return
    out.write_text(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
