// How the command line writes numbers and text: the table's short numbers, CSV and JSON cells.
// One place for main.cpp's tensor reports and layer_cli.cpp's layer report.
#pragma once

#include <string>

namespace qe::cli {

// The shortest text that reads back to v ("" for NaN, "Infinity" and "-Infinity").
std::string num(double v);
// Six significant digits for the table ("-" for NaN, "inf", "-inf").
std::string short_num(double v);
// A JSON number: num(v), or null when v is not finite.
std::string json_num(double v);
// As json_num, with +∞ written as the string "Infinity" (an exact reconstruction's SQNR).
std::string json_num_or_infinity(double v);
// A JSON string: quotes and backslashes escaped, control characters as \u00XX.
std::string json_string(const std::string& s);
// A text cell (numbers are written by num()), by the page's rule (web/src/export/csv.js): text
// that begins with = + - @, a tab or a CR gets a leading apostrophe, so that spreadsheets do not
// run it as a formula ("-1+2", "+5e3" and "-2+3+cmd|' /C calc'!A0" included: text is never a
// number here); a cell with a comma, quote or line break is quoted, its quotes doubled.
std::string csv_cell(const std::string& s);

}  // namespace qe::cli
