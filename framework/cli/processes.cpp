#include "processes.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string_view>
#include <vector>

#include "anneal/clock.hpp"
#include "anneal/errors.hpp"

extern char** environ;

namespace anneal::cli {
namespace {

// A child is one process of its own, even when this one is an MPI rank: the launcher's variables
// would make it join (or try to start) the parent's MPI job.
std::vector<char*> child_environment() {
  std::vector<char*> out;
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    if (entry.starts_with("OMPI_") || entry.starts_with("PMIX_") || entry.starts_with("PMI_") || entry.starts_with("MV2_"))
      continue;
    out.push_back(*e);
  }
  out.push_back(nullptr);
  return out;
}

pid_t spawn(const ChildProcess& child) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, child.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : child.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  std::vector<char*> environment = child_environment();
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environment.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw RuntimeFailure("cannot start " + child.argv[0] + ": " + std::strerror(rc));
  return pid;
}

}  // namespace

void run_children(const std::vector<ChildProcess>& children, int jobs,
                  const std::function<void(size_t, const ChildExit&)>& done) {
  struct Running {
    size_t index;
    double start;
  };
  std::map<pid_t, Running> running;
  size_t next = 0;
  while (next < children.size() || !running.empty()) {
    while (next < children.size() && static_cast<int>(running.size()) < jobs) {
      const double start = wall_seconds();
      running[spawn(children[next])] = {next, start};
      ++next;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw RuntimeFailure(std::string("waiting for child processes: ") + std::strerror(errno));
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const Running r = it->second;
    running.erase(it);
    done(r.index, {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), wall_seconds() - r.start});
  }
}

std::string self_executable() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

}  // namespace anneal::cli
