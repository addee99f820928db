// Pasted text → samples (float64, exactly as typed: the nearest double, ties to even).
//
// Numbers are separated by any run of commas, semicolons, spaces, tabs or newlines; a leading
// or trailing separator is fine. A number may have a sign (+, - or U+2212 "−"), a fraction and
// an exponent (numpy's 1.e-03 and -0. too). What Python, NumPy, PyTorch and JAX print reads as
// its values: brackets and parentheses, nested to any depth and balanced ([[1, 2], [3, 4]],
// (0.1, 0.2)); the calls tensor(…), array(…), Array(…) and NumPy's scalars (np.float32(0.5),
// np.int64(3), …); their keyword arguments (dtype=float32, dtype=torch.float16,
// requires_grad=True, device='cuda:0', grad_fn=<AddBackward0>, size=(2,)), whose values are
// never samples; and the "..." (or "…") of an elided print, which is noted. Anything else — a
// word, "1.2.3", NaN, ±Inf, a value beyond double's range, an unbalanced bracket, a keyword
// argument without a value or outside a call — is an error that names the sample's 1-based
// position and the text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analyze.h"

namespace qe {

// What the caller should know about values that were read: a stable `code`, the sample it
// concerns (`index`, 0-based) and the `text` it is about, a view into the text read (the JS API
// says it in words).
//   "elided"         "..." (or "…") where a print left values out: only part of the tensor
//                    (index: the values before it, at the first such place; text: "..." or "…").
//   "decimal-comma"  "1,5 2,5": a comma between two whole numbers while other values are apart
//                    by spaces, tabs, newlines or semicolons: the commas may be decimal commas,
//                    read here as separators (index: the sample before the first such comma;
//                    text: "1,5").
struct ParseNote {
  const char* code = "";
  int64_t index = 0;
  std::string_view text;
};

struct ParsedValues {
  std::vector<double> values;
  std::vector<ParseNote> notes;  // in the order above, each at most once
};

Result<ParsedValues> read_values(std::string_view text);

// read_values without the notes.
Result<std::vector<double>> parse_values(std::string_view text);

// The whole of `s` as a decimal number: -?(digits[.digits] | .digits)([eE][+-]?digits)?, or inf,
// infinity, nan, nan(chars) in any case. `out` is the double nearest to it, ties to even (±inf
// past the largest double, ±0 below half the smallest); false when s is not such a number.
bool read_double(std::string_view s, double& out);

// A number for a message: the shortest text that reads back as exactly v, as printf's "%.Ng"
// writes it for the smallest such N (1e+101, 0.1, -2.5e-07, 3). Exact decimal arithmetic, no
// printf or strtod (they would add their long double code to the web modules).
std::string number_text(double v);

}  // namespace qe
