#pragma once
// Checkpoints: everything a run needs to continue exactly where it stopped.
//
// File format (little-endian), documented in docs/checkpoint-format.md:
//   "ANNEALCK" (8 bytes) | format version u32 | payload length u64 | payload | CRC-32 of payload u32
// The payload is a sequence of fields in a fixed order (see checkpoint.cpp). Files are written to a
// temporary name, fsync'ed and renamed, so a crash never leaves a half-written checkpoint under the
// real name; a truncated or corrupted file fails its length or CRC check.

#include <cstdint>
#include <string>
#include <vector>

#include "anneal/errors.hpp"
#include "anneal/trainer.hpp"

namespace anneal {

inline constexpr uint32_t kCheckpointFormatVersion = 3;

class CheckpointError : public InputError {
 public:
  using InputError::InputError;
};

struct Checkpoint {
  uint64_t model_hash = 0;  // graph, loss, metrics, optimizer and schedule types: resume needs it equal
  uint64_t graph_hash = 0;  // the graph alone: loading weights (evaluate, predict) needs it equal
  std::string model_name;
  std::vector<float> params;  // trainable, then frozen parameters
  std::vector<float> state;   // non-trainable state (batch_norm's moving statistics)
  int64_t optimizer_iterations = 0;
  double optimizer_lr = 0;
  bool has_momentum = false;
  double optimizer_momentum = 0;
  std::vector<std::vector<float>> optimizer_state;
  std::vector<double> callback_state;  // every callback's, in order (the scheduler's included)
  TrainState train;
  std::string encoding;  // the data encoding (encoding.hpp) as YAML; empty: none (synthetic data)
};

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// Throws CheckpointError (exit code 2) for a missing, truncated, corrupted or foreign file.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace anneal
