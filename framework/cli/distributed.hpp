#pragma once
// The ranks a command runs on. With MPI built in (CMake found Debian's libopenmpi-dev), a
// command asked for --distributed, or launched by mpirun / srun with several ranks, starts MPI
// here and hands the core a Communicator; the core itself never sees MPI. Without MPI,
// --distributed is a usage error (exit 2) and everything else runs as before.

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "anneal/communicator.hpp"
#include "anneal/schedule.hpp"
#include "anneal/spec.hpp"
#include "options.hpp"

namespace anneal::cli {

class DistributedSession {
 public:
  virtual ~DistributedSession() = default;  // ends MPI
  virtual Communicator& comm() = 0;
  int rank() { return comm().rank(); }
  int size() { return comm().size(); }
  // An error this rank met, printed with the rank's number (rank 0's as it is).
  void print_rank_error(const std::string& message);
  // Ends every rank's process with `code` (after this rank has said why).
  [[noreturn]] void abort(int code) {
    end_job(code);
    std::_Exit(code);  // end_job does not return; this says so to the compiler
  }

 protected:
  virtual void end_job(int code) = 0;
};

// Whether the launcher's environment says this process is one of several ranks.
bool launched_with_several_ranks();
// This process's rank by the launcher's environment (0 when none says): errors found before MPI
// starts (bad options) are the same on every rank, and only rank 0 prints them.
int rank_from_environment();

// A session when `requested` or launched_with_several_ranks(), else null. `timeout_s` > 0: a
// collective that waits longer ends the job with rank 0 naming the ranks that did not arrive.
// `stop_signal` (the CLI's interrupt flag; may be empty): while rank 0 waits in a collective after
// the launcher has signalled the job to stop, it names the ranks it is waiting for.
// Throws UsageError when requested and this anneal was built without MPI.
std::unique_ptr<DistributedSession> open_distributed(bool requested, double timeout_s, std::function<int()> stop_signal = {});

// --distributed and --timeout, for the commands that run over ranks (train, sweep, cv).
void add_distributed_options(po::options_description& options);
// open_distributed with the options' values (checked: UsageError for a negative timeout).
std::unique_ptr<DistributedSession> open_distributed(const po::variables_map& vm, std::function<int()> stop_signal = {});

// --scale-lr linear|sqrt and --warmup-epochs: each rank keeps the spec's batch (the global batch
// grows with the ranks) and the rate grows by the rule's factor after a linear warm-up (Goyal
// et al., 2017). `train` applies it over its ranks; `schedule show|plot --ranks N` previews it.
struct LrScaling {
  std::string rule;  // empty: no scaling
  int64_t warmup_epochs = 5;
  int ranks = 1;
};
void add_lr_scaling_options(po::options_description& options);
LrScaling lr_scaling(const po::variables_map& vm);  // checks the rule and the warm-up
double lr_scale_factor(const LrScaling& scaling);   // ranks or sqrt(ranks)
// The spec's batch times the ranks (none without a rule).
void scale_batch(ModelSpec& spec, const LrScaling& scaling);
// The schedule (null: the constant `base_lr`) with the scaled rate and its warm-up.
std::unique_ptr<Schedule> scale_schedule(std::unique_ptr<Schedule> schedule, double base_lr, int64_t steps_per_epoch,
                                         const LrScaling& scaling);

// Runs a distributed command's setup on every rank and agrees on the outcome: when any rank
// failed, every rank returns the largest exit code, rank 0 printing its own error or, when only
// other ranks failed, those ranks printing theirs prefixed with their rank. Returns 0 when every
// rank succeeded.
int agree_on_setup(DistributedSession* session, const std::function<void()>& setup);

}  // namespace anneal::cli
