#pragma once
// Writing a trained model out of Anneal:
//  - ONNX (opset 17): the graph in inference form with the weights as initializers and the data
//    encoding's normalisation folded in as the first nodes, so the file maps a row of features as
//    the data file gives them (categorical columns one-hot encoded) to the model's outputs;
//  - NumPy .npz: every parameter and state tensor ("node.param", float32, its shape) and the
//    normalisation ("normalize.offset", "normalize.scale") for Python users.

#include <string>

#include "anneal/encoding.hpp"
#include "anneal/graph.hpp"

namespace anneal {

inline constexpr int64_t kOnnxOpset = 17;

// Whether this build can write ONNX (libonnx-dev and libprotobuf-dev were found).
bool onnx_export_available();
// Throws ExportError naming the node whose op has no ONNX form; the file is written atomically
// and checked with ONNX's own checker before it is.
void export_onnx(const CompiledGraph& graph, const Weights& weights, const FeatureEncoding& encoding,
                 const std::string& model_name, const std::string& path);
void export_npz(const CompiledGraph& graph, const Weights& weights, const FeatureEncoding& encoding, const std::string& path);

}  // namespace anneal
