// The readers and the data encoding: gzip, skip_rows, missing cells, categorical columns, ARFF,
// normalisation fitted on the training rows only, a separate validation file.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>

#include "anneal/data.hpp"
#include "anneal/encoding.hpp"
#include "anneal/experiment.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

DataSpec file_spec(const std::string& path) {
  DataSpec spec;
  spec.path = path;
  spec.label_index = -1;
  if (path.ends_with(".arff")) spec.format = "arff";
  return spec;
}

std::string read_error(const DataSpec& spec) {
  try {
    read_data(spec);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string gzip_copy(const TempDir& dir, const std::string& path, const std::string& name) {
  const std::string out = dir.path() + "/" + name;
  REQUIRE(std::system(("gzip -n -c '" + path + "' > '" + out + "'").c_str()) == 0);
  return out;
}

}  // namespace

TEST_CASE("gzip input by the .gz suffix reads the same rows, a mislabelled file is named", "[data][readers]") {
  TempDir dir;
  const std::string plain = source_path("data/ionosphere.csv");
  const Dataset a = read_data(file_spec(plain));
  const Dataset b = read_data(file_spec(gzip_copy(dir, plain, "ion.csv.gz")));
  CHECK(a.features.values() == b.features.values());
  CHECK(a.targets.values() == b.targets.values());
  CHECK(a.class_names == b.class_names);
  CHECK(b.lines == a.lines);
  // gzip bytes without the suffix, and the suffix without gzip bytes.
  const std::string hidden = gzip_copy(dir, plain, "ion.csv");
  CHECK_THAT(read_error(file_spec(hidden)), Contains("is gzip-compressed: name it with a .gz suffix"));
  const std::string fake = dir.write("fake.csv.gz", "1,2,a\n");
  CHECK_THAT(read_error(file_spec(fake)), Contains("ends in .gz but is not gzip-compressed"));
  // A truncated gzip stream is an error, not a silently short file.
  const std::string whole = read_text(gzip_copy(dir, source_path("data/digits.csv"), "d.csv.gz"));
  const std::string cut = dir.write("cut.csv.gz", whole.substr(0, whole.size() / 2));
  CHECK_THAT(read_error(file_spec(cut)), Contains("gzip data is corrupt"));
}

TEST_CASE("skip_rows skips a leading line that is not data, without it the error says so", "[data][readers]") {
  TempDir dir;
  const auto path = dir.write("bc.csv", "3,2,malignant,benign\n1.5,2,0\n3,4,1\n5,6.5,1\n");
  CHECK_THAT(read_error(file_spec(path)), Contains("bc.csv:2: error: expected 4 columns (as line 1), got 3"));
  CHECK_THAT(read_error(file_spec(path)), Contains("skip it with skip_rows: 1"));
  DataSpec spec = file_spec(path);
  spec.skip_rows = 1;
  const Dataset data = read_data(spec);
  CHECK(data.rows() == 3);
  CHECK(data.features.values() == std::vector<float>{1.5f, 2, 3, 4, 5, 6.5f});
  CHECK(data.lines == std::vector<int>{2, 3, 4});
  // skip_rows counts lines before the header too.
  const auto with_header = dir.write("h.csv", "# exported 2026\nx,y,label\n1,2,a\n3,4,b\n");
  spec = file_spec(with_header);
  spec.skip_rows = 1;
  spec.header = true;
  CHECK(read_data(spec).class_names == std::vector<std::string>{"a", "b"});
}

TEST_CASE("missing cells: an error by default, or mean / zero / drop_row", "[data][readers]") {
  TempDir dir;
  const auto path = dir.write("m.csv", "1,?,a\n3,4,b\n,8,a\nNA,6,b\n");
  DataSpec spec = file_spec(path);
  CHECK_THAT(read_error(spec), Contains("m.csv:1:3: error: column 2: missing value ('?')"));
  CHECK_THAT(read_error(spec), Contains("missing: mean, zero or drop_row"));

  spec.missing = "mean";
  const Dataset raw = read_data(spec);
  const FeatureEncoding mean = fit_encoding(raw, spec);
  CHECK(mean.columns[0].fill == Approx(2.0));  // (1 + 3) / 2
  CHECK(mean.columns[1].fill == Approx(6.0));  // (4 + 8 + 6) / 3
  CHECK(encode(mean, raw).features.values() == std::vector<float>{1, 6, 3, 4, 2, 8, 2, 6});
  spec.missing = "zero";
  CHECK(encode(fit_encoding(raw, spec), raw).features.values() == std::vector<float>{1, 0, 3, 4, 0, 8, 0, 6});
  spec.missing = "drop_row";
  const Dataset kept = read_data(spec);
  CHECK(kept.rows() == 1);
  CHECK(kept.lines == std::vector<int>{2});
  // A missing label is never filled.
  spec.missing = "mean";
  CHECK_THAT(read_error(file_spec(dir.write("l.csv", "1,2,a\n3,4,?\n"))), Contains("l.csv:2:5: error: column 3: the label is missing"));
}

TEST_CASE("categorical columns: one-hot over the training rows' categories, unseen ones are named", "[data][readers]") {
  TempDir dir;
  const auto path = dir.write("c.csv", "color,size,label\nred,1,0\nblue,2,1\nred,3,0\ngreen,4,1\n");
  DataSpec spec = file_spec(path);
  spec.header = true;
  // Undeclared strings: the error suggests categorical.
  CHECK_THAT(read_error(spec), Contains("c.csv:2:1: error: column 1 ('color'): expected a number, got 'red'"));
  CHECK_THAT(read_error(spec), Contains("categorical: [color]"));
  spec.categorical.push_back({std::nullopt, std::string("color"), {}});
  const Dataset raw = read_data(spec);
  // Fitted on the first three rows: blue, red (sorted); green never seen in training.
  const Dataset train = take_rows(raw, 0, 3);
  const FeatureEncoding enc = fit_encoding(train, spec);
  CHECK(enc.width() == 3);
  CHECK(enc.columns[0].categories == std::vector<std::string>{"blue", "red"});
  CHECK(encode(enc, train).features.values() == std::vector<float>{0, 1, 1, 1, 0, 2, 0, 1, 3});
  try {
    encode(enc, take_rows(raw, 3, 4));
    FAIL("an unseen category was accepted");
  } catch (const DataError& e) {
    CHECK_THAT(std::string(e.what()), Contains("c.csv:5: error: column 'color': the category 'green' was not in the training rows (known: blue, red)"));
  }
  // A missing category (missing: zero) is an all-zero one-hot row.
  const auto gaps = dir.write("g.csv", "red,1,0\n,2,1\nblue,3,0\n");
  DataSpec gap_spec = file_spec(gaps);
  gap_spec.categorical.push_back({0, std::nullopt, {}});
  gap_spec.missing = "zero";
  const Dataset g = read_data(gap_spec);
  CHECK(encode(fit_encoding(g, gap_spec), g).features.values() == std::vector<float>{0, 1, 1, 0, 0, 2, 1, 0, 3});
}

TEST_CASE("ARFF: comments, quoted names and values, nominal attributes, missing values, the class", "[data][readers][arff]") {
  TempDir dir;
  const auto path = dir.write("w.arff", R"(% Weka's weather data, trimmed
@RELATION 'weather test'

@attribute outlook {sunny, overcast, 'light rain'}
@attribute 'temp F' numeric
@ATTRIBUTE humidity REAL
@attribute windy {TRUE, FALSE}
@attribute play {yes, no}

@data
% a comment inside the data
sunny,85,85,FALSE,no
'light rain',70,?,TRUE,yes
overcast,64,65,TRUE,yes
)");
  DataSpec spec = file_spec(path);
  CHECK_THAT(read_error(spec), Contains("w.arff:13:17: error:"));  // "?" with missing: error
  CHECK_THAT(read_error(spec), Contains("column 3 ('humidity'): missing value"));
  spec.missing = "mean";
  const Dataset raw = read_data(spec);
  CHECK(raw.rows() == 3);
  CHECK(raw.class_names == std::vector<std::string>{"yes", "no"});  // the declared order
  CHECK(raw.targets.values() == std::vector<float>{1, 0, 0});
  const FeatureEncoding enc = fit_encoding(raw, spec);
  // Nominal features keep every declared value in order, even one the rows never use.
  CHECK(enc.columns[0].categories == std::vector<std::string>{"sunny", "overcast", "light rain"});
  CHECK(enc.columns[1].name == "temp F");
  CHECK(enc.width() == 3 + 1 + 1 + 2);
  CHECK(encode(enc, raw).features.values() == std::vector<float>{1, 0, 0, 85, 85, 0, 1,  //
                                                                  0, 0, 1, 70, 75, 1, 0,  //
                                                                  0, 1, 0, 64, 65, 1, 0});
  // The class named by label:, and errors with their line.
  spec.label_index.reset();
  spec.label_name = "windy";
  CHECK(read_data(spec).class_names == std::vector<std::string>{"TRUE", "FALSE"});
  CHECK_THAT(read_error(file_spec(dir.write("bad1.arff", "@relation x\n@attribute a numeric\n@attribute c {p, q}\n@data\n1,r\n"))),
             Contains("bad1.arff:5:3: error: column 2 ('c'): the class 'r' is not one of the attribute's declared values"));
  CHECK_THAT(read_error(file_spec(dir.write("bad2.arff", "@relation x\n@attribute d date\n@data\n"))),
             Contains("bad2.arff:2:1: error: attribute 'd' is of type date"));
  CHECK_THAT(read_error(file_spec(dir.write("bad3.arff", "@relation x\n@attribute a numeric\n@attribute c {p}\n@data\n{0 1, 1 p}\n"))),
             Contains("sparse ARFF rows"));
  CHECK_THAT(read_error(file_spec(dir.write("bad4.arff", "@relation x\n@attribute a numeric\n@attribute c {p}\n@data\n1,p,3\n"))),
             Contains("bad4.arff:5: error: expected 2 values (one per @attribute), got 3"));
  CHECK_THAT(read_error(file_spec(dir.write("bad5.arff", "1,2,3\n"))), Contains("expected @relation, @attribute or @data"));
}

TEST_CASE("the bundled Pima data loads as ARFF with no options", "[data][readers][arff]") {
  const Dataset raw = read_data(file_spec(source_path("data/diabetes.arff")));
  CHECK(raw.rows() == 768);
  CHECK(raw.features.sample_shape() == Shape{8});
  CHECK(raw.class_names == std::vector<std::string>{"tested_negative", "tested_positive"});
  int positive = 0;
  for (float t : raw.targets.values()) positive += t == 1;
  CHECK(positive == 268);
  CHECK(raw.columns[1].name == "plas");
}

TEST_CASE("normalize: statistics from the training rows only, as scikit-learn's scalers", "[data][encoding]") {
  TempDir dir;
  // Column 1: training rows 1, 2, 3 (mean 2, population std sqrt(2/3)); the validation row 100
  // must not move the statistics. Column 2 is constant: scale 1.
  const auto path = dir.write("n.csv", "1,5,0\n2,5,1\n3,5,0\n100,5,1\n");
  DataSpec spec = file_spec(path);
  spec.normalize = "standard";
  const Dataset raw = read_data(spec);
  const Dataset train = take_rows(raw, 0, 3);
  const FeatureEncoding standard = fit_encoding(train, spec);
  CHECK(standard.offset == std::vector<float>{2, 5});
  CHECK(standard.scale[0] == Approx(std::sqrt(2.0 / 3.0)));
  CHECK(standard.scale[1] == 1.0f);
  const Dataset encoded = encode(standard, raw);
  CHECK(encoded.features.row(0)[0] == Approx(-1.0 / std::sqrt(2.0 / 3.0)));
  CHECK(encoded.features.row(3)[0] == Approx(98.0 / std::sqrt(2.0 / 3.0)));
  CHECK(encoded.features.row(3)[1] == 0.0f);
  spec.normalize = "minmax";
  const FeatureEncoding minmax = fit_encoding(train, spec);
  CHECK(encode(minmax, train).features.values() == std::vector<float>{0, 0, 0.5f, 0, 1, 0});
  // The YAML form round-trips exactly (checkpoints store it).
  for (const FeatureEncoding* e : {&standard, &minmax}) {
    const FeatureEncoding back = encoding_from_yaml(encoding_to_yaml(*e), "test");
    CHECK(back.offset == e->offset);
    CHECK(back.scale == e->scale);
    CHECK(encoding_to_yaml(back) == encoding_to_yaml(*e));
  }
}

TEST_CASE("a separate validation file: same options, labels aligned with the training file's", "[data][encoding]") {
  TempDir dir;
  const auto train = dir.write("t.csv", "1,2,cat\n3,4,dog\n5,6,emu\n7,8,cat\n");
  const auto val = dir.write("v.csv", "1,1,emu\n2,2,cat\n");  // only two of the classes: emu is 2, not 1
  const auto spec_path = dir.write("m.yaml", "version: 1\ndata: {path: t.csv, label: -1, validation_path: v.csv, normalize: minmax}\n"
                                             "input: [2]\nlayers: [{type: dense, units: 3, activation: softmax}]\n"
                                             "loss: sparse_categorical_crossentropy\nmetrics: [accuracy]\noptimizer: sgd\ntrain: {epochs: 1}\n");
  const Experiment ex = build_experiment(load_model_spec(spec_path, {}));
  REQUIRE(ex.validation);
  CHECK(ex.validation->targets.values() == std::vector<float>{2, 0});
  CHECK(ex.train->rows() == 4);
  // minmax from the training file: (1 - 1) / 6 = 0, (2 - 1) / 6.
  CHECK(ex.validation->features.row(1)[0] == Approx(1.0 / 6.0));
  const auto unknown = dir.write("v2.csv", "1,1,gnu\n");
  const auto bad = dir.write("m2.yaml", read_text(spec_path).replace(read_text(spec_path).find("v.csv"), 5, "v2.csv"));
  CHECK_THROWS_WITH(build_experiment(load_model_spec(bad, {})), Contains("the class 'gnu' does not occur in the training data"));
  const auto both = dir.write("m3.yaml", read_text(spec_path).replace(read_text(spec_path).find("epochs: 1"), 9, "epochs: 1, validation_split: 0.2"));
  CHECK_THROWS_WITH(load_model_spec(both, {}), Contains("train.validation_split must be absent or 0"));
}
