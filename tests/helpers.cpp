#include "helpers.hpp"

#include "anneal/rng.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace anneal::test {
namespace fs = std::filesystem;

AttrMap attrs_from(const std::string& yaml, const std::string& what) {
  auto origin = std::make_shared<SpecOrigin>(SpecOrigin{"test.yaml", {}});
  return typed_attrs(YAML::Load(yaml), origin, "", what);
}

std::unique_ptr<Op> make_op(const std::string& yaml) {
  AttrMap attrs = attrs_from(yaml, "op");
  return create_from<OpRegistry>(attrs, "op");
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CliResult run_cli(const std::string& args) {
  TempDir dir;
  const std::string out = dir.path() + "/out", err = dir.path() + "/err";
  const std::string command = std::string(ANNEAL_CLI_PATH) + " " + args + " >" + out + " 2>" + err;
  const int status = std::system(command.c_str());
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_text(out);
  result.err = read_text(err);
  return result;
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "anneal-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& text) const {
  const std::string path = path_ + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string source_path(const std::string& relative) { return std::string(ANNEAL_SOURCE_DIR) + "/" + relative; }

}  // namespace anneal::test

namespace anneal::test {

std::vector<float> forward_values(const std::string& yaml, const std::vector<Shape>& shapes, int64_t batch,
                                  const std::vector<std::vector<float>>& inputs,
                                  const std::vector<std::vector<float>>& params, bool training) {
  auto op = make_op(yaml);
  const Shape out = op->infer_shape(shapes);
  auto specs = op->param_specs(shapes);
  op->prepare(shapes, batch);
  std::vector<ConstTensorView> in;
  for (size_t i = 0; i < inputs.size(); ++i) in.emplace_back(inputs[i].data(), shapes[i]);
  std::vector<std::vector<float>> param_values = params;
  std::vector<TensorView> param_views;
  for (size_t i = 0; i < specs.size(); ++i) param_views.push_back({param_values[i].data(), specs[i].shape});
  std::vector<float> y(static_cast<size_t>(batch * out.numel()));
  Rng rng(1, 1);
  OpContext ctx;
  ctx.batch = batch;
  ctx.training = training;
  ctx.inputs = in;
  ctx.output = {y.data(), out};
  ctx.params = param_views;
  ctx.rng = &rng;
  op->forward(ctx);
  return y;
}

std::string op_error(const std::string& yaml) {
  try {
    make_op(yaml);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "";
}

}  // namespace anneal::test

namespace anneal::test {

LoadOptions load_with(std::vector<std::string> sets, std::optional<std::string> schedule_file) {
  LoadOptions options;
  options.sets = std::move(sets);
  options.schedule_file = std::move(schedule_file);
  return options;
}

}  // namespace anneal::test
