// quant-error --layer: W [out, in] from a tensor file's tensor, X [tokens, in] from an .npy file or
// generated (seeded), each side quantized by its own scheme (or left float), through the core's
// analyze_layer / analyze_chain (src/core/layer.h); the result as a table, CSV or JSON.
#include "layer_cli.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analyze.h"
#include "layer.h"
#include "name_pattern.h"
#include "text.h"

namespace qe::cli {

namespace {

constexpr const char* kLayerHelp = R"(quant-error --layer: a linear layer Y = X·Wᵀ with quantized weights and activations

Usage: quant-error --layer WEIGHTS_FILE [--tensor REGEX] [--activations FILE.npy | KIND] [options]

The weights W [out, in] are the one two-dimensional tensor of WEIGHTS_FILE (.npy, .safetensors,
.gguf) whose name --tensor matches. The activations X [tokens, in] are an .npy file ([tokens, in],
or one axis of tokens × in values) or generated:
  --activations KIND       normal | heavy | outliers | relu | gelu (default outliers: LLM-like, a few
                           channels 20-100x the rest), as the page generates them
  --tokens N               generated tokens (default 64)
  --activation-seed N      their seed (default 2)

Each side's scheme (W: per output channel by default; X: per tensor):
  --weight-bits N | float            2 to 16, or float: W is not quantized (default 8)
  --weight-mode MODE                 symmetric | asymmetric | asymmetric-unsigned (default symmetric)
  --weight-granularity G             tensor | channel | group (default channel)
  --weight-group-size N              along in, for group (default 128)
  --weight-calibration C             minmax | percentile | mse | entropy (default minmax)
  --weight-format F                  int, or a float or block format (as --format; default int)
  --activation-bits, --activation-mode (default asymmetric), --activation-granularity tensor |
  token | group (default tensor), --activation-group-size, --activation-calibration,
  --activation-format                the same for X

The accumulator and the output codes:
  --accumulator A          int32 | int16 | float32 (default: int32 for integer codes on both sides)
  --accumulator-overflow O wrap | saturate (default wrap)
  --requantize P           formula | onnx | tflite: whose output codes (default formula)
  --out-codes C            none | auto (default auto where both sides are per-tensor or per-channel
                           integers and X has one scale, else none)
  --out-scale S, --out-zero-point Z   given output parameters (instead of Y's range)
  --out-dtype D            int8 | uint8 (default int8)

A second layer:
  --next F                 relu | gelu | silu: f(Y)·W2ᵀ after the first layer
  --next-out N             W2's out (default: the first layer's in); W2 is generated, normal 1/√out
  --next-seed N            its seed (default 3)

  --output O               table | csv | json (default table)

Exit status: 0 when the layer was computed, 1 when a file or tensor could not be read or the
core refused the inputs (the message names the option), 2 for bad options.
)";

// xorshift32 (13, 17, 5) and its uniform u = (s + 0.5)/2^32 in (0, 1), as the page draws them.
struct Uniforms {
  uint32_t s;
  explicit Uniforms(uint32_t seed) : s(seed ? seed : 0x9e3779b9u) {}
  double operator()() {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return (static_cast<double>(s) + 0.5) / 4294967296.0;
  }
};

// Box–Muller, both values of a pair used: r = √(−2·ln u1), z1 = r·cos(2π·u2), z2 = r·sin(2π·u2).
struct Normals {
  Uniforms u;
  std::optional<double> spare;
  explicit Normals(uint32_t seed) : u(seed) {}
  double operator()() {
    if (spare) {
      const double z = *spare;
      spare.reset();
      return z;
    }
    const double r = std::sqrt(-2 * std::log(u()));
    const double a = 2 * M_PI * u();
    spare = r * std::sin(a);
    return r * std::cos(a);
  }
};

}  // namespace

std::vector<float> generate_activations(const std::string& kind, size_t tokens, size_t in, uint32_t seed) {
  static const char* kinds[] = {"normal", "heavy", "outliers", "relu", "gelu"};
  if (std::find_if(std::begin(kinds), std::end(kinds), [&](const char* k) { return kind == k; }) == std::end(kinds)) return {};
  Normals z(seed);
  std::vector<float> out(tokens * in);
  if (kind == "outliers") {
    // max(1, round(in / 256)) channels, each scaled by a factor in [20, 100], from their own stream.
    std::vector<double> factor(in, 1.0);
    Uniforms u(seed ^ 0x5bd1e995u);
    const size_t count = std::min(in, std::max<size_t>(1, static_cast<size_t>(std::floor(static_cast<double>(in) / 256 + 0.5))));
    std::vector<size_t> chosen;
    while (chosen.size() < count) {
      const size_t c = std::min(in - 1, static_cast<size_t>(std::floor(u() * static_cast<double>(in))));
      if (std::find(chosen.begin(), chosen.end(), c) != chosen.end()) continue;
      chosen.push_back(c);
      factor[c] = 20 + 80 * u();
    }
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(z() * factor[i % in]);
    return out;
  }
  const double c = std::sqrt(2 / M_PI);
  for (float& v : out) {
    if (kind == "normal") {
      v = static_cast<float>(z());
    } else if (kind == "relu") {
      v = static_cast<float>(std::max(0.0, z()));
    } else if (kind == "gelu") {
      // GELU, tanh form: x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      const double x = z();
      v = static_cast<float>(0.5 * x * (1 + std::tanh(c * (x + 0.044715 * x * x * x))));
    } else {
      // Student t, ν = 3: z / √(χ²₃ / 3), over √3 for unit variance (draws in this order).
      const double x = z();
      const double a = z(), b = z(), d = z();
      const double chi = a * a + b * b + d * d;
      v = static_cast<float>(x / std::sqrt(chi / 3) / std::sqrt(3.0));
    }
  }
  return out;
}

std::vector<float> generate_weights(size_t out, size_t in, uint32_t seed) {
  Normals z(seed);
  std::vector<float> w(out * in);
  const double s = 1 / std::sqrt(static_cast<double>(in));
  for (float& v : w) v = static_cast<float>(z() * s);
  return w;
}

namespace {

std::string dims(size_t a, size_t b) { return "[" + std::to_string(a) + ", " + std::to_string(b) + "]"; }

// One side's flags, before they become a scheme.
struct SideFlags {
  std::string bits = "8", mode, granularity, group_size = "128", calibration = "minmax", format = "int";
};

std::optional<int64_t> whole(const std::string& v, int64_t lo, int64_t hi) {
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < lo || n > hi) return std::nullopt;
  return n;
}

// The side's scheme (nullopt: float), or the flag that is wrong.
std::variant<std::optional<QuantScheme>, std::string> scheme_of(const SideFlags& f, const char* side, bool activations) {
  const std::string at = std::string("--") + side + "-";
  if (f.bits == "float") return std::optional<QuantScheme>{};
  QuantScheme s;
  if (f.format != "int") {
    if (!select_ggml_format(s, f.format)) {
      auto format = parse_format(f.format);
      if (!format || *format == NumberFormat::Custom) return "bad value \"" + f.format + "\" for " + at + "format";
      s.format = *format;
    }
    return std::optional<QuantScheme>{s};
  }
  auto bits = whole(f.bits, 2, 16);
  if (!bits) return "bad value \"" + f.bits + "\" for " + at + "bits (2 to 16, or float)";
  s.bits = static_cast<int>(*bits);
  auto mode = parse_mode(f.mode);
  if (!mode) return "bad value \"" + f.mode + "\" for " + at + "mode";
  s.mode = *mode;
  auto calibration = parse_calibration(f.calibration);
  if (!calibration) return "bad value \"" + f.calibration + "\" for " + at + "calibration";
  s.calibration = *calibration;
  if (f.granularity == "channel" && !activations) {
    s.granularity = Granularity::Channel;  // per output channel: axis 0 of [out, in]
  } else if (f.granularity == "token" && activations) {
    s.granularity = Granularity::Channel;  // per token: axis 0 of [tokens, in]
  } else if (f.granularity == "group") {
    auto g = whole(f.group_size, 1, int64_t{1} << 30);
    if (!g) return "bad value \"" + f.group_size + "\" for " + at + "group-size";
    s.granularity = Granularity::Group;
    s.group_size = *g;
  } else if (f.granularity != "tensor") {
    return "bad value \"" + f.granularity + "\" for " + at + "granularity (" + (activations ? "tensor, token or group" : "tensor, channel or group") + ")";
  }
  return std::optional<QuantScheme>{s};
}

// The core's error field → the flag a user gives for it.
std::string flag_of(const std::string& field) {
  static const std::map<std::string, std::string> flags = {
      {"weightShape", "the weights' tensor"}, {"activationShape", "--activations"}, {"weights", "the weights' tensor"},
      {"activations", "--activations"}, {"accumulator", "--accumulator"}, {"overflow", "--accumulator-overflow"}, {"profile", "--requantize"},
      {"output", "--out-codes"}, {"output.scale", "--out-scale"}, {"output.zeroPoint", "--out-zero-point"}};
  if (auto it = flags.find(field); it != flags.end()) return it->second;
  const auto dot = field.find('.');
  const std::string head = field.substr(0, dot), rest = dot == std::string::npos ? "" : field.substr(dot + 1);
  const std::map<std::string, std::string> keys = {{"bits", "bits"}, {"mode", "mode"}, {"granularity", "granularity"}, {"axis", "granularity"},
      {"groupSize", "group-size"}, {"calibration", "calibration"}, {"percentile", "calibration"}, {"format", "format"}};
  const auto key = keys.count(rest) ? keys.at(rest) : "format";
  if (head == "weightScheme") return "--weight-" + key;
  if (head == "activationScheme") return "--activation-" + key;
  if (head == "next") return "--next";
  return field;
}

struct Input {
  std::vector<float> f32;
  std::vector<double> f64;
  std::vector<int64_t> shape;
  LayerTensor tensor() const {
    LayerTensor t;
    if (!f32.empty() || f64.empty()) t.f32 = f32.data(), t.count = f32.size();
    else t.f64 = f64.data(), t.count = f64.size();
    t.shape = shape;
    return t;
  }
};

}  // namespace

int run_layer(int argc, char** argv, const LayerFiles& files) {
  const auto usage = [](const std::string& message) {
    std::fprintf(stderr, "quant-error --layer: %s (see --layer --help)\n", message.c_str());
    return 2;
  };
  const auto fail = [](const std::string& message) {
    std::fprintf(stderr, "quant-error --layer: %s\n", message.c_str());
    return 1;
  };
  std::vector<std::string> positional;
  std::string pattern, activations = "outliers", tokens = "64", activation_seed = "2", accumulator, acc_overflow = "wrap", requantize = "formula",
                       out_codes, out_scale, out_zero_point, out_dtype = "int8", next, next_out, next_seed = "3", output = "table";
  SideFlags w{"8", "symmetric", "channel"}, x{"8", "asymmetric", "tensor"};
  std::map<std::string, std::string*> flags = {
      {"--tensor", &pattern}, {"--activations", &activations}, {"--tokens", &tokens}, {"--activation-seed", &activation_seed},
      {"--weight-bits", &w.bits}, {"--weight-mode", &w.mode}, {"--weight-granularity", &w.granularity}, {"--weight-group-size", &w.group_size},
      {"--weight-calibration", &w.calibration}, {"--weight-format", &w.format}, {"--activation-bits", &x.bits}, {"--activation-mode", &x.mode},
      {"--activation-granularity", &x.granularity}, {"--activation-group-size", &x.group_size}, {"--activation-calibration", &x.calibration},
      {"--activation-format", &x.format}, {"--accumulator", &accumulator}, {"--accumulator-overflow", &acc_overflow}, {"--requantize", &requantize},
      {"--out-codes", &out_codes}, {"--out-scale", &out_scale}, {"--out-zero-point", &out_zero_point}, {"--out-dtype", &out_dtype},
      {"--next", &next}, {"--next-out", &next_out}, {"--next-seed", &next_seed}, {"--output", &output}};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--layer") continue;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kLayerHelp, stdout);
      return 0;
    }
    if (arg.rfind("--", 0) != 0) {
      positional.push_back(arg);
      continue;
    }
    auto it = flags.find(arg);
    if (it == flags.end()) return usage("unknown option " + arg + " for a layer");
    if (i + 1 >= argc) return usage(arg + " needs a value");
    *it->second = argv[++i];
  }
  if (positional.size() != 1) return usage(positional.empty() ? "no weights file given" : "one weights file, not " + std::to_string(positional.size()));
  if (output != "table" && output != "csv" && output != "json") return usage("bad value \"" + output + "\" for --output");

  LayerOptions opt;
  for (auto [flags_of, side, is_x] : {std::tuple{&w, "weight", false}, std::tuple{&x, "activation", true}}) {
    auto s = scheme_of(*flags_of, side, is_x);
    if (auto* bad = std::get_if<std::string>(&s)) return usage(*bad);
    (is_x ? opt.activation_scheme : opt.weight_scheme) = std::get<std::optional<QuantScheme>>(s);
  }
  if (!accumulator.empty()) {
    auto a = parse_accumulator(accumulator);
    if (!a || *a == Accumulator::Double) return usage("bad value \"" + accumulator + "\" for --accumulator (int32, int16 or float32)");
    opt.accumulator = *a;
  }
  if (acc_overflow != "wrap" && acc_overflow != "saturate") return usage("bad value \"" + acc_overflow + "\" for --accumulator-overflow");
  opt.overflow = acc_overflow == "wrap" ? AccumulatorOverflow::Wrap : AccumulatorOverflow::Saturate;
  auto profile = parse_layer_profile(requantize);
  if (!profile) return usage("bad value \"" + requantize + "\" for --requantize (formula, onnx or tflite)");
  opt.profile = *profile;
  // Output codes by default where they apply: integer codes on both sides, one activation scale,
  // one weight scale per output channel (or one for the tensor).
  const auto integer = [](const std::optional<QuantScheme>& s) { return s && s->format == NumberFormat::Int; };
  const bool codes_apply = integer(opt.weight_scheme) && integer(opt.activation_scheme) && opt.activation_scheme->granularity == Granularity::Tensor &&
                           opt.weight_scheme->granularity != Granularity::Group;
  if (out_codes.empty()) out_codes = codes_apply || !out_scale.empty() ? "auto" : "none";
  if (out_codes != "none" && out_codes != "auto") return usage("bad value \"" + out_codes + "\" for --out-codes (none or auto)");
  opt.output.enabled = out_codes == "auto";
  if (!out_scale.empty()) {
    char* end = nullptr;
    const double v = std::strtod(out_scale.c_str(), &end);
    if (*end != '\0' || !(v > 0) || !std::isfinite(v)) return usage("bad value \"" + out_scale + "\" for --out-scale (a number above 0)");
    opt.output.scale = v;
    opt.output.zero_point = 0;
  }
  if (!out_zero_point.empty()) {
    auto z = whole(out_zero_point[0] == '-' ? out_zero_point.substr(1) : out_zero_point, 0, 255);
    if (!z) return usage("bad value \"" + out_zero_point + "\" for --out-zero-point");
    opt.output.zero_point = static_cast<int32_t>(out_zero_point[0] == '-' ? -*z : *z);
  }
  auto dtype = parse_dtype(out_dtype);
  if (!dtype || (*dtype != QDtype::Int8 && *dtype != QDtype::UInt8)) return usage("bad value \"" + out_dtype + "\" for --out-dtype (int8 or uint8)");
  opt.output.dtype = *dtype;
  std::optional<Activation> activation;
  if (!next.empty()) {
    activation = parse_activation(next);
    if (!activation) return usage("bad value \"" + next + "\" for --next (relu, gelu or silu)");
  }
  std::optional<NamePattern> select;
  if (!pattern.empty()) {
    auto compiled = NamePattern::compile(pattern);
    if (auto* why = std::get_if<std::string>(&compiled)) return usage("--tensor \"" + pattern + "\" is not a pattern this reads: " + *why);
    select.emplace(std::get<NamePattern>(std::move(compiled)));
  }

  // W: the one two-dimensional tensor the pattern matches.
  const std::string& path = positional[0];
  auto index = files.index(path);
  if (auto* message = std::get_if<std::string>(&index)) return fail(path + ": " + *message);
  std::vector<TensorInfo> matches;
  for (const TensorInfo& t : std::get<std::vector<TensorInfo>>(index)) {
    if (!t.skipped.empty() || t.shape.size() != 2) continue;
    if (select && !select->search(t.name)) continue;
    matches.push_back(t);
  }
  if (matches.size() != 1) {
    std::string names;
    for (size_t i = 0; i < matches.size() && i < 8; ++i) names += (i ? ", " : "") + matches[i].name;
    return fail(path + ": " + (matches.empty() ? "no two-dimensional tensor" + std::string(select ? " whose name matches --tensor" : "")
                                               : std::to_string(matches.size()) + " two-dimensional tensors (" + names + (matches.size() > 8 ? ", …" : "") +
                                                     "): choose one with --tensor"));
  }
  const TensorInfo& wt = matches[0];
  const std::string wname = wt.name.empty() ? path : wt.name;
  Input W, X;
  {
    auto v = files.values(path, wt);
    if (auto* message = std::get_if<std::string>(&v)) return fail(path + ": tensor \"" + wname + "\": " + *message);
    W.f64 = std::move(std::get<std::vector<double>>(v));
    W.shape = wt.shape;
  }
  const size_t out = static_cast<size_t>(W.shape[0]), in = static_cast<size_t>(W.shape[1]);
  // X: an .npy file, or generated.
  std::string x_source;
  const bool from_file = activations.size() > 4 && activations.compare(activations.size() - 4, 4, ".npy") == 0;
  if (from_file) {
    auto xi = files.index(activations);
    if (auto* message = std::get_if<std::string>(&xi)) return fail(activations + ": " + *message);
    const TensorInfo& t = std::get<std::vector<TensorInfo>>(xi).at(0);
    if (!t.skipped.empty()) return fail(activations + ": " + t.skipped);
    auto v = files.values(activations, t);
    if (auto* message = std::get_if<std::string>(&v)) return fail(activations + ": " + *message);
    X.f64 = std::move(std::get<std::vector<double>>(v));
    if (t.shape.size() == 2) X.shape = t.shape;
    else if (t.shape.size() == 1 && in > 0 && X.f64.size() % in == 0 && !X.f64.empty()) X.shape = {static_cast<int64_t>(X.f64.size() / in), static_cast<int64_t>(in)};
    else return fail(activations + ": shape " + [&] { std::string s = "["; for (size_t i = 0; i < t.shape.size(); ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]); return s + "]"; }() +
                     ": the activations are [tokens, in] with in = " + std::to_string(in) + " (the weights' in)");
    x_source = activations;
  } else {
    auto n = whole(tokens, 1, 1 << 20);
    if (!n) return usage("bad value \"" + tokens + "\" for --tokens");
    auto seed = whole(activation_seed, 0, 4294967295LL);
    if (!seed) return usage("bad value \"" + activation_seed + "\" for --activation-seed");
    X.f32 = generate_activations(activations, static_cast<size_t>(*n), in, static_cast<uint32_t>(*seed));
    if (X.f32.empty()) return usage("bad value \"" + activations + "\" for --activations (an .npy file, or normal, heavy, outliers, relu, gelu)");
    X.shape = {*n, static_cast<int64_t>(in)};
    x_source = "generated " + activations + ", seed " + activation_seed;
  }

  std::optional<ChainResult> chain;
  std::optional<LayerResult> single;
  Input W2;
  if (activation) {
    auto n2 = next_out.empty() ? std::optional<int64_t>(static_cast<int64_t>(in)) : whole(next_out, 1, 1 << 20);
    if (!n2) return usage("bad value \"" + next_out + "\" for --next-out");
    auto seed = whole(next_seed, 0, 4294967295LL);
    if (!seed) return usage("bad value \"" + next_seed + "\" for --next-seed");
    W2.f32 = generate_weights(static_cast<size_t>(*n2), out, static_cast<uint32_t>(*seed));
    W2.shape = {*n2, static_cast<int64_t>(out)};
    LayerOptions second = opt;
    second.output = OutputQuantization{};  // layer 2 takes layer 1's schemes, no output codes
    auto r = analyze_chain(W.tensor(), X.tensor(), opt, W2.tensor(), *activation, second);
    if (auto* e = std::get_if<Error>(&r)) return fail(flag_of(e->field) + ": " + e->message);
    chain = std::move(std::get<ChainResult>(r));
  } else {
    auto r = analyze_layer(W.tensor(), X.tensor(), opt);
    if (auto* e = std::get_if<Error>(&r)) return fail(flag_of(e->field) + ": " + e->message);
    single = std::move(std::get<LayerResult>(r));
  }
  const LayerResult& r = chain ? chain->first : *single;

  const auto side = [](const std::optional<QuantScheme>& scheme, bool per_token) -> std::string {
    if (!scheme) return "float";
    if (scheme->format != NumberFormat::Int) return scheme->ggml ? scheme->ggml->name : to_string(scheme->format);
    const std::string per = scheme->granularity == Granularity::Tensor ? "per tensor"
                          : scheme->granularity == Granularity::Group  ? "per group of " + std::to_string(scheme->group_size)
                          : per_token                                  ? "per token"
                                                                       : "per output channel";
    return std::to_string(scheme->bits) + "-bit " + to_string(scheme->mode) + " " + per;
  };
  const std::string w_scheme = side(opt.weight_scheme, false), x_scheme = side(opt.activation_scheme, true);
  // Per channel and per token: the lowest SQNR and where.
  const auto worst = [](const std::vector<double>& v) {
    size_t at = 0;
    for (size_t i = 1; i < v.size(); ++i)
      if (v[i] < v[at]) at = i;
    return std::pair{at, v.empty() ? NAN : v[at]};
  };
  const auto [wc, wc_db] = worst(r.channel_sqnr_db);
  const auto [wt_at, wt_db] = worst(r.token_sqnr_db);
  const auto sqnr_of = [&](double energy) { return energy > 0 ? 10 * std::log10(r.parts.signal / energy) : INFINITY; };
  const double predicted = r.parts.predicted_weights + r.parts.predicted_activations + r.parts.predicted_interaction;

  // The result as [quantity, value] rows: the table, the CSV and the JSON print these.
  std::vector<std::pair<std::string, std::string>> rows = {
      {"weights", path + (wt.name.empty() ? "" : ":" + wt.name)}, {"weight_shape", dims(out, in)}, {"weight_scheme", w_scheme},
      {"activations", x_source}, {"activation_shape", dims(r.tokens, in)}, {"activation_scheme", x_scheme},
      {"accumulator", to_string(r.accumulator)}, {"requantization", opt.output.enabled ? to_string(opt.profile) : "none"},
      {"sqnr_db", num(r.metrics.sqnr_db)}, {"cosine", num(r.metrics.cosine)}, {"relative_frobenius", num(r.relative_frobenius)},
      {"mse", num(r.metrics.mse)}, {"max_abs_error", num(r.metrics.max_abs_error)}, {"max_abs_error_index", std::to_string(r.metrics.max_abs_error_index)},
      {"worst_channel", std::to_string(wc)}, {"worst_channel_sqnr_db", num(wc_db)}, {"worst_token", std::to_string(wt_at)}, {"worst_token_sqnr_db", num(wt_db)},
      {"weights_part_sqnr_db", num(sqnr_of(r.parts.weights))}, {"weights_part_predicted_sqnr_db", num(sqnr_of(r.parts.predicted_weights))},
      {"activations_part_sqnr_db", num(sqnr_of(r.parts.activations))}, {"activations_part_predicted_sqnr_db", num(sqnr_of(r.parts.predicted_activations))},
      {"interaction_part_sqnr_db", num(sqnr_of(r.parts.interaction))}, {"interaction_part_predicted_sqnr_db", num(sqnr_of(r.parts.predicted_interaction))},
      {"predicted_sqnr_db", num(sqnr_of(predicted))}};
  if (r.accumulator_report) {
    const AccumulatorReport& a = *r.accumulator_report;
    rows.insert(rows.end(), {{"accumulator_block", std::to_string(a.block)}, {"accumulator_product_max", std::to_string(a.product_max)},
                             {"accumulator_bound", num(a.bound)}, {"accumulator_data_bound", num(a.data_bound)}, {"accumulator_max_abs", std::to_string(a.max_abs)},
                             {"int16_overflows", std::to_string(a.int16.wrapped)}, {"int32_overflows", std::to_string(a.int32.wrapped)},
                             {"int16_wrap_sqnr_db", num(a.int16.wrap_sqnr_db)}, {"int32_wrap_sqnr_db", num(a.int32.wrap_sqnr_db)}});
    if (a.int32.saturated) rows.push_back({"int32_saturated", std::to_string(*a.int32.saturated)});
  }
  if (r.requantization) {
    const Requantization& q = *r.requantization;
    rows.insert(rows.end(), {{"output_scale", num(q.scale)}, {"output_zero_point", std::to_string(q.zero_point)},
                             {"output_parameters", q.derived ? "from the output range" : "given"}, {"real_multiplier", num(q.real_multiplier[0])},
                             {"multiplier", std::to_string(q.multiplier[0])}, {"shift", std::to_string(q.shift[0])},
                             {"onnx_multiplier", num(q.onnx_multiplier[0])}, {"multipliers", std::to_string(q.multiplier.size())},
                             {"output_clipped", std::to_string(q.clipped)}, {"formula_differs", std::to_string(q.formula_differs)},
                             {"onnx_differs", std::to_string(q.onnx_differs)}, {"tflite_differs", std::to_string(q.tflite_differs)},
                             {"qdq_differs", std::to_string(q.qdq_differs)}, {"reason_tie", std::to_string(q.ties)},
                             {"reason_multiplier", std::to_string(q.multiplier_reasons)}, {"reason_double_rounding", std::to_string(q.double_roundings)},
                             {"reason_float32", std::to_string(q.float32_reasons)}, {"reason_double", std::to_string(q.double_reasons)}});
  }
  if (chain) {
    rows.insert(rows.end(), {{"next", std::string(to_string(chain->activation)) + ", then " + dims(chain->second.out, chain->second.in)},
                             {"layer2_sqnr_db", num(chain->second.metrics.sqnr_db)}, {"layer2_propagated_sqnr_db", num(chain->propagated_sqnr_db)},
                             {"layer2_local_sqnr_db", num(chain->local_sqnr_db)}});
  }

  if (output == "json") {
    std::printf("{");
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& [k, v] = rows[i];
      char* end = nullptr;
      const bool number = !v.empty() && (std::strtod(v.c_str(), &end), *end == '\0') && v != "Infinity" && v != "-Infinity";
      std::printf("%s\n  %s: %s", i ? "," : "", json_string(k).c_str(), number ? v.c_str() : v.empty() ? "null" : json_string(v).c_str());
    }
    std::printf(",\n  \"perChannelSqnrDb\": [");
    for (size_t o = 0; o < r.channel_sqnr_db.size(); ++o) std::printf("%s%s", o ? ", " : "", json_num_or_infinity(r.channel_sqnr_db[o]).c_str());
    std::printf("],\n  \"perTokenSqnrDb\": [");
    for (size_t t = 0; t < r.token_sqnr_db.size(); ++t) std::printf("%s%s", t ? ", " : "", json_num_or_infinity(r.token_sqnr_db[t]).c_str());
    std::printf("]\n}\n");
    return 0;
  }
  if (output == "csv") {
    std::printf("quantity,value\r\n");
    for (const auto& [k, v] : rows) std::printf("%s,%s\r\n", csv_cell(k).c_str(), csv_cell(v).c_str());
    std::printf("\r\nchannel,sqnr_db\r\n");
    for (size_t o = 0; o < r.channel_sqnr_db.size(); ++o) std::printf("%zu,%s\r\n", o, num(r.channel_sqnr_db[o]).c_str());
    std::printf("\r\ntoken,sqnr_db\r\n");
    for (size_t t = 0; t < r.token_sqnr_db.size(); ++t) std::printf("%zu,%s\r\n", t, num(r.token_sqnr_db[t]).c_str());
    if (r.requantization && !r.requantization->differences.empty()) {
      std::printf("\r\ntoken,channel,acc,acc_times_m,exact,formula,onnx,tflite,qdq\r\n");
      for (const RequantDifference& d : r.requantization->differences)
        std::printf("%zu,%zu,%lld,%s,%d,%d,%d,%d,%d\r\n", d.token, d.channel, static_cast<long long>(d.acc), num(d.value).c_str(), d.exact, d.formula, d.onnx,
                    d.tflite, d.qdq);
    }
    return 0;
  }
  // The table: a line per subject.
  const auto line = [](const char* key, const std::string& text) { std::printf("%-13s %s\n", key, text.c_str()); };
  line("weights", path + (wt.name.empty() ? "" : ": " + wt.name) + " " + dims(out, in) + ", " + w_scheme);
  line("activations", x_source + " " + dims(r.tokens, in) + ", " + x_scheme);
  line("output", "SQNR " + short_num(r.metrics.sqnr_db) + " dB, cosine " + short_num(r.metrics.cosine) + ", relative error " + short_num(r.relative_frobenius) +
                     ", max |error| " + short_num(r.metrics.max_abs_error) + " (token " + std::to_string(r.metrics.max_abs_error_index / static_cast<int64_t>(r.out)) +
                     ", channel " + std::to_string(r.metrics.max_abs_error_index % static_cast<int64_t>(r.out)) + ")");
  line("parts", "W " + short_num(sqnr_of(r.parts.weights)) + " dB (predicted " + short_num(sqnr_of(r.parts.predicted_weights)) + "), X " +
                    short_num(sqnr_of(r.parts.activations)) + " dB (" + short_num(sqnr_of(r.parts.predicted_activations)) + "), interaction " +
                    short_num(sqnr_of(r.parts.interaction)) + " dB (" + short_num(sqnr_of(r.parts.predicted_interaction)) + ")");
  line("worst", "channel " + std::to_string(wc) + " at " + short_num(wc_db) + " dB, token " + std::to_string(wt_at) + " at " + short_num(wt_db) + " dB");
  if (r.accumulator_report) {
    const AccumulatorReport& a = *r.accumulator_report;
    line("accumulator", std::string(to_string(r.accumulator)) + ": worst case " + num(a.bound) + " (" + std::to_string(a.block) + " x " +
                            std::to_string(a.product_max) + "), largest |sum| " + std::to_string(a.max_abs) + "; outputs past int16 " +
                            std::to_string(a.int16.wrapped) + ", past int32 " + std::to_string(a.int32.wrapped));
  } else {
    line("accumulator", to_string(r.accumulator));
  }
  if (r.requantization) {
    const Requantization& q = *r.requantization;
    line("requantize", std::string(to_string(q.profile)) + ": scale " + short_num(q.scale) + ", zero point " + std::to_string(q.zero_point) +
                           (q.derived ? " (from Y's range)" : " (given)") + "; M " + short_num(q.real_multiplier[0]) + " = " + std::to_string(q.multiplier[0]) +
                           " x 2^(" + std::to_string(q.shift[0]) + " - 31)" + (q.multiplier.size() > 1 ? " (channel 0)" : ""));
    line("codes", "differ from round-half-even(acc*M) + z: formula " + std::to_string(q.formula_differs) + ", onnx " + std::to_string(q.onnx_differs) +
                      ", tflite " + std::to_string(q.tflite_differs) + ", qdq " + std::to_string(q.qdq_differs) + "; " + std::to_string(q.clipped) +
                      " saturated");
  }
  if (chain) {
    line("layer 2", std::string(to_string(chain->activation)) + ", then " + dims(chain->second.out, chain->second.in) + ": SQNR " +
                        short_num(chain->second.metrics.sqnr_db) + " dB; layer 1's error carried through " + short_num(chain->propagated_sqnr_db) +
                        " dB, its own " + short_num(chain->local_sqnr_db) + " dB");
  }
  return 0;
}

}  // namespace qe::cli
