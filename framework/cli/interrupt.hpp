#pragma once
// SIGINT / SIGTERM, the CLI's business: the first one asks the run to stop after the current
// batch (so a checkpoint can be written); a second one ends the process at once, and so does the
// first when the trainer has not seen it within a second (a step of a huge layer can run for
// minutes), exiting 128 + signal without a new checkpoint. The core sees
// only the stop request it is handed (TrainOptions::stop_request), never the signal.

namespace anneal::cli {

void install_interrupt_handlers();
// 0, or the signal number that asked to stop.
int interrupt_signal();

}  // namespace anneal::cli
