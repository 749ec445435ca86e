#include "interrupt.hpp"

#include <csignal>

namespace anneal::cli {
namespace {
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int signal) {
  g_signal = signal;
  std::signal(signal, SIG_DFL);  // a second one ends the process
}
}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

int interrupt_signal() { return g_signal; }

}  // namespace anneal::cli
