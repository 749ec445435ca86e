// From a user's data to a checked, weighted, evaluated and predicted model: label checks before
// training, class and sample weights, normalisation carried by checkpoints, predict's label column
// for numeric labels, evaluate's report, and the metrics' val_ twins in the history.
#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>

#include "anneal/experiment.hpp"
#include "anneal/export.hpp"
#include "anneal/loss.hpp"
#include "helpers.hpp"
#include "anneal/testing/gradient_check.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

std::string mlp_spec(const TempDir& dir, const std::string& name, const std::string& data, int64_t inputs, int64_t units,
                     const std::string& output, const std::string& loss, const std::string& extra = "") {
  return dir.write(name, "version: 1\nname: " + name.substr(0, name.find('.')) + "\ndata: " + data + "\ninput: [" + std::to_string(inputs) +
                             "]\nlayers:\n  - {type: dense, units: 8, activation: relu}\n  - {type: dense, units: " +
                             std::to_string(units) + (output.empty() ? "" : ", activation: " + output) + "}\nloss: " + loss +
                             "\noptimizer: {type: adam, lr: 0.01}\n" + extra);
}

}  // namespace

TEST_CASE("labels are checked against the loss before training, naming the row and the classes", "[data][labels][cli]") {
  TempDir dir;
  const std::string digits = "{path: " + source_path("data/digits.csv") + ", label: -1}";
  // Binary cross-entropy on ten classes: exit 2, not a negative loss.
  auto r = run_cli("train " + mlp_spec(dir, "b.yaml", digits, 64, 1, "sigmoid", "binary_crossentropy", "train: {epochs: 1}\n"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("digits.csv:3: error: loss 'binary_crossentropy' needs two classes, labels 0 or 1, got 2"));
  CHECK_THAT(r.err, Contains("values 0, 1, 2, 3, 4, 5, 6, 7, 8, 9"));
  // Sparse categorical labels beyond the output width.
  r = run_cli("train " + mlp_spec(dir, "s.yaml", digits, 64, 5, "softmax", "sparse_categorical_crossentropy", "train: {epochs: 1}\n"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("needs class indices 0 to 4 (one per output unit), got 5"));
  // String labels: three classes for a binary loss.
  const auto three = dir.write("three.csv", "1,a\n2,b\n3,c\n4,a\n");
  r = run_cli("train " + mlp_spec(dir, "t.yaml", "{path: three.csv, label: -1}", 1, 1, "sigmoid", "binary_crossentropy", "train: {epochs: 1}\n"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("three.csv:3: error:"));
  CHECK_THAT(r.err, Contains("3 classes: a, b, c"));
}

TEST_CASE("class_weight balanced follows scikit-learn, a mapping names labels, unknown ones are refused", "[data][weights]") {
  TempDir dir;
  const auto csv = dir.write("w.csv", "1,x\n2,x\n3,x\n4,y\n");
  const std::string data = "{path: w.csv, label: -1}";
  auto ex = build_experiment(load_model_spec(mlp_spec(dir, "a.yaml", data, 1, 1, "sigmoid", "binary_crossentropy",
                                                      "train: {epochs: 1, class_weight: balanced}\n"), {}));
  // n / (classes * count): x -> 4 / (2 * 3), y -> 4 / (2 * 1).
  CHECK(ex.train->sample_weights == std::vector<float>{4.0f / 6, 4.0f / 6, 4.0f / 6, 2.0f});
  ex = build_experiment(load_model_spec(mlp_spec(dir, "b.yaml", data, 1, 1, "sigmoid", "binary_crossentropy",
                                                 "train: {epochs: 1, class_weight: {y: 5}}\n"), {}));
  CHECK(ex.train->sample_weights == std::vector<float>{1, 1, 1, 5});
  CHECK_THROWS_WITH(build_experiment(load_model_spec(mlp_spec(dir, "c.yaml", data, 1, 1, "sigmoid", "binary_crossentropy",
                                                              "train: {epochs: 1, class_weight: {z: 5}}\n"), {})),
                    Contains("class_weight names the class 'z', which the data does not have (classes: x, y)"));
  // A sample_weight column multiplies in.
  dir.write("sw.csv", "1,0.5,x\n2,1,x\n3,2,y\n");
  ex = build_experiment(load_model_spec(mlp_spec(dir, "d.yaml", "{path: sw.csv, label: -1, sample_weight: 1}", 1, 1, "sigmoid",
                                                 "binary_crossentropy", "train: {epochs: 1, class_weight: {y: 3}}\n"), {}));
  CHECK(ex.train->features.values() == std::vector<float>{1, 2, 3});
  CHECK(ex.train->sample_weights == std::vector<float>{0.5f, 1, 6});
}

TEST_CASE("weighted loss: sum of w_i loss_i over the batch, each row's gradient scaled by w_i", "[data][weights][losses]") {
  for (const char* name : {"binary_crossentropy", "mse"}) {
    AttrMap a = attrs_from(name, "loss");
    const auto loss = create_from<LossRegistry>(a, "loss");
    const std::vector<float> p{0.2f, 0.7f, 0.9f}, y{0, 1, 0}, w{1, 0, 2.5f};
    std::vector<float> g(3), g1(1);
    const double value = loss->weighted_forward_backward(p.data(), y.data(), w.data(), 3, 1, 1, g.data());
    double expected = 0;
    for (int i = 0; i < 3; ++i) {
      const double li = loss->forward_backward(&p[i], &y[i], 1, 1, 1, g1.data());
      expected += w[i] * li / 3;
      CHECK(g[i] == Approx(w[i] * g1[0] / 3));
    }
    CHECK(value == Approx(expected));
    const std::vector<float> ones{1, 1, 1};
    CHECK(loss->weighted_forward_backward(p.data(), y.data(), ones.data(), 3, 1, 1, nullptr) ==
          Approx(loss->forward_backward(p.data(), y.data(), 3, 1, 1, nullptr)));
  }
}

TEST_CASE("normalisation travels in the checkpoint: evaluate and predict apply the training statistics", "[data][encoding][cli]") {
  TempDir dir;
  // Breast-cancer-like: a large-valued feature; unscaled training warns and names it.
  std::string rows;
  for (int i = 0; i < 60; ++i) rows += std::to_string(500 + 37 * (i % 11)) + "," + std::to_string((i % 7) * 0.1) + "," + (i % 11 > 5 ? "1" : "0") + "\n";
  dir.write("big.csv", rows);
  const auto plain = mlp_spec(dir, "plain.yaml", "{path: big.csv, label: -1}", 2, 1, "sigmoid", "binary_crossentropy",
                              "metrics: [accuracy, auc]\ntrain: {epochs: 2, validation_split: 0.25}\n");
  auto r = run_cli("train " + plain + " --quiet");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Contains("warning: feature 'column 1' has values beyond +-100"));
  CHECK(r.err.find("warning") == r.err.rfind("warning"));  // one warning, however many columns
  CHECK_THAT(r.err, Contains("normalize: standard"));

  const auto scaled = mlp_spec(dir, "scaled.yaml", "{path: big.csv, label: -1, normalize: standard}", 2, 1, "sigmoid",
                               "binary_crossentropy", "metrics: [accuracy, auc, f1]\ntrain: {epochs: 30, validation_split: 0.25}\n");
  r = run_cli("train " + scaled + " --quiet --save " + dir.path() + "/s.ckpt --history " + dir.path() + "/h.csv");
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("warning") == std::string::npos);
  // Every metric has its val_ twin in the history.
  const std::string history = read_text(dir.path() + "/h.csv");
  CHECK_THAT(history.substr(0, history.find('\n')), Contains("epoch,loss,accuracy,auc,f1,val_loss,val_accuracy,val_auc,val_f1,lr"));
  // check prints the statistics.
  r = run_cli("check " + scaled);
  CHECK_THAT(r.out, Contains("normalize: standard"));
  CHECK_THAT(r.out, Contains("offset:"));
  // predict of the raw rows equals evaluate's view: feed the rows through predict and compare
  // with the same rows after changing the spec's normalize (which the checkpoint must override).
  r = run_cli("predict " + scaled + " --weights " + dir.path() + "/s.ckpt --input " + dir.path() + "/big.csv -o " + dir.path() + "/p.csv");
  REQUIRE(r.exit_code == 0);
  r = run_cli("predict " + scaled + " --set data.normalize=none --weights " + dir.path() + "/s.ckpt --input " + dir.path() +
              "/big.csv -o " + dir.path() + "/q.csv");
  REQUIRE(r.exit_code == 0);
  CHECK(read_text(dir.path() + "/p.csv") == read_text(dir.path() + "/q.csv"));
  std::stringstream p(read_text(dir.path() + "/p.csv"));
  std::string header;
  std::getline(p, header);
  CHECK(header == "probability_1,label");  // numeric labels get a label column too
  // Resuming with another encoding is refused.
  r = run_cli("train " + scaled + " --set data.normalize=minmax --epochs 40 --resume " + dir.path() + "/s.ckpt");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("differently encoded data"));
}

TEST_CASE("evaluate reports the confusion matrix and per-class table, and JSON for scripts", "[data][evaluate][cli]") {
  TempDir dir;
  const auto spec = source_path("models/iris.yaml");
  REQUIRE(run_cli("train " + spec + " --quiet --epochs 20 --save " + dir.path() + "/i.ckpt").exit_code == 0);
  auto r = run_cli("evaluate " + spec + " --weights " + dir.path() + "/i.ckpt");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("confusion matrix (rows: actual, columns: predicted)"));
  CHECK_THAT(r.out, Contains("precision    recall  f1-score   support"));
  CHECK_THAT(r.out, Contains("macro avg"));
  r = run_cli("evaluate " + spec + " --weights " + dir.path() + "/i.ckpt --format json");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("\"validation\": {\"rows\": 30,"));
  CHECK_THAT(r.out, Contains("\"classes\": [\"0\", \"1\", \"2\"]"));
  // The validation confusion matrix accounts for all 30 rows, 10 per class (stratified).
  const auto at = r.out.find("\"confusion\"", r.out.find("\"validation\""));
  const std::string matrix = r.out.substr(at, r.out.find("]]", at) - at);
  int total = 0;
  for (size_t i = matrix.find('['); i < matrix.size(); ++i)
    if (std::isdigit(static_cast<unsigned char>(matrix[i]))) {
      size_t used = 0;
      total += std::stoi(matrix.substr(i), &used);
      i += used;
    }
  CHECK(total == 30);
  CHECK(run_cli("evaluate " + spec + " --weights " + dir.path() + "/i.ckpt --format xml").exit_code == 2);
  // A regression model reports its metrics and no class table; predict writes no label column.
  const auto reg = source_path("models/diabetes_regression.yaml");
  REQUIRE(run_cli("train " + reg + " --quiet --epochs 5 --save " + dir.path() + "/r.ckpt").exit_code == 0);
  r = run_cli("evaluate " + reg + " --weights " + dir.path() + "/r.ckpt");
  CHECK_THAT(r.out, Contains("r2: "));
  CHECK(r.out.find("confusion") == std::string::npos);
  REQUIRE(run_cli("predict " + reg + " --weights " + dir.path() + "/r.ckpt --input " + source_path("data/diabetes_regression.csv.gz") +
                  " -o " + dir.path() + "/r.csv").exit_code == 0);
  CHECK(read_text(dir.path() + "/r.csv").substr(0, 9) == "output_0\n");
}

TEST_CASE("metric states resume exactly: 4 epochs equal 2 + 2 through a checkpoint (auc, f1, r2)", "[data][metrics][checkpoint]") {
  TempDir dir;
  const auto spec = source_path("models/breast_cancer.yaml");
  REQUIRE(run_cli("train " + spec + " --quiet --epochs 4 --history " + dir.path() + "/a.csv").exit_code == 0);
  REQUIRE(run_cli("train " + spec + " --quiet --epochs 2 --save " + dir.path() + "/b.ckpt").exit_code == 0);
  REQUIRE(run_cli("train " + spec + " --quiet --epochs 4 --resume " + dir.path() + "/b.ckpt --history " + dir.path() + "/b.csv").exit_code == 0);
  CHECK(rows_without_time(dir.path() + "/a.csv") == rows_without_time(dir.path() + "/b.csv"));
}

namespace {
// An op with no ONNX form, as a plugin op might be.
class NoExportOp : public Op {
 public:
  explicit NoExportOp(AttrMap&) {}
  Shape infer_shape(const std::vector<Shape>& in) const override { return in[0]; }
  void forward(const OpContext& ctx) const override {
    std::copy(ctx.inputs[0].data, ctx.inputs[0].data + ctx.batch * ctx.output.sample_size(), ctx.output.data);
  }
  void backward(const OpContext& ctx) const override {
    if (ctx.input_grads[0].empty()) return;
    for (int64_t i = 0; i < ctx.batch * ctx.output.sample_size(); ++i) ctx.input_grads[0].data[i] += ctx.output_grad.data[i];
  }
};
ANNEAL_REGISTER(OpRegistry, "test_no_export", NoExportOp);
}  // namespace
// Every registered op has a gradient case, this test's identity op too.
ANNEAL_GRADIENT_CASE("test_no_export", "{type: test_no_export}", {Shape{3}}, testing::InputFill::kSigned);

TEST_CASE("export: an op without an ONNX form is named, formats by suffix, npz needs no ONNX", "[export][cli]") {
  TempDir dir;
  const auto spec = dir.write("m.yaml", "version: 1\ndata: {synthetic: {features: 3, classes: 2, rows: 8}}\ninput: [3]\n"
                                        "layers:\n  - {type: test_no_export}\n  - {type: dense, units: 1, activation: sigmoid}\n"
                                        "loss: binary_crossentropy\noptimizer: sgd\ntrain: {epochs: 1}\n");
  Experiment ex = build_experiment(load_model_spec(spec, {}));
  if (onnx_export_available())
    CHECK_THROWS_WITH(export_onnx(ex.graph, ex.weights, ex.encoding, "m", dir.path() + "/m.onnx"),
                      Contains("cannot export node 'test_no_export_1' (test_no_export): the op has no ONNX form"));
  export_npz(ex.graph, ex.weights, ex.encoding, dir.path() + "/m.npz");
  const std::string npz = read_text(dir.path() + "/m.npz");
  CHECK(npz.substr(0, 4) == std::string("PK\x03\x04", 4));
  CHECK(npz.find("dense_1.kernel.npy") != std::string::npos);
  CHECK(npz.find("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1), }") != std::string::npos);
  CHECK(npz.find("'shape': (1,), }") != std::string::npos);  // the bias

  const auto model = source_path("models/iris.yaml");
  REQUIRE(run_cli("train " + model + " --quiet --epochs 1 --save " + dir.path() + "/i.ckpt").exit_code == 0);
  auto r = run_cli("export " + model + " --weights " + dir.path() + "/i.ckpt -o " + dir.path() + "/i.bin");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("name it .onnx or .npz, or give --format onnx|npz"));
  r = run_cli("export " + model + " --weights " + dir.path() + "/i.ckpt -o " + dir.path() + "/i.npz");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("normalisation included"));
}

TEST_CASE("every built-in op appears in tests/models/all_ops.yaml, which the ONNX export test exports", "[export][registry]") {
  const std::string spec = read_text(source_path("tests/models/all_ops.yaml"));
  for (const auto& [name, entry] : OpRegistry::instance().entries()) {
    if (entry.origin != "built-in" || name.rfind("test_", 0) == 0) continue;  // test_*: this binary's own ops
    INFO("op '" << name << "' is not in tests/models/all_ops.yaml (as a node or a fused activation)");
    bool used = false;
    for (const std::string& form : {"op: " + name + ",", "activation: " + name + "}", "activation: " + name + ","})
      used = used || spec.find(form) != std::string::npos;
    CHECK(used);
  }
}

TEST_CASE("raw 0-16 pixels at a high rate: training says it is stuck, standardised, the same model learns", "[data][cli]") {
  TempDir dir;
  std::stringstream in(read_text(source_path("data/digits.csv")));
  std::string out, line;
  while (std::getline(in, line)) {  // back to the original 0-16 pixels
    std::stringstream cells(line);
    std::string cell, row;
    for (int c = 0; std::getline(cells, cell, ','); ++c) row += (c ? "," : "") + (c < 64 ? std::to_string(std::lround(std::stod(cell) * 16)) : cell);
    out += row + "\n";
  }
  dir.write("raw.csv", out);
  const auto spec = mlp_spec(dir, "raw.yaml", "{path: raw.csv, label: -1}", 64, 10, "softmax", "sparse_categorical_crossentropy",
                             "metrics: [accuracy]\ntrain: {epochs: 6, validation_split: 0.2, split: stratified}\n");
  const auto sgd = " --set optimizer.type=sgd --set optimizer.lr=0.5";
  auto r = run_cli("train " + spec + " --quiet" + std::string(sgd));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Contains("the training loss has not changed over the last 3 epochs"));
  r = run_cli("train " + spec + std::string(sgd) + " --set data.normalize=standard --set optimizer.lr=0.1");
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("not changed") == std::string::npos);
  CHECK(std::stod(r.out.substr(r.out.find("final val_accuracy: ") + 20)) > 0.9);
}

TEST_CASE("encoding rows in place gives the copy's values bit for bit, and one-hot encodings still copy", "[data][encoding]") {
  TempDir dir;
  // Missing cells (mean fill) and standard scaling; the second file adds a categorical column.
  const std::string numeric = dir.write("n.csv", "a,b,label\n1,2.5,0\n3,?,1\n-4,8,0\n10,1e3,1\n");
  const std::string mixed = dir.write("m.csv", "a,b,c,label\n1,2.5,x,0\n3,?,y,1\n-4,8,x,0\n10,1e3,z,1\n");
  // One category and a missing cell: one feature per column, yet not a value to keep in place.
  const std::string single = dir.write("s.csv", "a,b,c,label\n1,2.5,x,0\n3,4,?,1\n-4,8,x,0\n");
  for (const std::string& path : {numeric, mixed, single}) {
    const bool categorical = path != numeric;
    DataSpec spec;
    spec.path = path;
    spec.header = true;
    spec.label_index = -1;
    spec.missing = "mean";
    spec.normalize = "standard";
    if (categorical) spec.categorical.push_back({int64_t{2}, std::nullopt, {}});
    const Dataset raw = read_csv(spec);
    const FeatureEncoding enc = fit_encoding(raw, spec);
    const Dataset copied = encode(enc, raw);
    const Dataset moved = encode(enc, Dataset(raw));
    REQUIRE(copied.features.size() == moved.features.size());
    CHECK(std::equal(copied.features.data(), copied.features.data() + copied.features.size(), moved.features.data()));
    CHECK(copied.features.sample_shape() == moved.features.sample_shape());
    CHECK(moved.features.sample_shape().numel() == (path == mixed ? 5 : path == single ? 3 : 2));
    CHECK(moved.targets.size() == copied.targets.size());
  }
}
