// Calibration: choosing the range [min, max] from the samples when none is given.
//
//   minmax      [min(x), max(x)].
//   percentile  symmetric mode: t = P_p(|x|), range [−t, t]; asymmetric modes: [P_(100−p)(x), P_p(x)].
//               P is numpy's default percentile: linear between the closest ranks.
//   mse         the range whose quantization MSE on these samples is smallest. A scan of 200
//               candidate ranges (α·min-max for α = 1/200 … 1, symmetric: [−α·max|x|, α·max|x|])
//               estimates each MSE from a 4096-bin histogram; the 5 best, the min-max range and
//               the percentile ranges (99, 99.9, 99.99, 99.999 and the option's p) are then
//               measured exactly, with the scheme's own kernel, and the smallest wins. So it is
//               never worse than min-max or those percentiles.
//   entropy     TensorRT's KL calibration: a 2048-bin histogram of |x|; for each i from 2^(b−1)
//               to 2048 bins, P = the first i bins with the rest added to the last, Q = P's bins
//               merged into 2^(b−1) levels and spread back over P's non-empty bins, both smoothed
//               (ε = 1e-4, as MXNet/TVM do); the i with the smallest KL(P‖Q) gives the threshold
//               t = (i + 0.5)·width. Symmetric: [−t, t]; asymmetric: the min-max range clipped to
//               [−t, t]. With 2^(b−1) ≥ 2048 (b ≥ 12) there is nothing to search: min-max.
#pragma once

#include <cstddef>

#include "analyze.h"
#include "kernels.h"

namespace qe {

template <class In>
Result<CalibrationReport> calibrate(const In* x, size_t n, const QuantScheme& s, const SampleScan& scan, Kernel k);

}  // namespace qe
