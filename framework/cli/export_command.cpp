// anneal export: a trained model as ONNX (for any ONNX runtime) or as a NumPy archive.
#include <cstdio>

#include "anneal/export.hpp"
#include "anneal/export_graph.hpp"
#include "anneal/experiment.hpp"
#include "options.hpp"

namespace anneal::cli {

int export_command(const Args& args) {
  po::options_description options("export options");
  std::string model, weights, output, format;
  options.add_options()
      ("model", po::value(&model)->required(), "model spec (YAML)")
      ("weights", po::value(&weights)->required(), "checkpoint to read the weights from")
      ("output,o", po::value(&output)->required(), "file to write (.onnx or .npz)")
      ("format", po::value(&format), "onnx or npz (default: from the output's suffix)")
      ("set", set_option(), kSetHelp);
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "export MODEL --weights CKPT -o model.onnx [--format onnx|npz]", options, positional, vm)) return kExitOk;
  if (format.empty()) format = output.ends_with(".npz") ? "npz" : output.ends_with(".onnx") ? "onnx" : "";
  if (format != "onnx" && format != "npz")
    throw UsageError("cannot tell the format of '" + output + "': name it .onnx or .npz, or give --format onnx|npz");

  LoadOptions load = load_options(vm);
  // One read of the checkpoint serves its encoding (needed to build) and its weights.
  const Checkpoint checkpoint = load_checkpoint(weights);
  const FeatureEncoding encoding = checkpoint_encoding(checkpoint, weights);
  Experiment ex = build_experiment(load_model_spec(model, load), false, build_options(vm), &encoding);
  load_weights(ex, checkpoint, weights);
  if (format == "onnx") export_onnx(ex.graph, ex.weights, encoding, ex.spec.name, output);
  else export_npz(ex.graph, ex.weights, encoding, output);
  std::printf("wrote %s (%s, %lld parameters%s)\n", output.c_str(), format == "onnx" ? "ONNX opset 17" : "NumPy archive",
              static_cast<long long>(ex.graph.sizes().params), encoding.offset.empty() ? "" : ", normalisation included");
  return kExitOk;
}

}  // namespace anneal::cli
