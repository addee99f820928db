// quant-error --layer: one linear layer Y = X·Wᵀ through the core's analyze_layer (layer.h), W a
// tensor of a file, X an activation file (.npy) or a generated batch (layer_cli.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "tensor_files.h"

namespace qe::cli {

// What the layer mode needs of the file reading in main.cpp: a file's tensors (or a message), and
// one tensor's values whole, in C order (or a message).
struct LayerFiles {
  std::variant<std::vector<TensorInfo>, std::string> (*index)(const std::string& path);
  std::variant<std::vector<double>, std::string> (*values)(const std::string& path, const TensorInfo& t);
};

// Runs `quant-error --layer …` (argv as main has it); the exit status.
int run_layer(int argc, char** argv, const LayerFiles& files);

// The generated activations [tokens, in] of a kind (normal, heavy, outliers, relu, gelu), seeded:
// the page's draws (web/src/shared/layer-inputs.js), step by step. Empty for an unknown kind.
std::vector<float> generate_activations(const std::string& kind, size_t tokens, size_t in, uint32_t seed);
// W [out, in] with normal entries of standard deviation 1/√in (the second layer's weights).
std::vector<float> generate_weights(size_t out, size_t in, uint32_t seed);

}  // namespace qe::cli
