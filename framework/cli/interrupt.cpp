#include "interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

namespace anneal::cli {
namespace {
volatile std::sig_atomic_t g_signal = 0;
// Set when the trainer reads a pending signal: it is stopping at a batch boundary and will save.
std::atomic<bool> g_seen{false};

extern "C" void on_signal(int signal) {
  g_signal = signal;
  std::signal(signal, SIG_DFL);  // a second one ends the process
}

// A batch can run for minutes (a huge layer): if the trainer has not read the signal within a
// second, the run cannot stop cleanly soon, so it ends now, as the signal's default would, and
// the last checkpoint on disk stands.
void watchdog() {
  using namespace std::chrono;
  for (;;) {
    std::this_thread::sleep_for(milliseconds(50));
    if (g_signal == 0) continue;
    const auto since = steady_clock::now();
    while (!g_seen.load() && steady_clock::now() - since < seconds(1)) std::this_thread::sleep_for(milliseconds(20));
    if (g_seen.load()) return;
    static const char message[] =
        "\nanneal: interrupted in the middle of a long step; stopping without a new checkpoint (the last one saved stands)\n";
    [[maybe_unused]] const auto ignored = ::write(2, message, sizeof message - 1);
    ::_exit(128 + g_signal);
  }
}
}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::thread(watchdog).detach();
}

int interrupt_signal() {
  const int signal = g_signal;
  if (signal != 0) g_seen = true;
  return signal;
}

}  // namespace anneal::cli
