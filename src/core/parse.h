// Pasted text → samples (float64, exactly as typed: the nearest double, ties to even).
//
// Numbers are separated by any run of commas, semicolons, spaces, tabs or newlines; a leading
// or trailing separator is fine. A number may have a sign (+ or -), a fraction and an exponent.
// Anything else — a word, "1.2.3", NaN, ±Inf, a value beyond double's range — is an error that
// names the sample's 1-based position and its text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analyze.h"

namespace qe {

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
