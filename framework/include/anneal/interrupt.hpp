#pragma once
// SIGINT / SIGTERM during training: the first one asks the trainer to stop after the current
// batch (so a checkpoint can be written); a second one ends the process at once.

namespace anneal {

void install_interrupt_handlers();
// 0, or the signal number that asked to stop.
int interrupt_signal();
void clear_interrupt();

}  // namespace anneal
