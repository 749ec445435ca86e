#include "distributed.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "anneal/errors.hpp"

#ifdef ANNEAL_HAVE_MPI
#include <mpi.h>
#include <sched.h>

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

int rank_from_environment() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "MV2_COMM_WORLD_RANK"})
    if (const char* value = std::getenv(name)) return std::atoi(value);
  return 0;
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
  if (code != 0 && (session->rank() == 0 || rank0_failed == 0)) {
    const std::string prefix = session->rank() == 0 ? "" : "rank " + std::to_string(session->rank()) + ": ";
    if (message.find("error: ") == std::string::npos) std::fprintf(stderr, "anneal: error: %s%s\n", prefix.c_str(), message.c_str());
    else std::fprintf(stderr, "%s%s\n", prefix.c_str(), message.c_str());
  }
  return worst;
}

#ifdef ANNEAL_HAVE_MPI
namespace {

constexpr int kHeartbeatTag = 7001;

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(double timeout_s, std::function<int()> stop_signal) : timeout_s_(timeout_s), stop_signal_(std::move(stop_signal)) {
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    last_seen_.assign(static_cast<size_t>(size_), 0);
  }
  ~MpiCommunicator() override { MPI_Comm_free(&comm_); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void broadcast(std::span<float> data, int root) override {
    MPI_Request request;
    check(MPI_Ibcast(data.data(), count_of(data.size()), MPI_FLOAT, root, comm_, &request), "broadcast");
    wait(request, "a broadcast of the weights");
  }
  void allreduce_sum(std::span<float> data) override {
    MPI_Request request;
    check(MPI_Iallreduce(MPI_IN_PLACE, data.data(), count_of(data.size()), MPI_FLOAT, MPI_SUM, comm_, &request), "allreduce");
    wait(request, "a sum over the ranks (gradients or state)");
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
    MPI_Request request;
    check(MPI_Iallgatherv(mine.data(), count_of(mine.size()), MPI_FLOAT, all.data(), counts_.data(), displacements_.data(),
                          MPI_FLOAT, comm_, &request),
          "allgather");
    wait(request, "a gather of the batch's outputs");
  }
  int allreduce_max(int value) override {
    int out = value;
    MPI_Request request;
    check(MPI_Iallreduce(MPI_IN_PLACE, &out, 1, MPI_INT, MPI_MAX, comm_, &request), "allreduce");
    wait(request, "an agreement between the ranks");
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
    const auto deadline = deadline_for_wait();
    for (int spins = 0;; ++spins) {
      int waiting = 0;
      MPI_Status status;
      check(MPI_Iprobe(source, tag, comm_, &waiting, &status), "probe");
      if (waiting) return receive_probed(status);
      pause(spins);
      if (past(deadline)) timed_out("a message from rank " + std::to_string(source));
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

  // Other ranks give rank 0 a little longer, so that when a rank stops answering, rank 0 is the
  // one that names it.
  Clock::time_point deadline_for_wait() const {
    if (timeout_s_ <= 0) return Clock::time_point::max();
    const double s = timeout_s_ + (rank_ == 0 ? 0.0 : 5.0);
    return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }
  static bool past(Clock::time_point deadline) { return deadline != Clock::time_point::max() && Clock::now() > deadline; }
  // Spins briefly (a collective over shared memory completes in microseconds), then yields the
  // core: with more ranks than cores, a spinning rank would starve the one it waits for.
  static void pause(int spins) {
    if (spins > 64) sched_yield();
  }

  // Each collective: the other ranks tell rank 0 they reached it, so that rank 0 can name the
  // ranks that did not when one times out.
  void wait(MPI_Request& request, const std::string& what) {
    ++sequence_;
    if (timeout_s_ > 0) heartbeat();
    const auto deadline = deadline_for_wait();
    Clock::time_point signalled{};
    bool told = false;
    for (int spins = 0;; ++spins) {
      int done = 0;
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "test");
      if (done) return;
      pause(spins);
      if ((spins & 255) != 0) continue;
      if (past(deadline)) timed_out(what);
      // When a rank dies, the launcher stops the others (SIGTERM, then SIGKILL a second later);
      // rank 0, left waiting for it, says which rank it was waiting for while it still can.
      if (rank_ == 0 && !told && stop_signal_ && stop_signal_() != 0) {
        if (signalled == Clock::time_point{}) signalled = Clock::now();
        if (Clock::now() - signalled > std::chrono::milliseconds(300)) {
          std::fprintf(stderr, "anneal: error: stopped by signal %d while waiting for %s at collective operation %lld (%s): "
                               "a rank has died or hung; the last checkpoint is intact and resumes\n",
                       stop_signal_(), late_ranks().c_str(), static_cast<long long>(sequence_), what.c_str());
          told = true;
        }
      }
    }
  }
  // The ranks that have not reported reaching the current collective operation.
  std::string late_ranks() {
    drain_heartbeats();
    std::string late;
    int count = 0;
    for (int r = 1; r < size_; ++r)
      if (last_seen_[static_cast<size_t>(r)] < sequence_) {
        late += (late.empty() ? "" : ", ") + std::to_string(r) + " (last seen at operation " +
                std::to_string(last_seen_[static_cast<size_t>(r)]) + ")";
        ++count;
      }
    if (count == 0) return "the other ranks (each had reached it, so one died or stopped answering during it)";
    return (count == 1 ? "rank " : "ranks ") + late;
  }
  void heartbeat() {
    if (rank_ != 0) {
      check(MPI_Send(&sequence_, 1, MPI_INT64_T, 0, kHeartbeatTag, comm_), "send");
      return;
    }
    drain_heartbeats();
  }
  void drain_heartbeats() {
    for (;;) {
      int waiting = 0;
      MPI_Status status;
      MPI_Iprobe(MPI_ANY_SOURCE, kHeartbeatTag, comm_, &waiting, &status);
      if (!waiting) return;
      int64_t seen = 0;
      MPI_Recv(&seen, 1, MPI_INT64_T, status.MPI_SOURCE, kHeartbeatTag, comm_, MPI_STATUS_IGNORE);
      last_seen_[static_cast<size_t>(status.MPI_SOURCE)] = seen;
    }
  }
  [[noreturn]] void timed_out(const std::string& what) {
    std::string message;
    if (rank_ == 0) {
      message = late_ranks() + " did not reach collective operation " + std::to_string(sequence_) + " (" + what +
                ") within --timeout " + std::to_string(static_cast<int>(timeout_s_)) +
                " s: a rank has hung or died; ending the job (the last checkpoint is intact and resumes)";
    } else {
      message = "rank " + std::to_string(rank_) + ": no answer from rank 0 at collective operation " +
                std::to_string(sequence_) + " (" + what + ") within --timeout " +
                std::to_string(static_cast<int>(timeout_s_)) + " s; ending the job";
    }
    std::fprintf(stderr, "anneal: error: %s\n", message.c_str());
    abort(kExitRuntime);
  }

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  double timeout_s_;
  std::function<int()> stop_signal_;
  int64_t sequence_ = 0;
  std::vector<int64_t> last_seen_;
  std::vector<int> counts_, displacements_;
};

class MpiSession final : public DistributedSession {
 public:
  MpiSession(double timeout_s, std::function<int()> stop_signal) {
    int provided = 0;
    // Serialized: rank 0's task dispatcher (share_tasks) talks from its own thread while the
    // main thread trains without calling MPI.
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    if (provided < MPI_THREAD_SERIALIZED) {
      MPI_Finalize();
      throw RuntimeFailure("this MPI library does not support MPI_THREAD_SERIALIZED, which --distributed needs");
    }
    comm_ = std::make_unique<MpiCommunicator>(timeout_s, std::move(stop_signal));
  }
  ~MpiSession() override {
    comm_.reset();
    MPI_Finalize();
  }
  Communicator& comm() override { return *comm_; }
  [[noreturn]] void abort(int code) override { comm_->abort(code); }

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
