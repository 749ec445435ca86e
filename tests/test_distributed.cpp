// Data-parallel training and the work queue over ranks, with threads as ranks (an in-process
// Communicator): the same behaviour the MPI checks (tests/mpi_checks.sh) see through mpirun.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <cmath>
#include <mutex>
#include <set>

#include "anneal/errors.hpp"
#include "anneal/experiment.hpp"
#include "anneal/lr_scaling.hpp"
#include "anneal/work_queue.hpp"
#include "helpers.hpp"
#include "thread_communicator.hpp"

using namespace anneal;
using anneal::test::load_with;
using anneal::test::source_path;

namespace {

struct Outcome {
  Weights weights;
  History history;
};

Outcome train(const std::string& model, const std::vector<std::string>& sets, Communicator* comm) {
  Experiment ex = build_experiment(load_model_spec(source_path(model), load_with(sets)));
  RunOptions quiet;
  quiet.verbose = false;
  quiet.comm = comm;
  RunResult result = run_experiment(ex, quiet);
  REQUIRE(result.result == FitResult::kCompleted);
  return {ex.weights, std::move(result.history)};
}

// Largest |a - b| / max(|b|, 1e-3) over two weight vectors.
double relative_gap(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]) / std::max(std::abs(static_cast<double>(b[i])), 1e-3));
  return worst;
}

// Trains on `ranks` threads; every rank's outcome.
std::vector<Outcome> train_on_ranks(int ranks, const std::string& model, const std::vector<std::string>& sets) {
  std::vector<Outcome> out(static_cast<size_t>(ranks));
  testing::run_ranks(ranks, [&](Communicator& comm) { out[static_cast<size_t>(comm.rank())] = train(model, sets, &comm); });
  return out;
}

}  // namespace

TEST_CASE("rank slices cover the batch contiguously in rank order, sizes differing by at most one", "[distributed]") {
  for (int ranks : {1, 2, 3, 7})
    for (int64_t count : {0, 1, 2, 5, 28, 29, 100}) {
      int64_t next = 0, smallest = count, largest = 0;
      for (int r = 0; r < ranks; ++r) {
        const auto [begin, end] = rank_slice(count, r, ranks);
        CHECK(begin == next);
        next = end;
        smallest = std::min(smallest, end - begin);
        largest = std::max(largest, end - begin);
      }
      CHECK(next == count);
      CHECK(largest - smallest <= 1);
    }
  CHECK(rank_slice(29, 0, 3) == std::pair<int64_t, int64_t>{0, 10});
  CHECK(rank_slice(29, 2, 3) == std::pair<int64_t, int64_t>{20, 29});
}

TEST_CASE("data-parallel training on 2 and 3 ranks takes one process's updates", "[distributed]") {
  const std::vector<std::string> sets{"train.epochs=3"};
  const Outcome single = train("models/ionosphere.yaml", sets, nullptr);
  for (int ranks : {2, 3}) {
    const auto outcomes = train_on_ranks(ranks, "models/ionosphere.yaml", sets);
    for (const auto& o : outcomes) {
      // Every rank holds the same weights: the same update everywhere.
      CHECK(o.weights.params == outcomes.front().weights.params);
      CHECK(relative_gap(o.weights.params, single.weights.params) <= 1e-5);
      REQUIRE(o.history.epochs.size() == 3);
      // The loss and metrics are computed over the whole gathered batch, as one process does.
      CHECK(o.history.epochs.back().logs.get("val_accuracy", NAN) == single.history.epochs.back().logs.get("val_accuracy", NAN));
      CHECK(o.history.epochs.back().logs.get("val_loss", NAN) == Approx(single.history.epochs.back().logs.get("val_loss", NAN)).epsilon(1e-5));
      CHECK(o.history.epochs.back().logs.get("loss", NAN) == Approx(single.history.epochs.back().logs.get("loss", NAN)).epsilon(1e-5));
    }
  }
}

TEST_CASE("a batch with fewer rows than ranks leaves some ranks without rows, and the update is still one process's",
          "[distributed]") {
  // 235 training rows in batches of 117: the last batch has one row, so two of three ranks have none.
  const std::vector<std::string> sets{"train.epochs=2", "train.batch_size=117"};
  const Outcome single = train("models/ionosphere.yaml", sets, nullptr);
  const auto outcomes = train_on_ranks(3, "models/ionosphere.yaml", sets);
  for (const auto& o : outcomes) CHECK(relative_gap(o.weights.params, single.weights.params) <= 1e-5);
}

TEST_CASE("batch-norm moving statistics are averaged over the ranks and agree on every rank", "[distributed]") {
  const std::vector<std::string> sets{"train.epochs=1"};
  const auto outcomes = train_on_ranks(2, "models/digits_cnn.yaml", sets);
  REQUIRE_FALSE(outcomes[0].weights.state.empty());
  CHECK(outcomes[0].weights.state == outcomes[1].weights.state);
  CHECK(outcomes[0].weights.params == outcomes[1].weights.params);
  // The statistics moved from their start (mean 0, variance 1) on every rank alike.
  const Experiment fresh = build_experiment(load_model_spec(source_path("models/digits_cnn.yaml"), load_with(sets)));
  CHECK(outcomes[0].weights.state != fresh.weights.state);
}

TEST_CASE("share_tasks runs every task once over the ranks and reports them on rank 0 in task order", "[distributed]") {
  for (int ranks : {1, 2, 3}) {
    std::mutex mutex;
    std::multiset<size_t> ran;
    std::vector<size_t> reported;
    std::vector<std::string> results;
    testing::run_ranks(ranks, [&](Communicator& comm) {
      auto out = share_tasks(
          &comm, 20,
          [&](size_t i) {
            std::lock_guard lock(mutex);
            ran.insert(i);
            return "task " + std::to_string(i) + " on rank " + std::to_string(comm.rank());
          },
          [&](size_t i, const std::string&) { reported.push_back(i); });
      if (comm.rank() == 0) results = std::move(out);
      else CHECK(out.empty());
    });
    CHECK(ran.size() == 20);
    CHECK(std::set<size_t>(ran.begin(), ran.end()).size() == 20);
    REQUIRE(reported.size() == 20);
    for (size_t i = 0; i < 20; ++i) {
      CHECK(reported[i] == i);
      CHECK(results[i].rfind("task " + std::to_string(i) + " on rank ", 0) == 0);
    }
  }
}

TEST_CASE("a task that fails on another rank fails rank 0 naming the task and the rank", "[distributed]") {
  std::string message;
  testing::run_ranks(2, [&](Communicator& comm) {
    try {
      share_tasks(&comm, 6, [&](size_t i) -> std::string {
        if (comm.rank() == 1) throw DataError("row 3 is broken");
        // Rank 0 works slowly enough that rank 1 gets tasks too.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return std::to_string(i);
      });
    } catch (const RuntimeFailure& e) {
      message = e.what();
    }
  });
  CHECK_THAT(message, Catch::Contains("on rank 1: row 3 is broken"));
  // One process: the task's own error, untouched.
  CHECK_THROWS_AS(share_tasks(nullptr, 2, [](size_t) -> std::string { throw DataError("bad"); }), DataError);
}

TEST_CASE("task results pack into one message and come back field by field", "[distributed]") {
  const std::vector<std::string> fields{"", "0.9914", std::string("a\0b", 3), std::string(1000, 'x')};
  CHECK(unpack_fields(pack_fields(fields)) == fields);
  std::string damaged = pack_fields(fields);
  damaged.pop_back();
  CHECK_THROWS_AS(unpack_fields(damaged), RuntimeFailure);
}

TEST_CASE("the scaled rate warms up linearly from the base rate to factor times it, over a schedule or a constant rate",
          "[distributed]") {
  // Constant 0.1, factor 4 over 10 warm-up updates: 0.1 * (1 + 3 t / 10), then 0.4.
  auto constant = scaled_schedule(nullptr, 0.1, 4.0, 10);
  Progress p;
  p.steps_per_epoch = 5;
  p.epochs = 10;
  for (auto [step, expected] : std::vector<std::pair<int64_t, double>>{{0, 0.1}, {1, 0.13}, {5, 0.25}, {9, 0.37}, {10, 0.4}, {49, 0.4}}) {
    p.step = step;
    p.epoch = step / 5;
    CHECK(constant->lr(p) == Approx(expected).epsilon(1e-12));
  }
  // Over step decay (0.1 halved every 2 epochs), factor sqrt(4) = 2, no warm-up.
  AttrMap attrs = test::attrs_from("{type: step_decay, lr: 0.1, drop: 0.5, epochs_drop: 2}");
  ScheduleContext ctx;
  ctx.epochs = 10;
  ctx.steps_per_epoch = 5;
  auto stepped = scaled_schedule(make_schedule(attrs, ctx), 0.1, 2.0, 0);
  p.step = 20;
  p.epoch = 4;
  CHECK(stepped->lr(p) == Approx(2.0 * 0.1 * std::pow(0.5, std::floor((1.0 + 4) / 2))).epsilon(1e-12));
}
