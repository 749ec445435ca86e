#include "anneal/work_queue.hpp"

#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "anneal/errors.hpp"

namespace anneal {

std::pair<int64_t, int64_t> rank_slice(int64_t count, int rank, int ranks) {
  const int64_t base = count / ranks, extra = count % ranks;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

namespace {

constexpr int kTaskTag = 7101;  // worker -> rank 0: a finished task (or none) and a request for more
constexpr int kAssignTag = 7102;  // rank 0 -> worker: the next task, or -1 for no more

// A worker's message: [int64 task or -1][char ok][bytes] (the result, or the error message).
std::string pack(int64_t task, bool ok, const std::string& bytes) {
  std::string out(sizeof task + 1, '\0');
  std::memcpy(out.data(), &task, sizeof task);
  out[sizeof task] = ok ? 1 : 0;
  return out + bytes;
}

struct Outcome {
  bool done = false, ok = true;
  int rank = 0;
  std::string bytes;
};

// Rank 0's book of tasks: the next one to hand out and what came back, shared by its working
// thread and its dispatching thread.
class Ledger {
 public:
  explicit Ledger(size_t count) : outcomes_(count) {}
  std::optional<size_t> take() {
    std::lock_guard lock(mutex_);
    if (next_ >= outcomes_.size()) return std::nullopt;
    return next_++;
  }
  void finish(size_t task, Outcome outcome) {
    std::lock_guard lock(mutex_);
    outcome.done = true;
    outcomes_[task] = std::move(outcome);
  }
  // Reports the tasks done in order (stopping at the first not yet done); rethrows a failed one.
  void report(const std::function<void(size_t, const std::string&)>& on_result) {
    for (;;) {
      Outcome outcome;
      {
        std::lock_guard lock(mutex_);
        if (reported_ >= outcomes_.size() || !outcomes_[reported_].done) return;
        outcome = outcomes_[reported_];
      }
      if (!outcome.ok)
        throw RuntimeFailure("task " + std::to_string(reported_ + 1) + " on rank " + std::to_string(outcome.rank) + ": " +
                             outcome.bytes);
      if (on_result) on_result(reported_, outcome.bytes);
      ++reported_;
    }
  }
  std::vector<std::string> results() {
    std::vector<std::string> out;
    for (auto& o : outcomes_) out.push_back(std::move(o.bytes));
    return out;
  }

 private:
  std::mutex mutex_;
  size_t next_ = 0, reported_ = 0;
  std::vector<Outcome> outcomes_;
};

Outcome attempt(const std::function<std::string(size_t)>& run, size_t task, int rank) {
  Outcome o;
  o.rank = rank;
  try {
    o.bytes = run(task);
  } catch (const std::exception& e) {
    o.ok = false;
    o.bytes = e.what();
  }
  return o;
}

// Rank 0's dispatching thread: answers every request until each other rank has been told to stop.
void dispatch(Communicator& comm, Ledger& ledger) {
  int stopped = 0;
  while (stopped < comm.size() - 1) {
    auto message = comm.try_receive(kTaskTag);
    if (!message) {
      // Polls gently: the ranks' work needs the cores, not this thread.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    const auto& [source, bytes] = *message;
    int64_t task = -1;
    std::memcpy(&task, bytes.data(), sizeof task);
    if (task >= 0) ledger.finish(static_cast<size_t>(task), Outcome{true, bytes[sizeof task] != 0, source, bytes.substr(sizeof task + 1)});
    const auto next = ledger.take();
    const int64_t assigned = next ? static_cast<int64_t>(*next) : -1;
    comm.send(source, kAssignTag, std::string(reinterpret_cast<const char*>(&assigned), sizeof assigned));
    if (!next) ++stopped;
  }
}

void work(Communicator& comm, const std::function<std::string(size_t)>& run) {
  std::string message = pack(-1, true, "");
  for (;;) {
    comm.send(0, kTaskTag, message);
    const std::string reply = comm.receive(0, kAssignTag);
    int64_t task = -1;
    std::memcpy(&task, reply.data(), sizeof task);
    if (task < 0) return;
    const Outcome o = attempt(run, static_cast<size_t>(task), comm.rank());
    message = pack(task, o.ok, o.bytes);
  }
}

}  // namespace

std::vector<std::string> share_tasks(Communicator* comm, size_t count, const std::function<std::string(size_t)>& run,
                                     const std::function<void(size_t, const std::string&)>& on_result) {
  if (!comm || comm->size() == 1) {
    // One process: the tasks in order, and their errors as they are.
    std::vector<std::string> results;
    for (size_t i = 0; i < count; ++i) {
      results.push_back(run(i));
      if (on_result) on_result(i, results.back());
    }
    return results;
  }
  if (comm->rank() != 0) {
    work(*comm, run);
    return {};
  }
  Ledger ledger(count);
  std::exception_ptr dispatch_error;
  std::thread dispatcher([&] {
    try {
      dispatch(*comm, ledger);
    } catch (...) {
      dispatch_error = std::current_exception();
    }
  });
  std::exception_ptr failure;
  try {
    while (const auto task = ledger.take()) {
      ledger.finish(*task, attempt(run, *task, 0));
      ledger.report(on_result);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  dispatcher.join();
  if (dispatch_error) std::rethrow_exception(dispatch_error);
  if (failure) std::rethrow_exception(failure);
  ledger.report(on_result);
  return ledger.results();
}

std::string pack_fields(const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& f : fields) {
    const uint64_t n = f.size();
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
    out += f;
  }
  return out;
}

std::vector<std::string> unpack_fields(const std::string& bytes) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < bytes.size()) {
    uint64_t n = 0;
    if (bytes.size() - at < sizeof n) throw RuntimeFailure("a task's result message is truncated");
    std::memcpy(&n, bytes.data() + at, sizeof n);
    at += sizeof n;
    if (n > bytes.size() - at) throw RuntimeFailure("a task's result message is truncated");
    out.push_back(bytes.substr(at, n));
    at += n;
  }
  return out;
}

}  // namespace anneal
