"""Writes tests/data/profiles.json: what PyTorch and ONNX give for integer quantization, bit for
bit, to check the calculator's `pytorch` and `onnx` profiles.

Run with Debian's python3, numpy and python3-torch (1.13):
    /usr/bin/python3 tests/data/make_profile_golden.py           # rewrite profiles.json
    /usr/bin/python3 tests/data/make_profile_golden.py --check   # exit 1 if it differs

PyTorch: MinMaxObserver / PerChannelMinMaxObserver (float32 tensors) give scale and zero point;
torch.fake_quantize_per_tensor_affine_cachemask / fake_quantize_per_channel_affine give x_hat (its
float32 bits) and which samples were clamped; the code is round(x_hat / scale) + zero_point.
Explicit scales and zero points go straight to the fake-quantize functions.

ONNX: ONNX Runtime is not packaged for Debian, so its two pieces are written here from their
definitions: onnxruntime.quantization.quant_utils.compute_scale_zp / get_qmin_qmax_for_qType
(the MinMax calibration, in numpy as ONNX Runtime computes it) and the QuantizeLinear /
DequantizeLinear specification (y = saturate(round(x / y_scale) + y_zero_point), round half to
even, x / y_scale in float32; x = (y − y_zero_point) · x_scale in float32).
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver


def datasets():
    rng = np.random.default_rng(20261124)
    normal = rng.normal(0.2, 1.3, 1000).astype(np.float32)
    # Exact ties: with the range [-1.28, 1.27] (qint8 affine) the scale is 0.01 in float32 and many
    # values land on k + 1/2 steps; odd zero points make the rounding order matter.
    steps = rng.integers(-120, 120, 400).astype(np.float32)
    ties = (np.float32(0.01) * (steps + np.float32(0.5))).astype(np.float32)
    ties = np.concatenate([ties, np.array([-1.28, 1.27], dtype=np.float32)])
    positive = np.abs(rng.normal(0, 2, 300)).astype(np.float32) + np.float32(0.5)
    negative = -positive
    return {
        "normal": normal,
        "ties": ties,
        "positive-only": positive,
        "negative-only": negative,
        "constant": np.full(50, 0.75, dtype=np.float32),
        "all-zero": np.zeros(40, dtype=np.float32),
        "tiny-range": (rng.normal(0, 1, 200) * 1e-9).astype(np.float32),
    }


TORCH_CONFIGS = [
    # (name, observer kwargs, API options)
    ("qint8 affine", dict(dtype=torch.qint8, qscheme=torch.per_tensor_affine), dict(dtype="int8", mode="asymmetric")),
    ("qint8 symmetric", dict(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric), dict(dtype="int8", mode="symmetric")),
    ("quint8 affine", dict(dtype=torch.quint8, qscheme=torch.per_tensor_affine), dict(dtype="uint8", mode="asymmetric")),
    ("quint8 symmetric", dict(dtype=torch.quint8, qscheme=torch.per_tensor_symmetric), dict(dtype="uint8", mode="symmetric")),
    ("quint8 affine reduce_range", dict(dtype=torch.quint8, qscheme=torch.per_tensor_affine, reduce_range=True),
     dict(dtype="uint8", mode="asymmetric", reduceRange=True)),
    ("qint8 symmetric reduce_range", dict(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric, reduce_range=True),
     dict(dtype="int8", mode="symmetric", reduceRange=True)),
    ("4-bit qint8 [-8, 7] affine", dict(dtype=torch.qint8, qscheme=torch.per_tensor_affine, quant_min=-8, quant_max=7),
     dict(dtype="int8", mode="asymmetric", qmin=-8, qmax=7)),
    ("4-bit quint8 [0, 15] symmetric", dict(dtype=torch.quint8, qscheme=torch.per_tensor_symmetric, quant_min=0, quant_max=15),
     dict(dtype="uint8", mode="symmetric", qmin=0, qmax=15)),
]


def f32list(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).reshape(-1)]


def torch_case(name, x, observer, options):
    t = torch.from_numpy(x)
    obs = MinMaxObserver(**observer)
    obs(t)
    scale, zp = obs.calculate_qparams()
    return torch_apply(name, x, float(scale), int(zp), obs.quant_min, obs.quant_max, options)


def torch_apply(name, x, scale, zp, qmin, qmax, options):
    t = torch.from_numpy(x)
    xhat, mask = torch.fake_quantize_per_tensor_affine_cachemask(t, scale, zp, qmin, qmax) if hasattr(
        torch, "fake_quantize_per_tensor_affine_cachemask") else torch.ops.aten.fake_quantize_per_tensor_affine_cachemask(
        t, scale, zp, qmin, qmax)
    xhat = xhat.numpy()
    codes = np.rint(xhat.astype(np.float64) / np.float64(np.float32(scale))).astype(np.int64) + zp
    return {
        "name": name, "profile": "pytorch", "options": options,
        "scale": [float(np.float32(scale))], "zero_point": [zp], "qmin": qmin, "qmax": qmax,
        "codes": [int(c) for c in codes], "dequantized": f32list(xhat),
        "clipped": [int(not m) for m in mask.numpy()],
    }


# ONNX Runtime's calibration and the ONNX operators, written from their definitions.
def onnx_qrange(dtype, reduce_range, symmetric):
    if dtype == "uint8":
        return (0, 127) if reduce_range else (0, 255)
    if dtype == "int8":
        if reduce_range:
            return (-64, 64)
        return (-127, 127) if symmetric else (-128, 127)
    if dtype == "int4":
        return (-7, 7) if symmetric else (-8, 7)
    return (0, 15)


DTYPE_RANGE = {"uint8": (0, 255), "int8": (-128, 127), "uint4": (0, 15), "int4": (-8, 7)}


def onnx_compute_scale_zp(rmin, rmax, qmin, qmax, symmetric):
    rmin = np.minimum(rmin, np.float32(0))
    rmax = np.maximum(rmax, np.float32(0))
    if symmetric:
        absmax = np.maximum(np.abs(rmin), np.abs(rmax))
        rmin, rmax = -absmax, absmax
    dr = np.array(rmax - rmin, dtype=np.float64)
    dq = np.float64(qmax) - np.float64(qmin)
    scale = np.array(dr / dq)
    if scale < np.finfo(np.float32).tiny:
        return np.float32(1.0), 0
    zp = int(np.round((qmin + qmax) / 2.0)) if symmetric else int(np.round(qmin - rmin / scale))
    return np.float32(scale), zp


def onnx_case(name, x, dtype, symmetric, reduce_range):
    qmin, qmax = onnx_qrange(dtype, reduce_range, symmetric)
    scale, zp = onnx_compute_scale_zp(x.min(), x.max(), qmin, qmax, symmetric)
    lo, hi = DTYPE_RANGE[dtype]
    q = np.rint(x / scale).astype(np.float32) + np.float32(zp)  # x / y_scale in float32, then + y_zero_point
    y = np.clip(q, lo, hi).astype(np.int64)
    xhat = ((y - zp).astype(np.float32) * scale).astype(np.float32)
    return {
        "name": name, "profile": "onnx",
        "options": dict(dtype=dtype, mode="symmetric" if symmetric else "asymmetric", reduceRange=reduce_range),
        "scale": [float(scale)], "zero_point": [zp], "qmin": lo, "qmax": hi,
        "codes": [int(v) for v in y], "dequantized": f32list(xhat), "clipped": [int(a != b) for a, b in zip(q, y)],
    }


def build():
    data = datasets()
    cases = []
    for dname, x in data.items():
        for name, observer, options in TORCH_CONFIGS:
            cases.append({"data": dname, **torch_case(f"{dname}: {name}", x, observer, options)})
    # Explicit scale and zero point (fake_quantize directly).
    for dname in ["normal", "ties"]:
        cases.append({"data": dname, **torch_apply(f"{dname}: quint8 scale 0.03 zero point 131", data[dname], 0.03, 131, 0, 255,
                                                   dict(dtype="uint8", mode="asymmetric", scale=0.03, zeroPoint=131))})
    # Per channel.
    rng = np.random.default_rng(7)
    w = (rng.normal(0, 1, (8, 64)) * np.linspace(0.1, 4, 8)[:, None]).astype(np.float32)
    for qscheme, dtype, mode in [(torch.per_channel_affine, torch.qint8, "asymmetric"), (torch.per_channel_symmetric, torch.qint8, "symmetric"),
                                 (torch.per_channel_affine, torch.quint8, "asymmetric")]:
        obs = PerChannelMinMaxObserver(ch_axis=0, dtype=dtype, qscheme=qscheme)
        t = torch.from_numpy(w)
        obs(t)
        scale, zp = obs.calculate_qparams()
        xhat = torch.fake_quantize_per_channel_affine(t, scale.float(), zp.int(), 0, obs.quant_min, obs.quant_max).numpy()
        s64 = scale.double().numpy()[:, None]
        codes = np.rint(xhat.astype(np.float64) / s64).astype(np.int64) + zp.numpy()[:, None]
        cases.append({
            "data": "weights", "name": f"weights [8, 64] per channel: {'qint8' if dtype == torch.qint8 else 'quint8'} {mode}", "profile": "pytorch",
            "options": dict(dtype="int8" if dtype == torch.qint8 else "uint8", mode=mode, granularity="channel", shape=[8, 64], axis=0),
            "scale": f32list(scale), "zero_point": [int(v) for v in zp], "qmin": obs.quant_min, "qmax": obs.quant_max,
            "codes": [int(v) for v in codes.reshape(-1)], "dequantized": f32list(xhat), "clipped": None,
        })
    for dname in ["normal", "ties", "positive-only", "constant", "all-zero", "tiny-range"]:
        for dtype in ["uint8", "int8", "uint4", "int4"]:
            for symmetric in [False, True]:
                cases.append({"data": dname, **onnx_case(f"{dname}: onnx {dtype} {'symmetric' if symmetric else 'asymmetric'}", data[dname], dtype, symmetric, False)})
        cases.append({"data": dname, **onnx_case(f"{dname}: onnx uint8 reduce_range", data[dname], "uint8", False, True)})
    return {
        "generator": "tests/data/make_profile_golden.py",
        "torch": torch.__version__,
        "data": {k: f32list(v) for k, v in data.items()} | {"weights": f32list(w)},
        "cases": cases,
    }


def main():
    warnings.filterwarnings("ignore", message="Please use quant_min and quant_max")
    out = Path(__file__).with_name("profiles.json")
    with np.errstate(all="ignore"):
        text = json.dumps(build(), separators=(",", ":")) + "\n"
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
