#pragma once
// The ranks a command runs on. With MPI built in (CMake found Debian's libopenmpi-dev), a
// command asked for --distributed, or launched by mpirun / srun with several ranks, starts MPI
// here and hands the core a Communicator; the core itself never sees MPI. Without MPI,
// --distributed is a usage error (exit 2) and everything else runs as before.

#include <functional>
#include <memory>
#include <string>

#include "anneal/communicator.hpp"

namespace anneal::cli {

class DistributedSession {
 public:
  virtual ~DistributedSession() = default;  // ends MPI
  virtual Communicator& comm() = 0;
  int rank() { return comm().rank(); }
  int size() { return comm().size(); }
  // Ends every rank's process with `code` (after this rank has said why).
  [[noreturn]] virtual void abort(int code) = 0;
};

// Whether the launcher's environment says this process is one of several ranks.
bool launched_with_several_ranks();

// A session when `requested` or launched_with_several_ranks(), else null. `timeout_s` > 0: a
// collective that waits longer ends the job with rank 0 naming the ranks that did not arrive.
// Throws UsageError when requested and this anneal was built without MPI.
std::unique_ptr<DistributedSession> open_distributed(bool requested, double timeout_s);

// Runs a distributed command's setup on every rank and agrees on the outcome: when any rank
// failed, every rank returns the largest exit code, rank 0 printing its own error or, when only
// other ranks failed, those ranks printing theirs prefixed with their rank. Returns 0 when every
// rank succeeded.
int agree_on_setup(DistributedSession* session, const std::function<void()>& setup);

}  // namespace anneal::cli
