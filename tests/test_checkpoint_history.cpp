// The history sidecar: a checkpoint rewritten every epoch appends only the new epochs' history,
// so the bytes written per save do not grow with the run's length; what a crash leaves behind is
// either ignored or refused by name.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "anneal/checkpoint.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

Checkpoint with_epochs(size_t epochs, double first_loss = 1.0) {
  Checkpoint c;
  c.params = {1.0f, 2.0f, 3.0f};
  c.train.epoch = static_cast<int64_t>(epochs);
  for (size_t e = 0; e < epochs; ++e) {
    EpochRecord r;
    r.logs.set("loss", first_loss / static_cast<double>(e + 1));
    r.logs.set("val_accuracy", 0.5 + 0.001 * static_cast<double>(e));
    r.time_s = 0.25 * static_cast<double>(e);
    c.train.history.epochs.push_back(r);
  }
  return c;
}

std::vector<std::string> sidecars(const std::string& folder) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().filename().string().find(".history-") != std::string::npos) out.push_back(entry.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("a store appends each save's new epochs to one sidecar and the checkpoint stays the same size", "[checkpoint][history]") {
  TempDir d;
  const std::string path = d.path() + "/run.ckpt";
  CheckpointStore store;
  store.save(path, with_epochs(1));
  const auto checkpoint_bytes = fs::file_size(path);
  const auto one_epoch = fs::file_size(path + ".history-1");
  struct stat before {};
  REQUIRE(::stat((path + ".history-1").c_str(), &before) == 0);
  for (size_t e = 2; e <= 400; ++e) store.save(path, with_epochs(e));
  // The same file (not a rewrite under the name), grown by the records alone, and a checkpoint
  // whose size does not depend on the epoch count.
  struct stat after {};
  REQUIRE(::stat((path + ".history-1").c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);
  const auto record = (fs::file_size(path + ".history-1") - one_epoch) / 399;
  CHECK(fs::file_size(path + ".history-1") == one_epoch + 399 * record);
  CHECK(fs::file_size(path) == checkpoint_bytes);
  CHECK(sidecars(d.path()) == std::vector<std::string>{"run.ckpt.history-1"});

  const Checkpoint back = load_checkpoint(path);
  CHECK(back.history_problem.empty());
  REQUIRE(back.train.history.epochs.size() == 400);
  const Checkpoint expected = with_epochs(400);
  for (size_t e = 0; e < 400; ++e) {
    CHECK(back.train.history.epochs[e].logs.values == expected.train.history.epochs[e].logs.values);
    CHECK(back.train.history.epochs[e].time_s == expected.train.history.epochs[e].time_s);
  }
}

TEST_CASE("a new store starts a new sidecar generation and removes the path's older ones once the checkpoint names it", "[checkpoint][history]") {
  TempDir d;
  const std::string path = d.path() + "/run.ckpt";
  CheckpointStore().save(path, with_epochs(3));
  CHECK(sidecars(d.path()) == std::vector<std::string>{"run.ckpt.history-1"});
  // A resumed run (a process of its own) writes the whole history once, as generation 2.
  CheckpointStore second;
  second.save(path, with_epochs(5));
  CHECK(sidecars(d.path()) == std::vector<std::string>{"run.ckpt.history-2"});
  second.save(path, with_epochs(6));
  CHECK(load_checkpoint(path).train.history.epochs.size() == 6);
  // Another checkpoint's sidecars in the same folder are not touched.
  CheckpointStore().save(d.path() + "/run.ckpt2", with_epochs(2));
  CHECK(sidecars(d.path()) == std::vector<std::string>{"run.ckpt.history-2", "run.ckpt2.history-1"});
  // A history that does not extend the one the store wrote (not one run's) starts a generation.
  second.save(path, with_epochs(2));
  CHECK(sidecars(d.path()) == std::vector<std::string>{"run.ckpt.history-3", "run.ckpt2.history-1"});
  CHECK(load_checkpoint(path).train.history.epochs.size() == 2);
  // No history, no sidecar.
  CheckpointStore().save(path, with_epochs(0));
  CHECK(sidecars(d.path()) == std::vector<std::string>{"run.ckpt2.history-1"});
  CHECK(load_checkpoint(path).history_problem.empty());
}

TEST_CASE("records past the count a checkpoint names (a crash between append and rename) are ignored", "[checkpoint][history]") {
  TempDir d;
  const std::string path = d.path() + "/run.ckpt";
  CheckpointStore store;
  store.save(path, with_epochs(4));
  const std::string saved = read_text(path);
  store.save(path, with_epochs(7));
  // The checkpoint of 4 epochs back under its name, as if the process died before the rename; the
  // sidecar holds 7 records and a torn eighth.
  { std::ofstream(path, std::ios::binary) << saved; }
  { std::ofstream(path + ".history-1", std::ios::binary | std::ios::app) << "\x40\x00\x00"; }
  const Checkpoint back = load_checkpoint(path);
  CHECK(back.history_problem.empty());
  CHECK(back.train.history.epochs.size() == 4);
}

TEST_CASE("a missing, truncated or foreign sidecar leaves the weights loadable and names the problem", "[checkpoint][history]") {
  TempDir d;
  const std::string path = d.path() + "/run.ckpt";
  CheckpointStore().save(path, with_epochs(5));
  const std::string sidecar = path + ".history-1";
  const std::string good = read_text(sidecar);

  fs::remove(sidecar);
  Checkpoint c = load_checkpoint(path);
  CHECK(c.params == std::vector<float>{1.0f, 2.0f, 3.0f});
  CHECK(c.train.history.epochs.empty());
  CHECK_THAT(c.history_problem, Contains("history sidecar '" + sidecar + "' does not exist"));

  { std::ofstream(sidecar, std::ios::binary) << good.substr(0, good.size() - 10); }
  CHECK_THAT(load_checkpoint(path).history_problem, Contains("truncated"));

  std::string flipped = good;
  flipped[20] = static_cast<char>(flipped[20] ^ 1);
  { std::ofstream(sidecar, std::ios::binary) << flipped; }
  CHECK_THAT(load_checkpoint(path).history_problem, Contains("record 1 is corrupted"));

  CheckpointStore().save(d.path() + "/other.ckpt", with_epochs(6, 2.0));  // another run's
  fs::copy_file(d.path() + "/other.ckpt.history-1", sidecar, fs::copy_options::overwrite_existing);
  CHECK_THAT(load_checkpoint(path).history_problem, Contains("holds a different history than the checkpoint counts"));

  { std::ofstream(sidecar, std::ios::binary) << "not a sidecar at all"; }
  CHECK_THAT(load_checkpoint(path).history_problem, Contains("is not a history sidecar"));
}
