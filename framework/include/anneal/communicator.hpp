#pragma once
// The collectives that data-parallel training and work spread over ranks need, as an interface:
// the core never sees a transport. The CLI passes an MPI implementation (framework/cli/mpi_*),
// the tests an in-process one; a null Communicator* everywhere means one process.
//
// Every rank must call the collectives in the same order with the same sizes. An implementation
// that gives up (a rank gone or past its timeout) throws RuntimeFailure naming the rank, or ends
// the job itself.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace anneal {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // `data` on every rank becomes rank `root`'s.
  virtual void broadcast(std::span<float> data, int root) = 0;
  // Element-wise sums over the ranks, in place, the same on every rank. The summation order is
  // fixed for a given number of ranks, so runs repeat bit for bit.
  virtual void allreduce_sum(std::span<float> data) = 0;
  // Every rank's `mine` (counts[r] values from rank r), concatenated in rank order into `all`
  // on every rank. counts is the same on every rank.
  virtual void allgather(std::span<const float> mine, std::span<float> all, std::span<const int64_t> counts) = 0;
  // The largest of every rank's value (agreement on an exit code).
  virtual int allreduce_max(int value) = 0;

  // Point to point, for work queues: a message of bytes with a tag.
  virtual void send(int destination, int tag, const std::string& bytes) = 0;
  // A waiting message with this tag from any rank, if there is one: (source, bytes).
  virtual std::optional<std::pair<int, std::string>> try_receive(int tag) = 0;
  // Waits for a message with this tag from `source`.
  virtual std::string receive(int source, int tag) = 0;
};

// Rows [begin, end) of `count` that rank `rank` of `ranks` takes: contiguous, in rank order,
// sizes differing by at most one (the first count % ranks ranks take one more).
std::pair<int64_t, int64_t> rank_slice(int64_t count, int rank, int ranks);

}  // namespace anneal
