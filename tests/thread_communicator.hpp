#pragma once
// An in-process Communicator: N threads play N ranks, so that the trainer's data parallelism and
// the work queue are tested (also under the sanitizers) without MPI. Collectives meet at a
// barrier and read each other's buffers; sums run in rank order, as a fixed-order allreduce.

#include <algorithm>
#include <barrier>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "anneal/communicator.hpp"

namespace anneal::testing {

class ThreadGroup {
 public:
  explicit ThreadGroup(int size) : size_(size), barrier_(size), posted_(static_cast<size_t>(size)) {}
  int size() const { return size_; }
  void sync() { barrier_.arrive_and_wait(); }
  std::vector<const void*>& posted() { return posted_; }
  std::mutex& mutex() { return mutex_; }
  std::map<std::pair<int, int>, std::deque<std::pair<int, std::string>>>& mailboxes() { return mailboxes_; }

 private:
  int size_;
  std::barrier<> barrier_;
  std::vector<const void*> posted_;
  std::mutex mutex_;
  std::map<std::pair<int, int>, std::deque<std::pair<int, std::string>>> mailboxes_;  // (to, tag) -> (from, bytes)
};

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return group_.size(); }

  void broadcast(std::span<float> data, int root) override {
    post(data.data());
    if (rank_ != root) {
      const auto* from = static_cast<const float*>(group_.posted()[static_cast<size_t>(root)]);
      std::copy(from, from + data.size(), data.begin());
    }
    group_.sync();
  }
  void allreduce_sum(std::span<float> data) override {
    post(data.data());
    std::vector<float> sum(data.size(), 0.0f);
    for (int r = 0; r < size(); ++r) {
      const auto* from = static_cast<const float*>(group_.posted()[static_cast<size_t>(r)]);
      for (size_t i = 0; i < data.size(); ++i) sum[i] += from[i];
    }
    group_.sync();
    std::copy(sum.begin(), sum.end(), data.begin());
  }
  void allgather(std::span<const float> mine, std::span<float> all, std::span<const int64_t> counts) override {
    post(mine.data());
    int64_t offset = 0;
    for (int r = 0; r < size(); ++r) {
      const auto* from = static_cast<const float*>(group_.posted()[static_cast<size_t>(r)]);
      std::copy(from, from + counts[static_cast<size_t>(r)], all.begin() + offset);
      offset += counts[static_cast<size_t>(r)];
    }
    group_.sync();
  }
  int allreduce_max(int value) override {
    post(&value);
    int out = value;
    for (int r = 0; r < size(); ++r) out = std::max(out, *static_cast<const int*>(group_.posted()[static_cast<size_t>(r)]));
    group_.sync();
    return out;
  }
  void send(int destination, int tag, const std::string& bytes) override {
    std::lock_guard lock(group_.mutex());
    group_.mailboxes()[{destination, tag}].push_back({rank_, bytes});
  }
  std::optional<std::pair<int, std::string>> try_receive(int tag) override {
    std::lock_guard lock(group_.mutex());
    auto& box = group_.mailboxes()[{rank_, tag}];
    if (box.empty()) return std::nullopt;
    auto out = box.front();
    box.pop_front();
    return out;
  }
  std::string receive(int source, int tag) override {
    for (;;) {
      {
        std::lock_guard lock(group_.mutex());
        auto& box = group_.mailboxes()[{rank_, tag}];
        for (auto it = box.begin(); it != box.end(); ++it)
          if (it->first == source) {
            std::string out = std::move(it->second);
            box.erase(it);
            return out;
          }
      }
      std::this_thread::yield();
    }
  }

 private:
  // Every rank's pointer is visible once all have posted; the caller reads, then syncs again
  // before anyone reuses its buffer.
  void post(const void* pointer) {
    group_.posted()[static_cast<size_t>(rank_)] = pointer;
    group_.sync();
  }
  ThreadGroup& group_;
  int rank_;
};

// Runs `body(comm)` on `ranks` threads, one communicator each, and waits for all.
inline void run_ranks(int ranks, const std::function<void(Communicator&)>& body) {
  ThreadGroup group(ranks);
  std::vector<std::unique_ptr<ThreadCommunicator>> comms;
  for (int r = 0; r < ranks; ++r) comms.push_back(std::make_unique<ThreadCommunicator>(group, r));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) threads.emplace_back([&, r] { body(*comms[static_cast<size_t>(r)]); });
  for (auto& t : threads) t.join();
}

}  // namespace anneal::testing
