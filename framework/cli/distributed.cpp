#include "distributed.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "anneal/errors.hpp"
#include "anneal/lr_scaling.hpp"
#include "anneal/shape.hpp"
#include "commands.hpp"

#ifdef ANNEAL_HAVE_MPI
#include <mpi.h>

#include <array>
#include <atomic>
#include <optional>
#include <chrono>
#include <climits>
#include <thread>
#include <vector>
#endif

namespace anneal::cli {

bool launched_with_several_ranks() {
  // OpenMPI's mpirun, MPICH / Slurm's PMI and MVAPICH each export the job's size.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"})
    if (const char* value = std::getenv(name); value && std::atoi(value) > 1) return true;
  return false;
}

void add_distributed_options(po::options_description& options) {
  options.add_options()
      ("distributed", po::bool_switch(), "run over the MPI ranks (mpirun -np N anneal ...; on by itself when launched with "
                                         "several ranks)")
      ("timeout", po::value<double>()->default_value(600), "with several ranks: end the job when a rank has not answered "
                                                           "for this many seconds (0: wait forever)");
}

std::unique_ptr<DistributedSession> open_distributed(const po::variables_map& vm, std::function<int()> stop_signal) {
  const double timeout = vm["timeout"].as<double>();
  if (!(timeout >= 0)) throw UsageError("--timeout must be >= 0 seconds");
  return open_distributed(vm["distributed"].as<bool>(), timeout, std::move(stop_signal));
}

void add_lr_scaling_options(po::options_description& options) {
  options.add_options()
      ("scale-lr", po::value<std::string>(), "over several ranks: keep train.batch_size per rank and scale the rate by the "
                                             "ranks (linear) or their square root (sqrt), after a warm-up")
      ("warmup-epochs", po::value<int64_t>()->default_value(5), "with --scale-lr: epochs of linear warm-up to the scaled rate");
}

LrScaling lr_scaling(const po::variables_map& vm) {
  LrScaling out;
  if (!vm.count("scale-lr")) return out;
  out.rule = vm["scale-lr"].as<std::string>();
  lr_scale_factor(out);  // checks the rule's name
  out.warmup_epochs = vm["warmup-epochs"].as<int64_t>();
  if (out.warmup_epochs < 0) throw UsageError("--warmup-epochs must be >= 0");
  return out;
}

double lr_scale_factor(const LrScaling& scaling) {
  if (scaling.rule == "linear") return scaling.ranks;
  if (scaling.rule == "sqrt") return std::sqrt(static_cast<double>(scaling.ranks));
  throw UsageError("--scale-lr " + scaling.rule + ": expected linear or sqrt");
}

void scale_batch(ModelSpec& spec, const LrScaling& scaling) {
  if (scaling.rule.empty()) return;
  try {
    spec.train.batch_size = checked_mul(spec.train.batch_size, static_cast<int64_t>(scaling.ranks));
  } catch (const SizeOverflow&) {
    throw UsageError("--scale-lr: train.batch_size times the ranks does not fit 64-bit arithmetic");
  }
}

std::unique_ptr<Schedule> scale_schedule(std::unique_ptr<Schedule> schedule, double base_lr, int64_t steps_per_epoch,
                                         const LrScaling& scaling) {
  if (scaling.rule.empty()) return schedule;
  int64_t warmup_steps = 0;
  try {
    warmup_steps = checked_mul(scaling.warmup_epochs, steps_per_epoch);
  } catch (const SizeOverflow&) {
    throw UsageError("--warmup-epochs " + std::to_string(scaling.warmup_epochs) + " does not fit 64-bit arithmetic");
  }
  return scaled_schedule(std::move(schedule), base_lr, lr_scale_factor(scaling), warmup_steps);
}

int rank_from_environment() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "MV2_COMM_WORLD_RANK"})
    if (const char* value = std::getenv(name)) return std::atoi(value);
  return 0;
}

void DistributedSession::print_rank_error(const std::string& message) {
  print_error((rank() == 0 ? "" : "rank " + std::to_string(rank()) + ": ") + message);
}

int agree_on_setup(DistributedSession* session, const std::function<void()>& setup) {
  if (!session) {
    setup();
    return 0;
  }
  int code = 0;
  std::string message;
  try {
    setup();
  } catch (const Error& e) {
    code = e.exit_code();
    message = e.what();
  } catch (const std::exception& e) {
    code = kExitRuntime;
    message = std::string("internal error: ") + e.what();
  }
  const int worst = session->comm().allreduce_max(code);
  if (worst == 0) return 0;
  // The same input fails the same way everywhere: rank 0 speaks for all. A failure rank 0 did
  // not see is that rank's own (a file only it cannot read), so it speaks, naming itself.
  const int rank0_failed = session->comm().allreduce_max(session->rank() == 0 ? code : 0);
  if (code != 0 && (session->rank() == 0 || rank0_failed == 0)) session->print_rank_error(message);
  return worst;
}

#ifdef ANNEAL_HAVE_MPI
namespace {

constexpr int kPingTag = 7001;  // rank 0's watchdog -> another rank's: are you there?
constexpr int kPongTag = 7002;  // the answer: [collective operation, inside it (0/1)]

// Collectives are MPI's blocking ones (its tuned algorithms: the non-blocking variants measured
// about 2x slower on gradient-sized messages here, docs/scaling.md). A watchdog thread on every rank
// watches them: when a collective has lasted past --timeout, rank 0's watchdog asks every other
// rank's watchdog where it is, names the ranks that do not answer (stopped, dead) or answer from
// an earlier operation (stuck computing), and ends the job.
class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(double timeout_s, std::function<int()> stop_signal) : timeout_s_(timeout_s), stop_signal_(std::move(stop_signal)) {
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    if (size_ > 1 && (timeout_s_ > 0 || stop_signal_)) watchdog_ = std::thread([this] { watch(); });
  }
  ~MpiCommunicator() override {
    stopping_ = true;
    if (watchdog_.joinable()) watchdog_.join();
    MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void broadcast(std::span<float> data, int root) override {
    collective("a broadcast of the weights", [&] { return MPI_Bcast(data.data(), count_of(data.size()), MPI_FLOAT, root, comm_); });
  }
  void allreduce_sum(std::span<float> data) override {
    collective("a sum over the ranks (gradients or state)", [&] {
      return MPI_Allreduce(MPI_IN_PLACE, data.data(), count_of(data.size()), MPI_FLOAT, MPI_SUM, comm_);
    });
  }
  void allgather(std::span<const float> mine, std::span<float> all, std::span<const int64_t> counts) override {
    counts_.resize(counts.size());
    displacements_.resize(counts.size());
    int64_t offset = 0;
    for (size_t r = 0; r < counts.size(); ++r) {
      counts_[r] = count_of(static_cast<size_t>(counts[r]));
      displacements_[r] = count_of(static_cast<size_t>(offset));
      offset += counts[r];
    }
    collective("a gather of the batch's outputs", [&] {
      return MPI_Allgatherv(mine.data(), count_of(mine.size()), MPI_FLOAT, all.data(), counts_.data(), displacements_.data(),
                            MPI_FLOAT, comm_);
    });
  }
  int allreduce_max(int value) override {
    int out = value;
    collective("an agreement between the ranks", [&] { return MPI_Allreduce(MPI_IN_PLACE, &out, 1, MPI_INT, MPI_MAX, comm_); });
    return out;
  }

  void send(int destination, int tag, const std::string& bytes) override {
    check(MPI_Send(bytes.data(), count_of(bytes.size()), MPI_BYTE, destination, tag, comm_), "send");
  }
  std::optional<std::pair<int, std::string>> try_receive(int tag) override {
    int waiting = 0;
    MPI_Status status;
    check(MPI_Iprobe(MPI_ANY_SOURCE, tag, comm_, &waiting, &status), "probe");
    if (!waiting) return std::nullopt;
    return std::make_pair(status.MPI_SOURCE, receive_probed(status));
  }
  std::string receive(int source, int tag) override {
    const auto deadline = timeout_s_ > 0 ? Clock::now() + seconds(timeout_s_ + 5) : Clock::time_point::max();
    for (;;) {
      int waiting = 0;
      MPI_Status status;
      check(MPI_Iprobe(source, tag, comm_, &waiting, &status), "probe");
      if (waiting) return receive_probed(status);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      if (Clock::now() > deadline)
        give_up("rank " + std::to_string(rank_) + ": no message from rank " + std::to_string(source) + " within --timeout " +
                std::to_string(static_cast<int>(timeout_s_)) + " s; ending the job");
    }
  }

  [[noreturn]] void abort(int code) {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(comm_, code);
    std::_Exit(code);
  }

 private:
  using Clock = std::chrono::steady_clock;
  static Clock::duration seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }

  static int count_of(size_t n) {
    if (n > static_cast<size_t>(INT_MAX)) throw RuntimeFailure("a message of " + std::to_string(n) + " values is more than MPI's int count");
    return static_cast<int>(n);
  }
  void check(int rc, const char* what) {
    if (rc == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(rc, text, &length);
    throw RuntimeFailure(std::string("MPI ") + what + " failed on rank " + std::to_string(rank_) + ": " + std::string(text, static_cast<size_t>(length)));
  }
  std::string receive_probed(const MPI_Status& status) {
    int bytes = 0;
    MPI_Get_count(&status, MPI_BYTE, &bytes);
    std::string out(static_cast<size_t>(bytes), '\0');
    check(MPI_Recv(out.data(), bytes, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm_, MPI_STATUS_IGNORE), "receive");
    return out;
  }

  template <class Call>
  void collective(const char* what, Call call) {
    what_ = what;
    entered_ = Clock::now().time_since_epoch().count();
    ++sequence_;
    inside_ = true;
    const int rc = call();
    inside_ = false;
    check(rc, what);
  }

  // The watchdog: every 100 ms other ranks answer rank 0's questions; any rank whose current
  // collective has lasted past the timeout ends the job (others 5 s later than rank 0, so that
  // rank 0 is the one that names the late rank).
  void watch() {
    bool told = false;
    Clock::time_point signalled{};
    while (!stopping_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (rank_ != 0) answer_pings();
      if (!inside_) {
        signalled = {};
        continue;
      }
      const auto entered = Clock::time_point(Clock::duration(entered_.load()));
      const double limit = timeout_s_ + (rank_ == 0 ? 0.0 : 5.0);
      if (timeout_s_ > 0 && Clock::now() - entered > seconds(limit)) timed_out();
      // When a rank dies, the launcher stops the others (SIGTERM, then SIGKILL a second later);
      // rank 0, left waiting for it, says which rank does not answer while it still can. (A
      // SIGTERM while every rank is alive completes the collective well within 200 ms.)
      if (rank_ == 0 && !told && stop_signal_ && stop_signal_() != 0) {
        if (signalled == Clock::time_point{}) signalled = Clock::now();
        if (Clock::now() - signalled > std::chrono::milliseconds(200)) {
          std::fprintf(stderr, "anneal: error: stopped by signal %d while waiting in collective operation %lld (%s): %s; "
                               "a rank has died or hung; the last checkpoint is intact and resumes\n",
                       stop_signal_(), static_cast<long long>(sequence_.load()), what_.load(),
                       late_ranks(std::chrono::milliseconds(300)).c_str());
          told = true;
        }
      }
    }
  }
  void answer_pings() {
    for (;;) {
      int waiting = 0;
      MPI_Status status;
      if (MPI_Iprobe(0, kPingTag, comm_, &waiting, &status) != MPI_SUCCESS || !waiting) return;
      char ping = 0;
      MPI_Recv(&ping, 1, MPI_CHAR, 0, kPingTag, comm_, MPI_STATUS_IGNORE);
      const int64_t where[2] = {sequence_.load(), inside_.load() ? 1 : 0};
      MPI_Send(where, 2, MPI_INT64_T, 0, kPongTag, comm_);
    }
  }
  // Asks every other rank where it is (waiting up to `wait` for answers) and names those not
  // inside the current collective operation.
  std::string late_ranks(std::chrono::milliseconds wait) {
    static const char ping = 1;
    std::vector<MPI_Request> requests(static_cast<size_t>(size_), MPI_REQUEST_NULL);
    for (int r = 1; r < size_; ++r) MPI_Isend(&ping, 1, MPI_CHAR, r, kPingTag, comm_, &requests[static_cast<size_t>(r)]);
    std::vector<std::optional<std::array<int64_t, 2>>> answers(static_cast<size_t>(size_));
    const auto deadline = Clock::now() + wait;
    int answered = 0;
    while (answered < size_ - 1 && Clock::now() < deadline) {
      int waiting = 0;
      MPI_Status status;
      if (MPI_Iprobe(MPI_ANY_SOURCE, kPongTag, comm_, &waiting, &status) != MPI_SUCCESS) break;
      if (!waiting) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      std::array<int64_t, 2> where{};
      MPI_Recv(where.data(), 2, MPI_INT64_T, status.MPI_SOURCE, kPongTag, comm_, MPI_STATUS_IGNORE);
      answers[static_cast<size_t>(status.MPI_SOURCE)] = where;
      ++answered;
    }
    const int64_t current = sequence_.load();
    std::string late;
    for (int r = 1; r < size_; ++r) {
      const auto& a = answers[static_cast<size_t>(r)];
      std::string why;
      if (!a) why = "does not answer: stopped or dead";
      else if ((*a)[0] < current || ((*a)[0] == current && (*a)[1] == 0))
        why = "is alive but still computing before operation " + std::to_string((*a)[0] + ((*a)[1] ? 0 : 1));
      if (!why.empty()) late += (late.empty() ? "" : "; ") + ("rank " + std::to_string(r) + " " + why);
    }
    return late.empty() ? "every other rank answered from inside the operation" : late;
  }
  [[noreturn]] void timed_out() {
    const std::string operation = "collective operation " + std::to_string(sequence_.load()) + " (" + what_.load() + ")";
    const std::string limit = "--timeout " + std::to_string(static_cast<int>(timeout_s_)) + " s";
    if (rank_ == 0)
      give_up(operation + " did not complete within " + limit + ": " + late_ranks(std::chrono::seconds(2)) +
              "; ending the job (the last checkpoint is intact and resumes)");
    give_up("rank " + std::to_string(rank_) + ": no answer from rank 0 at " + operation + " within " + limit + "; ending the job");
  }
  [[noreturn]] void give_up(const std::string& message) {
    std::fprintf(stderr, "anneal: error: %s\n", message.c_str());
    abort(kExitRuntime);
  }

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  double timeout_s_;
  std::function<int()> stop_signal_;
  // What the main thread is in, for the watchdog.
  std::atomic<int64_t> sequence_{0};
  std::atomic<Clock::rep> entered_{0};
  std::atomic<bool> inside_{false}, stopping_{false};
  std::atomic<const char*> what_{""};
  std::vector<int> counts_, displacements_;
  std::thread watchdog_;
};

class MpiSession final : public DistributedSession {
 public:
  MpiSession(double timeout_s, std::function<int()> stop_signal) {
    int provided = 0;
    // Multiple: the watchdog answers or asks other ranks while the main thread is in a collective,
    // and rank 0's task dispatcher (share_tasks) talks from a thread of its own.
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
    if (provided < MPI_THREAD_MULTIPLE) {
      MPI_Finalize();
      throw RuntimeFailure("this MPI library does not support MPI_THREAD_MULTIPLE, which --distributed needs");
    }
    comm_ = std::make_unique<MpiCommunicator>(timeout_s, std::move(stop_signal));
  }
  ~MpiSession() override {
    comm_.reset();
    MPI_Finalize();
  }
  Communicator& comm() override { return *comm_; }
  void end_job(int code) override { comm_->abort(code); }

 private:
  std::unique_ptr<MpiCommunicator> comm_;
};

}  // namespace

std::unique_ptr<DistributedSession> open_distributed(bool requested, double timeout_s, std::function<int()> stop_signal) {
  if (!requested && !launched_with_several_ranks()) return nullptr;
  return std::make_unique<MpiSession>(timeout_s, std::move(stop_signal));
}

#else

std::unique_ptr<DistributedSession> open_distributed(bool requested, double, std::function<int()>) {
  if (requested)
    throw UsageError("--distributed: this anneal was built without MPI; install Debian's libopenmpi-dev and openmpi-bin "
                     "and rebuild (CMake turns MPI on when it finds them)");
  if (launched_with_several_ranks())
    std::fprintf(stderr, "anneal: warning: launched as one of several MPI ranks, but this anneal was built without MPI: "
                         "every rank runs the whole command alone\n");
  return nullptr;
}

#endif

}  // namespace anneal::cli
