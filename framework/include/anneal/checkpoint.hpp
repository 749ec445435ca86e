#pragma once
// Checkpoints: everything a run needs to continue exactly where it stopped.
//
// File format (little-endian), documented in docs/checkpoint-format.md:
//   "ANNEALCK" (8 bytes) | format version u32 | payload length u64 | payload | CRC-32 of payload u32
// The payload is a sequence of fields in a fixed order (see checkpoint.cpp). Files are written to a
// temporary name, fsync'ed and renamed, so a crash never leaves a half-written checkpoint under the
// real name; a truncated or corrupted file fails its length or CRC check.
//
// The training history grows by one record per epoch, and a callback may save a checkpoint every
// epoch: kept inline, the bytes written would grow with the square of the epoch count. So the
// history lives in an append-only sidecar next to the checkpoint, "NAME.history-G", and the
// checkpoint records the sidecar's name, how many records it covers and their CRC.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "anneal/errors.hpp"
#include "anneal/trainer.hpp"

namespace anneal {

inline constexpr uint32_t kCheckpointFormatVersion = 4;

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
  // Set by load_checkpoint when the history sidecar is missing or does not match (train.history
  // is then empty). Weights, encoding and state are still valid; only resuming needs the history.
  std::string history_problem;
};

// Saves checkpoints and keeps their history sidecars. The first save to a path starts a new
// sidecar generation (the next free G) holding the whole history; later saves to the same path
// append only the epochs it lacks, then rename the checkpoint that counts them into place, and
// remove the path's older generations. A crash between the append and the rename leaves records
// the checkpoint on disk does not count; loading reads only those it counts.
class CheckpointStore {
 public:
  void save(const std::string& path, const Checkpoint& checkpoint);

 private:
  struct Sidecar {
    std::string file;      // full path of the generation this store appends to
    uint64_t records = 0;  // history records it holds
    uint32_t crc = 0;      // CRC-32 chained over those records' payloads
  };
  std::map<std::string, Sidecar> sidecars_;  // by checkpoint path
};

// One save through a store of its own (a whole sidecar generation).
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// Throws CheckpointError (exit code 2) for a missing, truncated, corrupted or foreign file. A
// missing or damaged history sidecar is not an error here (see Checkpoint::history_problem).
Checkpoint load_checkpoint(const std::string& path);

}  // namespace anneal
