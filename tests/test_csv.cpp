// The CSV reader: label encoding, header and label selection, validation split, and errors that
// name the file, line and column.
#include <catch2/catch.hpp>

#include "anneal/data.hpp"
#include "anneal/encoding.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {
DataSpec csv_spec(const std::string& path) {
  DataSpec spec;
  spec.path = path;
  spec.label_index = -1;
  return spec;
}
std::string data_error(const DataSpec& spec) {
  try {
    read_csv(spec);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("the bundled Ionosphere data: 351 rows, 34 features, b -> 0 and g -> 1", "[data]") {
  const Dataset data = read_csv(csv_spec(source_path("data/ionosphere.csv")));
  CHECK(data.rows() == 351);
  CHECK(data.features.sample_shape() == Shape{34});
  CHECK(data.class_names == std::vector<std::string>{"b", "g"});
  CHECK(data.targets[0] == 1);  // the first row is 'g'
  CHECK(data.targets[1] == 0);  // the second is 'b'
  CHECK(data.features.row(0)[2] == Approx(0.99539));
  const auto split = split_validation(data, 0.33);
  CHECK(split.train.rows() == 235);
  CHECK(split.validation.rows() == 116);
  // Validation is the last rows, in order.
  CHECK(split.validation.features.row(0)[2] == data.features.row(235)[2]);
}

TEST_CASE("header, delimiter, label by name or index, numeric and one-hot labels", "[data]") {
  TempDir dir;
  const auto path = dir.write("d.csv", "x1;y;x2\n1;cat;2\n3;dog;4\n5;ant;6\n");
  DataSpec spec = csv_spec(path);
  spec.header = true;
  spec.delimiter = ';';
  spec.label_index.reset();
  spec.label_name = "y";
  Dataset data = read_csv(spec);
  CHECK(data.rows() == 3);
  CHECK(data.features.values() == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(data.class_names == std::vector<std::string>{"ant", "cat", "dog"});
  CHECK(data.targets.values() == std::vector<float>{1, 2, 0});
  spec.label_name.reset();
  spec.label_index = 1;
  CHECK(read_csv(spec).targets.values() == std::vector<float>{1, 2, 0});
  spec.one_hot = true;
  const Dataset raw = read_csv(spec);
  CHECK(encode(fit_encoding(raw, spec), raw).targets.values() == std::vector<float>{0, 1, 0, 0, 0, 1, 1, 0, 0});

  const auto numeric = dir.write("n.csv", "0.5,1.5\n2,-3\n\n");  // a trailing blank line is fine
  const Dataset regression = read_csv(csv_spec(numeric));
  CHECK(regression.class_names.empty());
  CHECK(regression.targets.values() == std::vector<float>{1.5f, -3});
}

TEST_CASE("bad CSV input fails with file, line and column", "[data]") {
  TempDir dir;
  const auto bad_cell = dir.write("bad.csv", "1,2,g\n3,x4,b\n");
  CHECK_THAT(data_error(csv_spec(bad_cell)), Contains(bad_cell + ":2:3: error: column 2: expected a number, got 'x4'"));
  const auto ragged = dir.write("ragged.csv", "1,2,g\n3,b\n");
  CHECK_THAT(data_error(csv_spec(ragged)), Contains(ragged + ":2: error: expected 3 columns (as line 1), got 2"));
  const auto empty_cell = dir.write("empty.csv", "1,,g\n");
  CHECK_THAT(data_error(csv_spec(empty_cell)), Contains(empty_cell + ":1:3: error: column 2: missing value"));
  CHECK_THAT(data_error(csv_spec(empty_cell)), Contains("missing: mean, zero or drop_row"));
  CHECK_THAT(data_error(csv_spec(dir.write("none.csv", "\n"))), Contains("no data rows"));
  CHECK_THAT(data_error(csv_spec(dir.path() + "/missing.csv")), Contains("missing.csv' does not exist"));
  DataSpec out_of_range = csv_spec(bad_cell);
  out_of_range.label_index = 7;
  CHECK_THAT(data_error(out_of_range), Contains("label column 7 is outside the 3 columns"));
  const auto header = dir.write("h.csv", "a,b\n1,2\n");
  DataSpec by_name = csv_spec(header);
  by_name.header = true;
  by_name.label_index.reset();
  by_name.label_name = "c";
  CHECK_THAT(data_error(by_name), Contains("label column 'c' is not in the header"));
}

TEST_CASE("validation_split follows Keras: floor(rows * (1 - split)) training rows", "[data]") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 10; ++i) text += std::to_string(i) + ",0\n";
  const Dataset data = read_csv(csv_spec(dir.write("ten.csv", text)));
  const auto split = split_validation(data, 0.25);
  CHECK(split.train.rows() == 7);  // floor(10 * 0.75) = 7
  CHECK(split.validation.features.values() == std::vector<float>{7, 8, 9});
  CHECK_THROWS_WITH(split_validation(data, 0.95), Contains("leaves an empty side"));
}
