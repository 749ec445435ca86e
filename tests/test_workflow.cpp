// The experiment workflow: checkpoints and exact resume (also after SIGINT), callbacks from specs,
// evaluate / predict, sweep, cross-validation, the LR range test and plots.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "anneal/checkpoint.hpp"
#include "anneal/experiment.hpp"
#include "anneal/folds.hpp"
#include "anneal/lr_finder.hpp"
#include "helpers.hpp"
#include "svg_render.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

std::string model() { return source_path("models/ionosphere.yaml"); }

// A spec with dropout and Adam, so resume must restore the dropout stream and Adam's moments.
std::string dropout_spec(const TempDir& dir) {
  return dir.write("dropout.yaml", "version: 1\nname: dropout\ndata: {path: " + source_path("data/ionosphere.csv") +
                                       ", label: -1}\ninput: [34]\nlayers:\n"
                                       "  - {type: dense, units: 16, activation: relu}\n"
                                       "  - {type: dropout, rate: 0.3}\n"
                                       "  - {type: dense, units: 1, activation: sigmoid}\n"
                                       "loss: binary_crossentropy\nmetrics: [accuracy]\n"
                                       "optimizer: {type: adam, lr: 0.01}\n"
                                       "train: {epochs: 12, batch_size: 28, validation_split: 0.33, seed: 3}\n");
}

}  // namespace

TEST_CASE("50 epochs in one go equal 20 epochs then a resume for 30, bit for bit", "[workflow][resume][cli]") {
  TempDir d;
  for (const char* schedule : {"time_based", "step_decay", "reduce_on_plateau"}) {
    DYNAMIC_SECTION(schedule) {
      const std::string s = " --schedule " + source_path(std::string("schedules/") + schedule + ".yaml") + " --quiet";
      REQUIRE(run_cli("train " + model() + s + " --save " + d.path() + "/full.ckpt --history " + d.path() + "/full.csv").exit_code == 0);
      REQUIRE(run_cli("train " + model() + s + " --epochs 20 --save " + d.path() + "/part.ckpt").exit_code == 0);
      const auto r = run_cli("train " + model() + s + " --resume " + d.path() + "/part.ckpt --save " + d.path() +
                             "/resumed.ckpt --history " + d.path() + "/resumed.csv");
      REQUIRE(r.exit_code == 0);
      check_same_run(d.path() + "/full.ckpt", d.path() + "/resumed.ckpt", d.path() + "/full.csv", d.path() + "/resumed.csv");
      CHECK(rows_without_time(d.path() + "/resumed.csv").size() == 51);
    }
  }
  // Dropout and Adam: their random stream and moments come back too.
  const std::string spec = dropout_spec(d);
  REQUIRE(run_cli("train --quiet " + spec + " --save " + d.path() + "/a.ckpt --history " + d.path() + "/a.csv").exit_code == 0);
  REQUIRE(run_cli("train --quiet " + spec + " --epochs 5 --save " + d.path() + "/b.ckpt").exit_code == 0);
  REQUIRE(run_cli("train --quiet " + spec + " --resume " + d.path() + "/b.ckpt --save " + d.path() + "/c.ckpt --history " +
                  d.path() + "/c.csv").exit_code == 0);
  check_same_run(d.path() + "/a.ckpt", d.path() + "/c.ckpt", d.path() + "/a.csv", d.path() + "/c.csv");
}

TEST_CASE("a run paused with --pause-at and resumed in slices equals the run in one go", "[workflow][resume][cli]") {
  // Unlike --epochs 20 then a resume to 50, the paused run's schedule sees its full length all
  // along: one_cycle spans all 50 epochs in both, so the slices match the run in one go exactly.
  TempDir d;
  const std::string p = d.path();
  const std::string s = model() + " --quiet --set 'schedule={type: one_cycle, max_lr: 0.1}'";
  REQUIRE(run_cli("train " + s + " --save " + p + "/full.ckpt --history " + p + "/full.csv").exit_code == 0);
  const auto first = run_cli("train " + model() + " --set 'schedule={type: one_cycle, max_lr: 0.1}' --pause-at 7 --save " + p + "/slice.ckpt");
  REQUIRE(first.exit_code == 0);
  CHECK_THAT(first.out, Contains("paused after 7 of 50 epochs; checkpoint: " + p + "/slice.ckpt"));
  REQUIRE(run_cli("train " + s + " --resume " + p + "/slice.ckpt --pause-at 21 --save " + p + "/slice.ckpt --history " + p +
                  "/mid.csv").exit_code == 0);
  CHECK(rows_without_time(p + "/mid.csv").size() == 22);
  // Resuming at the pause point pauses again at once (a study that re-runs a finished slice).
  REQUIRE(run_cli("train " + s + " --resume " + p + "/slice.ckpt --pause-at 21 --save " + p + "/slice.ckpt").exit_code == 0);
  REQUIRE(run_cli("train " + s + " --resume " + p + "/slice.ckpt --save " + p + "/done.ckpt --history " + p + "/done.csv").exit_code == 0);
  check_same_run(p + "/full.ckpt", p + "/done.ckpt", p + "/full.csv", p + "/done.csv");
  const auto no_save = run_cli("train " + s + " --pause-at 3");
  CHECK(no_save.exit_code == 2);
  CHECK_THAT(no_save.err, Contains("--pause-at needs --save"));
}

TEST_CASE("train --extend continues a wsd run from its stable phase into a longer one, exactly as if it had been that long", "[workflow][resume][cli]") {
  TempDir d;
  const std::string p = d.path();
  const std::string s = model() + " --quiet --schedule " + source_path("schedules/wsd.yaml");
  // 50 epochs planned; paused at 30, still in the stable phase (its decay starts at epoch 41).
  REQUIRE(run_cli("train " + s + " --pause-at 30 --save " + p + "/stable.ckpt").exit_code == 0);
  REQUIRE(run_cli("train " + s + " --resume " + p + "/stable.ckpt --extend 20 --save " + p + "/extended.ckpt --history " + p +
                  "/extended.csv").exit_code == 0);
  REQUIRE(run_cli("train " + s + " --epochs 70 --save " + p + "/straight.ckpt --history " + p + "/straight.csv").exit_code == 0);
  check_same_run(p + "/straight.ckpt", p + "/extended.ckpt", p + "/straight.csv", p + "/extended.csv");
  CHECK(rows_without_time(p + "/extended.csv").size() == 71);
  // From inside the decay the longer run would have given done updates another rate: refused.
  REQUIRE(run_cli("train " + s + " --pause-at 45 --save " + p + "/decaying.ckpt").exit_code == 0);
  auto r = run_cli("train " + s + " --resume " + p + "/decaying.ckpt --extend 20");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("cannot continue into a longer run: update 362 (epoch 41) had rate 0.0894591 in the 50-epoch run and "
                             "would have 0.1 in the 70-epoch one"));
  // A schedule that does not depend on the run's length extends from anywhere.
  const std::string step = model() + " --quiet --schedule " + source_path("schedules/step_decay.yaml");
  REQUIRE(run_cli("train " + step + " --save " + p + "/step.ckpt").exit_code == 0);
  CHECK(run_cli("train " + step + " --resume " + p + "/step.ckpt --extend 5").exit_code == 0);
  r = run_cli("train " + s + " --extend 5");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--extend needs --resume"));
  r = run_cli("train " + s + " --resume " + p + "/stable.ckpt --extend 5 --epochs 80");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--extend and --epochs both set the run's length"));
}

TEST_CASE("schedule-free, D-Adaptation and Prodigy resume exactly, and are evaluated and saved at their model weights", "[workflow][resume][optimizers][cli]") {
  TempDir d;
  const std::string p = d.path();
  for (const char* optimizer : {"{type: sgd_schedulefree, lr: 0.5, warmup_steps: 45}",
                                "{type: adamw_schedulefree, lr: 0.01, warmup_steps: 45, weight_decay: 0.01}",
                                "{type: dadapt_sgd}", "{type: dadapt_adam}", "{type: prodigy, weight_decay: 0.01}"}) {
    DYNAMIC_SECTION(optimizer) {
      const std::string s = model() + " --quiet --set 'optimizer=" + optimizer + "'";
      REQUIRE(run_cli("train " + s + " --save " + p + "/full.ckpt --history " + p + "/full.csv").exit_code == 0);
      REQUIRE(run_cli("train " + s + " --epochs 20 --save " + p + "/part.ckpt").exit_code == 0);
      REQUIRE(run_cli("train " + s + " --resume " + p + "/part.ckpt --save " + p + "/resumed.ckpt --history " + p + "/resumed.csv").exit_code == 0);
      check_same_run(p + "/full.ckpt", p + "/resumed.ckpt", p + "/full.csv", p + "/resumed.csv");
      // The history's validation was measured at the averaged weights, and the checkpoint holds
      // them: evaluate reproduces the last row's val_loss to every printed digit.
      const auto rows = rows_without_time(p + "/full.csv");
      std::stringstream last(rows.back());
      std::vector<std::string> cells;
      for (std::string c; std::getline(last, c, ',');) cells.push_back(c);
      const auto r = run_cli("evaluate " + model() + " --set 'optimizer=" + optimizer + "' --weights " + p + "/full.ckpt --format json");
      REQUIRE(r.exit_code == 0);
      CHECK_THAT(r.out, Contains("\"validation\": {\"rows\": 116, \"loss\": " + cells[3]));
      // The lr column: the step size the optimizer used, estimated by the learning-rate-free ones
      // (d0 is 1e-6; what they estimate is orders of magnitude above it by the last epoch).
      if (std::string(optimizer).find("schedulefree") == std::string::npos) CHECK(std::stod(cells[5]) > 1e-4);
    }
  }
  // Restoring the "best weights" would restore a training point, not the model: refused by name.
  const auto r = run_cli("train " + model() + " --quiet --set 'optimizer={type: adamw_schedulefree}' --callback "
                         "'{type: early_stopping, restore_best_weights: true}'");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("restore_best_weights does not work with an optimizer that keeps its model apart"));
}

TEST_CASE("SIGINT mid-run saves a checkpoint, exits 130, and resuming matches the uninterrupted run",
          "[workflow][resume][signals][cli]") {
  TempDir d;
  // Long enough to interrupt: batch 1 gives 235 updates per epoch.
  const std::string args = " --quiet --set train.batch_size=1 --epochs 1500 --schedule " + source_path("schedules/time_based.yaml");
  for (int signal_number : {SIGINT, SIGTERM}) {
    DYNAMIC_SECTION("signal " << signal_number) {
      const std::string ckpt = d.path() + "/int" + std::to_string(signal_number) + ".ckpt";
      const std::string command = std::string(ANNEAL_CLI_PATH) + " train " + model() + args + " --save " + ckpt;
      const pid_t pid = fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        execl("/bin/sh", "sh", "-c", ("exec " + command + " 2>" + d.path() + "/err").c_str(), nullptr);
        _exit(127);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      kill(pid, signal_number);
      int status = 0;
      waitpid(pid, &status, 0);
      REQUIRE(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 128 + signal_number);
      CHECK_THAT(read_text(d.path() + "/err"), Contains("checkpoint saved to " + ckpt));
      const Checkpoint interrupted = load_checkpoint(ckpt);
      CHECK(interrupted.train.epoch < 1500);
      // The message's own command continues the run: schedule, --set and --epochs included.
      const std::string err = read_text(d.path() + "/err");
      const auto from = err.find("continue with: anneal ");
      REQUIRE(from != std::string::npos);
      const std::string printed = err.substr(from + 22, err.find(")\n", from) - from - 22);
      CHECK_THAT(printed, Contains("--set train.batch_size=1 --epochs 1500 --schedule ") && Contains(" --resume " + ckpt));
      const auto resumed = run_cli(printed + " --history " + d.path() + "/after.csv");
      REQUIRE(resumed.exit_code == 0);
      std::filesystem::copy_file(ckpt, d.path() + "/after.ckpt");  // the printed command keeps --save
      REQUIRE(run_cli("train " + model() + args + " --save " + d.path() + "/straight.ckpt --history " + d.path() +
                      "/straight.csv").exit_code == 0);
      check_same_run(d.path() + "/straight.ckpt", d.path() + "/after.ckpt", d.path() + "/straight.csv", d.path() + "/after.csv");
    }
  }
}

TEST_CASE("damaged or foreign checkpoints are refused with exit code 2", "[workflow][checkpoint][cli]") {
  TempDir d;
  const std::string ckpt = d.path() + "/c.ckpt";
  REQUIRE(run_cli("train --quiet " + model() + " --epochs 2 --save " + ckpt).exit_code == 0);
  const std::string bytes = read_text(ckpt);
  auto refused = [&](const std::string& contents, const std::string& expected, const std::string& extra = "") {
    const std::string path = d.write("bad.ckpt", contents);
    const auto r = run_cli("train --quiet " + model() + extra + " --resume " + path);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(expected));
  };
  std::string flipped = bytes;
  flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 0x40);
  refused(flipped, "corrupted (checksum mismatch)");
  refused(bytes.substr(0, bytes.size() - 100), "truncated");
  refused(bytes.substr(0, 10), "truncated");
  // A stored length of 2^64 - 1 with three bytes after it: length + 4 wraps round to the 3 bytes left.
  refused(bytes.substr(0, 12) + std::string(8, '\xff') + "abc", "truncated");
  refused("definitely not a checkpoint", "bad magic");
  std::string version = bytes;
  version[8] = 9;
  refused(version, "format version 9");
  const auto other = run_cli("train --quiet " + model() + " --set layers.0.units=16 --resume " + ckpt);
  CHECK(other.exit_code == 2);
  CHECK_THAT(other.err, Contains("different model"));
  const auto other_schedule = run_cli("train --quiet " + model() + " --schedule " + source_path("schedules/step.yaml") +
                                      " --resume " + ckpt);
  CHECK(other_schedule.exit_code == 2);
  CHECK_THAT(other_schedule.err, Contains("resume with the same model spec and schedule file"));
  // Nothing is left behind but the real file: writes go through a temporary name.
  for (const auto& entry : std::filesystem::directory_iterator(d.path()))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("callbacks from the spec and the command line", "[workflow][callbacks][cli]") {
  TempDir d;
  const std::string dir = d.path();
  const auto r = run_cli("train " + model() + " --schedule " + source_path("schedules/step_decay.yaml") +
                         " --callback '{type: csv_logger, filename: " + dir + "/log.csv}'" +
                         " --callback '{type: json_logger, filename: " + dir + "/log.jsonl}'" +
                         " --callback '{type: model_checkpoint, filepath: \"" + dir +
                         "/ck/e{epoch:02d}-{val_accuracy:.4f}.ckpt\", monitor: val_accuracy, save_best_only: true}'" +
                         " --callback '{type: early_stopping, monitor: val_loss, patience: 3, restore_best_weights: true}'");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains(": early stopping"));
  CHECK_THAT(r.out, Contains("Restoring model weights from the end of the best epoch"));
  const std::string csv = read_text(dir + "/log.csv");
  CHECK(csv.rfind("epoch,accuracy,loss,lr,val_accuracy,val_loss\n0,", 0) == 0);  // Keras: sorted keys, 0-based
  CHECK_THAT(read_text(dir + "/log.jsonl"), Contains("{\"epoch\": 0, \"loss\": "));
  int saved = 0, sidecars = 0;
  std::string first_checkpoint;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/ck")) {
    const std::string name = entry.path().filename().string();
    CHECK(name.rfind("e", 0) == 0);
    if (name.find(".history-") != std::string::npos) {
      ++sidecars;
      continue;
    }
    ++saved;
    const Checkpoint c = load_checkpoint(entry.path().string());
    CHECK(c.params.size() == 1225);
    CHECK(c.history_problem.empty());
    CHECK(static_cast<int64_t>(c.train.history.epochs.size()) == c.train.epoch);
    first_checkpoint = entry.path().string();
  }
  CHECK(saved >= 1);
  CHECK(sidecars == saved);  // each checkpoint with its own history
  // A checkpoint written by the callback resumes like any other, also with other callbacks: the
  // run's callbacks that were not in it start fresh, the ones it had but this run lacks are
  // skipped, each with a note.
  const auto other = run_cli("train " + model() + " --schedule " + source_path("schedules/step_decay.yaml") + " --resume " +
                             first_checkpoint + " --epochs 12 --callback '{type: early_stopping, patience: 50}'");
  CHECK(other.exit_code == 0);
  CHECK_THAT(other.out, Contains("the checkpoint holds the state of 3 callback(s) this run does not have: ignored"));
  // Saved without callbacks, resumed with early_stopping and model_checkpoint (which used to read
  // past the saved state): they start fresh.
  REQUIRE(run_cli("train --quiet " + model() + " --epochs 3 --save " + dir + "/plain.ckpt").exit_code == 0);
  const auto fresh = run_cli("train " + model() + " --epochs 6 --resume " + dir + "/plain.ckpt --callback '{type: early_stopping, patience: 50}'" +
                             " --callback '{type: model_checkpoint, filepath: \"" + dir + "/m{epoch:02d}.ckpt\"}'");
  CHECK(fresh.exit_code == 0);
  CHECK_THAT(fresh.out, Contains("callback 'early_stopping' is not in the checkpoint: it starts fresh"));
  CHECK_THAT(fresh.out, Contains("callback 'model_checkpoint' is not in the checkpoint: it starts fresh"));
  const auto bad = run_cli("train " + model() + " --callback '{type: early_stopping, monitor: val_acc}'");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("which this run does not log"));
  const auto bad_template = run_cli("train " + model() + " --callback '{type: model_checkpoint, filepath: \"x-{val_acc}.ckpt\"}'");
  CHECK(bad_template.exit_code == 2);
  CHECK_THAT(bad_template.err, Contains("names 'val_acc', which is not logged"));
}

TEST_CASE("terminate_on_nan stops a diverging run, naming the batch, with exit code 1", "[workflow][callbacks][cli]") {
  const auto r = run_cli("train " + model() + " --set 'layers.1={type: dense, units: 1}' --set loss=mse --set optimizer.lr=1e6");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("Batch "));
  CHECK_THAT(r.err, Contains("invalid loss"));
}

TEST_CASE("the progress bar on request, and loggers continue their file on resume", "[workflow][callbacks][cli]") {
  TempDir d;
  const auto bar = run_cli("train " + model() + " --epochs 2 --callback '{type: progress, mode: bar}'");
  CHECK(bar.exit_code == 0);
  CHECK_THAT(bar.out, Contains("9/9 [==============================] - ETA: 0s - loss: "));
  const std::string cb = " --quiet --callback '{type: csv_logger, filename: " + d.path() + "/log.csv}'";
  REQUIRE(run_cli("train " + model() + cb + " --epochs 4 --save " + d.path() + "/p.ckpt").exit_code == 0);
  REQUIRE(run_cli("train " + model() + cb + " --epochs 7 --resume " + d.path() + "/p.ckpt").exit_code == 0);
  std::stringstream log(read_text(d.path() + "/log.csv"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(log, line);) lines.push_back(line);
  REQUIRE(lines.size() == 8);
  for (int e = 0; e < 7; ++e) CHECK(lines[static_cast<size_t>(e + 1)].rfind(std::to_string(e) + ",", 0) == 0);
}

TEST_CASE("evaluate and predict use a checkpoint's weights", "[workflow][cli]") {
  TempDir d;
  const std::string ckpt = d.path() + "/w.ckpt";
  REQUIRE(run_cli("train --quiet " + model() + " --schedule " + source_path("schedules/step_decay.yaml") + " --save " + ckpt +
                  " --history " + d.path() + "/h.csv").exit_code == 0);
  auto r = run_cli("evaluate " + model() + " --weights " + ckpt);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("training rows: 235 rows - loss: "));
  CHECK_THAT(r.out, Contains("validation rows: 116 rows - loss: "));
  // The validation numbers equal the last history row's.
  const auto rows = rows_without_time(d.path() + "/h.csv");
  std::stringstream last(rows.back());
  std::vector<std::string> cells;
  for (std::string c; std::getline(last, c, ',');) cells.push_back(c);
  char expected[64];
  std::snprintf(expected, sizeof expected, "accuracy: %.4f", std::stod(cells[4]));
  CHECK_THAT(r.out, Contains(std::string("validation rows: 116 rows - loss: ") ));
  CHECK_THAT(r.out.substr(r.out.find("validation rows")), Contains(expected));

  const std::string features = d.path() + "/features.csv";
  {
    std::stringstream data(read_text(source_path("data/ionosphere.csv")));
    std::ofstream out(features);
    std::string line;
    for (int i = 0; i < 5 && std::getline(data, line); ++i) out << line.substr(0, line.rfind(',')) << "\n";
  }
  r = run_cli("predict " + model() + " --weights " + ckpt + " --input " + features + " -o " + d.path() + "/p.csv");
  REQUIRE(r.exit_code == 0);
  std::stringstream pred(read_text(d.path() + "/p.csv"));
  std::string header, row;
  std::getline(pred, header);
  CHECK(header == "probability_g,label");
  const std::vector<std::string> truth{"g", "b", "g", "b", "g"};  // the first rows of the data
  for (const auto& t : truth) {
    REQUIRE(std::getline(pred, row));
    const double p = std::stod(row.substr(0, row.find(',')));
    CHECK(row.substr(row.find(',') + 1) == (p > 0.5 ? "g" : "b"));
    CHECK(row.substr(row.find(',') + 1) == t);
  }
  // The full layout (with labels) works too; a wrong width is refused.
  CHECK(run_cli("predict " + model() + " --weights " + ckpt + " --input " + source_path("data/ionosphere.csv") + " -o " +
                d.path() + "/all.csv").exit_code == 0);
  r = run_cli("predict " + model() + " --weights " + ckpt + " --input " + d.write("bad.csv", "1,2,3\n") + " -o " + d.path() + "/x.csv");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("the model takes 34 feature columns"));
  // The width is the reader's: a gzipped input is counted too (the label column read past), and a
  // quoted cell's comma is not a column.
  const std::string gz = d.path() + "/all.csv.gz";
  REQUIRE(std::system(("gzip -c " + source_path("data/ionosphere.csv") + " > " + gz).c_str()) == 0);
  r = run_cli("predict " + model() + " --weights " + ckpt + " --input " + gz + " -o " + d.path() + "/gz.csv");
  CHECK(r.exit_code == 0);
  CHECK(read_text(d.path() + "/gz.csv") == read_text(d.path() + "/all.csv"));
  std::string quoted;
  for (int i = 0; i < 33; ++i) quoted += "0.5,";
  r = run_cli("predict " + model() + " --weights " + ckpt + " --input " + d.write("q.csv", quoted + "\"1,5\"\n") + " -o " + d.path() + "/q.out");
  CHECK(r.exit_code == 2);  // 34 columns, the last one text: refused by the decoder, not as 35 columns
  CHECK_THAT(r.err, !Contains("has 35 columns"));
}

TEST_CASE("sweep: schedules x seeds in parallel, a table, a plot, and failures reported", "[workflow][sweep][cli]") {
  TempDir d;
  const std::string broken = d.write("broken.yaml", "version: 1\nschedule: {type: nope}\n");
  const auto r = run_cli("sweep " + model() + " --schedule " + source_path("schedules/constant.yaml") + " --schedule " +
                         source_path("schedules/step_decay.yaml") + " --schedule " + broken +
                         " --seeds 3 --jobs 2 --epochs 6 -o " + d.path() + "/sw");
  REQUIRE(r.exit_code == 1);  // every run of one schedule failed; the others are still tabled
  CHECK_THAT(r.out, Contains("| constant | 3 | "));
  CHECK_THAT(r.out, Contains("| step_decay | 3 | "));
  CHECK_THAT(r.out, Contains("| broken | 0 (+3 failed) | all runs failed"));
  CHECK_THAT(r.out, Contains("failed: broken seed 1: exit 2: "));
  CHECK_THAT(r.out, Contains("unknown schedule 'nope'"));
  const std::string csv = read_text(d.path() + "/sw/summary.csv");
  CHECK(csv.rfind("schedule,runs,failed,final_mean,final_std,ci_low,ci_high,", 0) == 0);
  CHECK_THAT(r.out, Contains("| constant | 3 | ") && Contains("| (baseline) |"));
  CHECK_THAT(read_text(d.path() + "/sw/summary.json"), Contains("\"baseline\": \"constant\""));
  CHECK(run_cli("sweep " + model() + " --schedule " + source_path("schedules/constant.yaml") + " --baseline constnt --seeds 1 -o " +
                d.path() + "/sw2").exit_code == 2);
  CHECK_THAT(read_text(d.path() + "/sw/summary.md"), Contains("| step_decay | 3 |"));
  // Each run's history is the same as a single train with that seed.
  const auto single = run_cli("train --quiet " + model() + " --schedule " + source_path("schedules/step_decay.yaml") +
                              " --seed 2 --epochs 6 --history " + d.path() + "/single.csv");
  REQUIRE(single.exit_code == 0);
  CHECK(rows_without_time(d.path() + "/single.csv") == rows_without_time(d.path() + "/sw/runs/step_decay-seed2.csv"));
  const InkStats ink_stats = ink(rasterize_svg(d.path() + "/sw/val_accuracy.svg"));
  CHECK(ink_stats.inked_fraction > 0.02);
  CHECK(ink_stats.colours >= 2);
}

TEST_CASE("folds: every row once, stratified folds keep the class shares", "[workflow][cv]") {
  const Experiment ex = build_experiment(load_model_spec(model(), load_with({"train.validation_split=0"})));
  const Dataset& all = *ex.train;
  for (bool stratified : {false, true}) {
    const auto fold_of = assign_folds(all, 10, stratified, 1);
    std::map<int, int> sizes, positives;
    for (int64_t r = 0; r < all.rows(); ++r) {
      const int f = fold_of[static_cast<size_t>(r)];
      REQUIRE(f >= 0);
      REQUIRE(f < 10);
      ++sizes[f];
      positives[f] += all.targets[static_cast<size_t>(r)] == 1;
    }
    for (const auto& [f, size] : sizes) {
      CHECK(size >= 35);
      CHECK(size <= 36);
      if (stratified) CHECK(std::abs(positives[f] - 22.5) <= 1.5);  // 225 of 351 rows are 'g'
    }
    int total = 0;
    for (int f = 0; f < 10; ++f) total += static_cast<int>(select_rows(all, fold_of, f, true).rows());
    CHECK(total == 351);
  }
}

TEST_CASE("cv: per-fold results, mean +- std and its interval", "[workflow][cv][cli]") {
  TempDir d;
  const auto r = run_cli("cv " + model() + " --folds 5 --stratified --schedule " + source_path("schedules/step_decay.yaml") +
                         " --epochs 10 -o " + d.path() + "/cv.csv");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("5-fold stratified cross-validation"));
  CHECK_THAT(r.out, Contains("val_accuracy over 5 folds x 1 seeds: mean 0."));
  CHECK_THAT(r.out, Contains("95% CI [0."));
  std::stringstream csv(read_text(d.path() + "/cv.csv"));
  std::string line;
  int rows = 0, total = 0;
  std::getline(csv, line);
  CHECK(line == "seed,fold,rows,val_accuracy");
  while (std::getline(csv, line)) {
    ++rows;
    std::stringstream cells(line);
    std::string seed, fold, count, acc;
    std::getline(cells, seed, ',');
    std::getline(cells, fold, ',');
    std::getline(cells, count, ',');
    std::getline(cells, acc, ',');
    total += std::stoi(count);
    CHECK(std::stod(acc) > 0.7);
  }
  CHECK(rows == 5);
  CHECK(total == 351);
  CHECK(run_cli("cv " + model() + " --folds 1").exit_code == 2);
}

TEST_CASE("lr-find: an exponential sweep, a suggestion inside it, weights put back", "[workflow][lrfind]") {
  Experiment ex = build_experiment(load_model_spec(model()));
  const std::vector<float> before = ex.weights.params;
  LrFinderOptions o;
  const LrFinderResult r = find_learning_rate(ex, o);
  CHECK(ex.weights.params == before);
  REQUIRE(r.rates.size() >= 10);
  CHECK(r.rates.front() == Approx(1e-7));
  for (size_t i = 1; i < r.rates.size(); ++i) CHECK(r.rates[i] / r.rates[i - 1] == Approx(std::pow(1e8, 1.0 / 99)));
  CHECK(r.suggested > 1e-7);
  CHECK(r.suggested < 10);
  // Bias-corrected smoothing: the first smoothed value is the first loss.
  CHECK(r.smoothed.front() == Approx(r.losses.front()));
  // A divergent range stops early.
  LrFinderOptions wild;
  wild.start = 1;
  wild.end = 1e6;
  Experiment ex2 = build_experiment(load_model_spec(model(), load_with({"layers.1={type: dense, units: 1}", "loss=mse"})));
  const LrFinderResult d = find_learning_rate(ex2, wild);
  CHECK(d.diverged);
  CHECK(d.rates.size() < 100);
  // Options out of range: the core says so in its own terms, the CLI names its flags.
  LrFinderOptions backwards;
  backwards.start = 1, backwards.end = 0.1;
  CHECK_THROWS_WITH(find_learning_rate(ex, backwards), "learning-rate range test: needs 0 < start < end");
  LrFinderOptions short_run;
  short_run.steps = 5;
  CHECK_THROWS_WITH(find_learning_rate(ex, short_run), "learning-rate range test: needs at least 10 steps");
  const auto cli = run_cli("lr-find " + model() + " --steps 5");
  CHECK(cli.exit_code == 2);
  CHECK_THAT(cli.err, Contains("lr-find: --steps must be at least 10"));
}

TEST_CASE("lr-find and plot write SVGs that render", "[workflow][plot][cli]") {
  TempDir d;
  auto r = run_cli("lr-find " + model() + " -o " + d.path() + "/lf.svg");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("suggested learning rate: "));
  CHECK(ink(rasterize_svg(d.path() + "/lf.svg")).inked_fraction > 0.01);
  REQUIRE(run_cli("train --quiet " + model() + " --epochs 5 --history " + d.path() + "/a.csv --plot " + d.path() + "/a.svg").exit_code == 0);
  REQUIRE(run_cli("train --quiet " + model() + " --epochs 5 --seed 9 --history " + d.path() + "/b.csv").exit_code == 0);
  r = run_cli("plot " + d.path() + "/a.csv " + d.path() + "/b.csv -o " + d.path() + "/ab.svg");
  REQUIRE(r.exit_code == 0);
  const std::string svg = read_text(d.path() + "/ab.svg");
  CHECK_THAT(svg, Contains(">a train<"));
  CHECK_THAT(svg, Contains(">b validation<"));
  CHECK(ink(rasterize_svg(d.path() + "/ab.svg")).colours >= 2);
  CHECK(ink(rasterize_svg(d.path() + "/a.svg")).inked_fraction > 0.01);
  r = run_cli("plot " + d.write("junk.csv", "x,y\n1,2\n") + " -o " + d.path() + "/j.svg");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("not a history file"));
}

TEST_CASE("a stop request in the middle of an epoch resumes exactly, through a checkpoint file", "[workflow][resume][signals]") {
  TempDir d;
  auto make = [&]() { return build_experiment(load_model_spec(dropout_spec(d))); };
  Experiment straight = make();
  Trainer a(straight.graph, straight.weights, *straight.loss, straight.metrics, *straight.optimizer, {12, 28, true, 3});
  const History expected = a.fit(*straight.train, &*straight.validation);

  // A stop request after update 30 (epoch 4, batch 4 of 9), as the CLI's signal handler makes one.
  int stop = 0;
  struct StopAt : Callback {
    int& stop;
    explicit StopAt(int& s) : stop(s) {}
    void on_batch_end(TrainingContext& ctx, double) override {
      if (ctx.progress().step == 30) stop = SIGINT;
    }
  } stopper(stop);
  Experiment first = make();
  TrainOptions stoppable{12, 28, true, 3};
  stoppable.stop_request = [&stop] { return stop; };
  Trainer b(first.graph, first.weights, *first.loss, first.metrics, *first.optimizer, stoppable);
  b.add_callback(&stopper);
  TrainState state = b.initial_state();
  REQUIRE(b.fit(*first.train, &*first.validation, state) == FitResult::kInterrupted);
  CHECK(state.epoch == 3);
  CHECK(state.batch_in_epoch == 3);
  // Through a file: weights, Adam's moments and the train state.
  Checkpoint c;
  c.params = first.weights.params;
  for (const auto& buffer : first.optimizer->state()) c.optimizer_state.emplace_back(buffer.begin(), buffer.end());
  c.optimizer_iterations = first.optimizer->iterations();
  c.optimizer_lr = first.optimizer->lr();
  c.train = state;
  save_checkpoint(d.path() + "/mid.ckpt", c);
  const Checkpoint back = load_checkpoint(d.path() + "/mid.ckpt");

  Experiment second = make();
  Trainer c2(second.graph, second.weights, *second.loss, second.metrics, *second.optimizer, {12, 28, true, 3});  // sizes the state
  second.weights.params = back.params;
  second.optimizer->set_iterations(back.optimizer_iterations);
  second.optimizer->set_lr(back.optimizer_lr);
  auto buffers = second.optimizer->state();
  REQUIRE(buffers.size() == back.optimizer_state.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    REQUIRE(buffers[i].size() == back.optimizer_state[i].size());
    std::copy(back.optimizer_state[i].begin(), back.optimizer_state[i].end(), buffers[i].begin());
  }
  TrainState resumed = back.train;
  REQUIRE(c2.fit(*second.train, &*second.validation, resumed) == FitResult::kCompleted);
  CHECK(std::memcmp(second.weights.params.data(), straight.weights.params.data(), straight.weights.params.size() * sizeof(float)) == 0);
  REQUIRE(resumed.history.epochs.size() == expected.epochs.size());
  for (size_t e = 0; e < expected.epochs.size(); ++e) CHECK(resumed.history.epochs[e].logs.values == expected.epochs[e].logs.values);
}
