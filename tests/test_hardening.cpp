// Hostile inputs refused up front: sizes that overflow or exceed the memory, non-regular files,
// duplicate YAML keys, malformed --set paths.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <regex>

#include "anneal/checkpoint.hpp"
#include "anneal/checksum.hpp"
#include "anneal/experiment.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {
std::string model() { return source_path("models/ionosphere.yaml"); }
}  // namespace

TEST_CASE("sizes: overflow is an error naming the node, plans above the memory limit are refused with the figures", "[hardening][sizes]") {
  // units * batch overflows 64 bits (with use_bias: false there is no bias to catch it earlier).
  auto r = run_cli("check " + model() + " --set layers.0.units=8138269444283625713 --set layers.0.use_bias=false");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("ionosphere.yaml:10:5: error: node 'dense_1' (dense): too large:"));
  r = run_cli("check --no-data " + model() + " --set 'input=[4294967296, 4294967296]'");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("has more values per sample than 64-bit arithmetic holds"));
  // Fits the arithmetic, not the machine: refused before anything is allocated.
  r = run_cli("train " + model() + " --set layers.0.units=2147483648 --max-memory 8G");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("the model needs ") && Contains(" TiB to train at batch 28 (activations 224.0 GiB)") &&
                        Contains("8.0 GiB available") && Contains("; --max-memory SIZE sets the limit"));
  // The core's refusal is typed and names no command-line flag: the CLI adds it.
  try {
    build_experiment(load_model_spec(model(), load_with({"layers.0.units=2147483648"})), false, BuildOptions{1 << 30, {}});
    FAIL("a plan above the limit was built");
  } catch (const MemoryLimitExceeded& e) {
    CHECK_THAT(std::string(e.what()), Contains("1.0 GiB available") && !Contains("--"));
  }
  r = run_cli("check --no-data " + model() + " --set train.batch_size=1000000000 --max-memory 4G");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("to train at batch 1000000000"));
  // With data, no batch is planned larger than the rows there are: a huge batch_size trains.
  Experiment ex = build_experiment(load_model_spec(model(), load_with({"train.batch_size=1000000000"})), true, BuildOptions{1 << 30, {}});
  CHECK(ex.graph.max_batch() == 235);
  CHECK(training_memory(ex.graph) < (1 << 20));
  CHECK(run_cli("train " + model() + " --max-memory lots").exit_code == 2);
}

TEST_CASE("only regular files are read: directories, FIFOs and devices are named", "[hardening][files]") {
  TempDir d;
  auto r = run_cli("check " + source_path("models"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("models' is a directory"));
  const std::string fifo = d.path() + "/spec.yaml";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  r = run_cli("check " + fifo);  // would block forever if it were opened
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("is a FIFO, not a regular file"));
  r = run_cli("evaluate " + model() + " --weights /dev/zero");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("checkpoint '/dev/zero' is a device"));
  r = run_cli("check " + model() + " --set data.path=" + d.path());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("is a directory"));
}

TEST_CASE("a key twice in one YAML mapping is an error at the second", "[hardening][yaml]") {
  TempDir d;
  const auto spec = d.write("dup.yaml", "version: 1\ninput: [3]\nlayers:\n  - {type: dense, units: 2, units: 3}\nloss: mse\noptimizer: {type: sgd}\n");
  auto r = run_cli("check " + spec);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("dup.yaml:4:29: error: key 'units' appears twice in this mapping"));
  const auto top = d.write("top.yaml", "version: 1\ninput: [3]\nlayers: [{type: dense, units: 2}]\nloss: mse\nloss: mae\noptimizer: {type: sgd}\n");
  r = run_cli("check " + top);
  CHECK_THAT(r.err, Contains("top.yaml:5:1: error: key 'loss' appears twice"));
}

TEST_CASE("list indices in set paths are decimal and in range", "[hardening][cli]") {
  for (const char* bad : {"0x1", "1junk", "-1", "", "99999999999"}) {
    INFO(bad);
    const auto r = run_cli("check " + model() + " --set 'layers." + std::string(bad) + ".units=7'");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("is not a list index (the list has 2 items, 0 to 1)"));
  }
  const auto past = run_cli("check " + model() + " --set layers.5.units=7");
  CHECK(past.exit_code == 2);
  CHECK_THAT(past.err, Contains("index 5 is past the end of the list (2 items)"));
  CHECK(run_cli("check " + model() + " --set layers.1.units=1").exit_code == 0);
}

TEST_CASE("loops stay bounded: restarts, previews, folds, threads, run lengths", "[hardening][loops]") {
  TempDir d;
  // A period that would overflow ends the restart loop instead of wrapping to zero.
  const auto restarts = d.write("cwr.yaml", "version: 1\nschedule: {type: cosine_warm_restarts, lr: 0.1, t_0: 2, t_mult: 4611686018427387904}\n");
  auto r = run_cli("schedule show " + restarts + " --epochs 5 --format csv");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("\n3,3,0.1\n"));  // the second period starts at the third epoch at the full rate
  r = run_cli("schedule show " + source_path("schedules/step_decay.yaml") + " --epochs 500000000");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("500000000 rows is more than a preview shows"));
  r = run_cli("schedule show " + source_path("schedules/step_decay.yaml") + " --epochs 4611686018427387904 --steps-per-epoch 9 --per-step");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("do not fit 64-bit arithmetic"));
  const auto negative = d.write("neg.yaml", "version: 1\nschedule: {type: expression, formula: \"0.1/(epoch-3)\"}\n");
  r = run_cli("schedule show " + negative + " --epochs 6");
  CHECK(r.exit_code == 2);
  // The formula's `epoch` counts completed epochs (Keras' index); messages count from 1.
  CHECK_THAT(r.err, Contains("gives the rate -0.033333 at epoch 1, update 1"));
  r = run_cli("cv " + model() + " --folds 100000");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--folds 100000 is more than the 351 rows"));
  r = run_cli("train " + model() + " --threads 100000 --epochs 1");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Contains("--threads 100000 is more than the"));
  r = run_cli("train " + model() + " --epochs 4611686018427387904");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("steps per epoch do not fit 64-bit arithmetic"));
}

TEST_CASE("a checkpoint whose callback state is valid by CRC but inconsistent is refused, not read past", "[hardening][checkpoint]") {
  TempDir d;
  const std::string base = "train " + model() + " --callback '{type: early_stopping, patience: 50}'";
  REQUIRE(run_cli(base + " --quiet --epochs 3 --save " + d.path() + "/good.ckpt").exit_code == 0);
  const Checkpoint good = load_checkpoint(d.path() + "/good.ckpt");
  // Blocks of [type id, length, values...]; early_stopping's is the last.
  size_t es = 0;
  for (size_t at = 0; at < good.callback_state.size(); at += 2 + static_cast<size_t>(good.callback_state[at + 1])) es = at;
  REQUIRE(good.callback_state.size() >= es + 6);
  auto damaged = [&, es](const std::string& name, auto change) {
    Checkpoint c = good;
    change(c.callback_state);
    save_checkpoint(d.path() + "/" + name, c);  // a fresh, valid CRC
    return run_cli(base + " --epochs 6 --resume " + d.path() + "/" + name);
  };
  // A block that claims more numbers than there are.
  auto r = damaged("long.ckpt", [&](std::vector<double>& s) { s[es + 1] = 1e12; });
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("the saved callback state is damaged"));
  // early_stopping's block cut short, its length fixed up to match.
  r = damaged("short.ckpt", [&](std::vector<double>& s) {
    s.resize(es + 2 + 2);  // header, then best and wait only
    s[es + 1] = 2;
  });
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("saved state of 'early_stopping'"));
  // Best weights of the wrong size.
  r = damaged("weights.ckpt", [&](std::vector<double>& s) {
    s.push_back(0.5);
    s[es + 1] += 1;
    s[es + 5] += 1;  // early_stopping's count of best weights (after best, wait, best_epoch)
  });
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("early_stopping"));
}

TEST_CASE("the checksum of checkpoints and history covers a payload past 4 GiB whole", "[hardening][checkpoint]") {
  // CRC-32's published check value, and the same continued over two pieces.
  CHECK(crc32_of("123456789") == 0xCBF43926u);
  CHECK(crc32_of("6789", crc32_of("12345")) == 0xCBF43926u);
  // 4 GiB + 1 MiB of address space backed by 2 MiB: 4096 views of a zero chunk, then a chunk whose
  // last byte is 1. A 32-bit length would have summed only the first MiB, all zeros.
  const size_t chunk = size_t{1} << 20, chunks = 4097, size = chunk * chunks;
  const int fd = memfd_create("anneal-crc-test", 0);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, static_cast<off_t>(2 * chunk)) == 0);
  REQUIRE(pwrite(fd, "\1", 1, static_cast<off_t>(2 * chunk - 1)) == 1);
  void* reserved = mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  REQUIRE(reserved != MAP_FAILED);
  char* bytes = static_cast<char*>(reserved);
  for (size_t i = 0; i < chunks; ++i) {
    const off_t from = i + 1 == chunks ? static_cast<off_t>(chunk) : 0;
    REQUIRE(mmap(bytes + i * chunk, chunk, PROT_READ, MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd, from) != MAP_FAILED);
  }
  // The expected sum, chained chunk by chunk with zlib's own combination (no pass over 4 GiB).
  const uint32_t zeros = crc32_of({bytes, chunk}), last = crc32_of({bytes + size - chunk, chunk});
  uLong expected = 0;
  for (size_t i = 0; i < chunks; ++i) expected = crc32_combine(expected, i + 1 == chunks ? last : zeros, static_cast<z_off_t>(chunk));
  CHECK(zeros != last);
  CHECK(crc32_of({bytes, size}) == expected);
  munmap(reserved, size);
  close(fd);
}

TEST_CASE("a checkpoint file name template is parsed, never handed to printf as written", "[hardening][callbacks]") {
  TempDir d;
  const auto r = run_cli("train " + model() + " --epochs 2 --callback '{type: model_checkpoint, filepath: \"" + d.path() +
                         "/e{epoch:d%d%d}.ckpt\"}'");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("unsupported format 'd%d%d'"));
  const auto ok = run_cli("train --quiet " + model() + " --epochs 2 --callback '{type: model_checkpoint, filepath: \"" + d.path() +
                          "/e{epoch:03d}-{val_accuracy:.3f}.ckpt\"}'");
  CHECK(ok.exit_code == 0);
  int named = 0;
  for (const auto& entry : std::filesystem::directory_iterator(d.path()))
    named += std::regex_match(entry.path().filename().string(), std::regex(R"(e00[12]-0\.\d{3}\.ckpt)"));
  CHECK(named == 2);
}

TEST_CASE("a spec's name is a name, not a path", "[hardening][spec]") {
  for (const char* name : {"../escape", "/tmp/x", "a\\\\b", ".."}) {
    INFO(name);
    const auto r = run_cli("check --no-data " + model() + " --set 'name=" + std::string(name) + "'");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("'name' must be a plain name"));
  }
}

TEST_CASE("messages found by a new user: did-you-mean at the top level, places in schedule files, resuming past the end", "[hardening][spec]") {
  TempDir d;
  auto r = run_cli("check --no-data " + d.write("t.yaml", "version: 1\ninput: [3]\ndta: {path: x.csv}\nlayers: [{type: dense, units: 1}]\n"
                                                          "loss: mse\noptimizer: {type: sgd}\n"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("t.yaml:3:1: error: model spec: unknown key 'dta' (did you mean 'data'? known: callbacks, data, input, layers, "
                             "loss, metrics, name, nodes, optimizer, output, plugins, schedule, train, version)"));
  const auto schedule = d.write("s.yaml", "version: 1\nschedule: {type: constant, lr: 0.1}\noptimizer: {momentun: 0.9}\n");
  r = run_cli("train " + model() + " --schedule " + schedule + " --epochs 1");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("s.yaml:3:13: error: optimizer: unknown key 'momentun' (did you mean 'momentum'? known: clipnorm, clipvalue"));
  REQUIRE(run_cli("train --quiet " + model() + " --epochs 4 --save " + d.path() + "/four.ckpt").exit_code == 0);
  r = run_cli("train " + model() + " --epochs 3 --resume " + d.path() + "/four.ckpt");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("has already trained 4 epochs and this run is 3 long: nothing to train"));
}

TEST_CASE("two built-ins under one name are reported, not silently dropped", "[hardening][registry]") {
  CHECK(builtin_registration_conflicts().empty());  // the shipped build has none
  // A second built-in "relu" (what a copy-pasted ANNEAL_REGISTER line would do) keeps the first
  // and is reported by name.
  CHECK_FALSE(OpRegistry::instance().add("relu", [](AttrMap&) -> OpRegistry::Product { return nullptr; }));
  const auto conflicts = builtin_registration_conflicts();
  REQUIRE(conflicts.size() == 1);
  CHECK_THAT(conflicts[0], Contains("op 'relu' (registered by built-in and again)"));
  CHECK(OpRegistry::instance().find("relu")->factory != nullptr);
}

TEST_CASE("SIGINT during a step that takes seconds ends the run within about a second, exit 130", "[hardening][signals]") {
  TempDir d;
  // Each batch multiplies 4096 x 4096 matrices three times over: seconds per step.
  const auto spec = d.write("huge.yaml", "version: 1\ndata: {synthetic: {features: 4096, classes: 2, rows: 4096}}\ninput: [4096]\n"
                                         "layers:\n  - {type: dense, units: 4096, activation: relu}\n"
                                         "  - {type: dense, units: 4096, activation: relu}\n  - {type: dense, units: 1, activation: sigmoid}\n"
                                         "loss: binary_crossentropy\noptimizer: sgd\ntrain: {epochs: 50, batch_size: 4096}\n");
  const std::string out = d.path() + "/out";
  const std::string script = "cd '" + d.path() + "' && (" + std::string(ANNEAL_CLI_PATH) + " train " + spec + " > " + out +
                             " 2>&1 & pid=$!; for i in $(seq 600); do grep -q 'Epoch 1/' " + out +
                             " && break; sleep 0.05; done; sleep 1; start=$(date +%s%N); kill -INT $pid; wait $pid; code=$?; "
                             "echo \"exit $code after $(( ($(date +%s%N) - start) / 1000000 )) ms\" >> " + out + ")";
  REQUIRE(std::system(script.c_str()) == 0);
  const std::string text = read_text(out);
  INFO(text);
  CHECK_THAT(text, Contains("exit 130 after"));
  const auto at = text.find("exit 130 after ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stoi(text.substr(at + 15)) < 5000);  // a second's grace, plus a loaded machine's slack
}

TEST_CASE("no test name holds a semicolon (CTest would split it into names that match no test)", "[tests]") {
  for (const auto& test : Catch::getRegistryHub().getTestCaseRegistry().getAllTests()) {
    INFO(test.name);
    CHECK(test.name.find(';') == std::string::npos);
  }
}
