#include "anneal/atomic_file.hpp"
#include "anneal/checkpoint.hpp"
#include "anneal/checksum.hpp"
#include "anneal/file_checks.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <fstream>
#include <iterator>

namespace anneal {
namespace {

constexpr char kMagic[8] = {'A', 'N', 'N', 'E', 'A', 'L', 'C', 'K'};

class Writer {
 public:
  template <class T>
  void pod(const T& value) {
    const auto* p = reinterpret_cast<const char*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void string(const std::string& s) {
    pod<uint64_t>(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  template <class T>
  void vector(const std::vector<T>& v) {
    pod<uint64_t>(v.size());
    if (v.empty()) return;
    const auto* p = reinterpret_cast<const char*>(v.data());
    bytes_.insert(bytes_.end(), p, p + v.size() * sizeof(T));
  }
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

class Reader {
 public:
  // `kind` names the file in messages: "checkpoint" or "history sidecar".
  Reader(const char* data, size_t size, std::string path, std::string kind = "checkpoint")
      : data_(data), size_(size), path_(std::move(path)), kind_(std::move(kind)) {}
  template <class T>
  T pod() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, data_ + at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  std::string string() {
    const auto n = pod<uint64_t>();
    need(n);
    std::string s(data_ + at_, n);
    at_ += n;
    return s;
  }
  template <class T>
  std::vector<T> vector() {
    const auto n = pod<uint64_t>();
    if (n > size_ / sizeof(T)) fail("a field's length is corrupt");
    need(n * sizeof(T));
    std::vector<T> v(n);
    if (n > 0) std::memcpy(v.data(), data_ + at_, n * sizeof(T));  // an empty vector's data() may be null
    at_ += n * sizeof(T);
    return v;
  }
  // A count of items that follow: each takes at least a byte, so a count above the data's size is
  // damage (reading on would only fail later, item by item).
  uint64_t count() {
    const auto n = pod<uint64_t>();
    if (n > size_) fail("a field's length is corrupt");
    return n;
  }
  bool done() const { return at_ == size_; }
  [[noreturn]] void fail(const std::string& why) const { throw CheckpointError(kind_ + " '" + path_ + "': " + why); }

 private:
  void need(size_t n) const {
    if (n > size_ - at_) fail("truncated");
  }
  const char* data_;
  size_t size_, at_ = 0;
  std::string path_, kind_;
};

// --- History sidecar -------------------------------------------------------------------------
// "ANNEALHS" | version u32 | records, each: payload length u64 | payload | CRC-32 of payload u32.
// A record's payload is one epoch: u64 key count, (string key, f64 value) pairs, f64 seconds.

constexpr char kSidecarMagic[8] = {'A', 'N', 'N', 'E', 'A', 'L', 'H', 'S'};
constexpr uint32_t kSidecarVersion = 1;

std::string record_payload(const EpochRecord& e) {
  Writer w;
  w.pod<uint64_t>(e.logs.values.size());
  for (const auto& [key, value] : e.logs.values) {
    w.string(key);
    w.pod(value);
  }
  w.pod(e.time_s);
  return std::move(w.bytes());
}

// Frames records [from, end) and chains their CRCs into `crc`.
std::string frame_records(const std::vector<EpochRecord>& epochs, size_t from, uint32_t& crc) {
  Writer w;
  for (size_t e = from; e < epochs.size(); ++e) {
    const std::string payload = record_payload(epochs[e]);
    w.string(payload);
    w.pod(crc32_of(payload));
    crc = crc32_of(payload, crc);
  }
  return std::move(w.bytes());
}

void write_all(int fd, const std::string& bytes, const std::string& file) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw RuntimeFailure("cannot write '" + file + "': " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) throw RuntimeFailure("cannot write '" + file + "': " + std::strerror(errno));
}

namespace fs = std::filesystem;

fs::path folder_of(const std::string& path) {
  const fs::path folder = fs::path(path).parent_path();
  return folder.empty() ? fs::path(".") : folder;
}

// The generation number of `name` if it is one of `checkpoint`'s sidecars ("NAME.history-G").
std::optional<uint64_t> generation_of(const std::string& checkpoint_name, const std::string& name) {
  const std::string prefix = checkpoint_name + ".history-";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const std::string digits = name.substr(prefix.size());
  if (digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoull(digits);
}

template <class F>
void for_each_generation(const std::string& path, F f) {
  const std::string name = fs::path(path).filename().string();
  std::error_code ec;
  for (fs::directory_iterator it(folder_of(path), ec), end; !ec && it != end; it.increment(ec))
    if (const auto g = generation_of(name, it->path().filename().string())) f(*g, it->path());
}

// Creates the next free generation of `path`'s sidecar holding every record of `epochs`.
std::string start_generation(const std::string& path, const std::vector<EpochRecord>& epochs, uint32_t& crc) {
  uint64_t next = 1;
  for_each_generation(path, [&](uint64_t g, const fs::path&) { next = std::max(next, g + 1); });
  Writer header;
  header.pod(kSidecarVersion);
  crc = 0;
  const std::string bytes = std::string(kSidecarMagic, sizeof kSidecarMagic) + header.bytes() + frame_records(epochs, 0, crc);
  for (;; ++next) {
    const std::string file = (folder_of(path) / (fs::path(path).filename().string() + ".history-" + std::to_string(next))).string();
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) continue;  // another writer took it between the scan and here
    if (fd < 0) throw RuntimeFailure("cannot create '" + file + "': " + std::strerror(errno));
    write_all(fd, bytes, file);
    return file;
  }
}

void remove_other_generations(const std::string& path, const std::string& keep) {
  for_each_generation(path, [&](uint64_t, const fs::path& file) {
    std::error_code ignored;
    if (file.filename() != fs::path(keep).filename()) fs::remove(file, ignored);
  });
}

// Reads the first `records` records of a sidecar; returns why it cannot, or "" with `out` filled.
std::string read_sidecar(const std::string& file, uint64_t records, uint32_t crc, History& out) {
  const std::string named = "history sidecar '" + file + "'";
  if (const auto problem = regular_file_problem(file); !problem.empty()) return named + " " + problem;
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.eof() && in.fail()) return named + " cannot be read";
  if (bytes.size() < sizeof kSidecarMagic + 4 || std::memcmp(bytes.data(), kSidecarMagic, sizeof kSidecarMagic) != 0)
    return named + " is not a history sidecar";
  try {
    Reader r(bytes.data() + sizeof kSidecarMagic, bytes.size() - sizeof kSidecarMagic, file, "history sidecar");
    if (r.pod<uint32_t>() != kSidecarVersion) return named + " has an unknown version";
    uint32_t chained = 0;
    for (uint64_t e = 0; e < records; ++e) {
      const std::string payload = r.string();
      if (r.pod<uint32_t>() != crc32_of(payload)) return named + " record " + std::to_string(e + 1) + " is corrupted";
      chained = crc32_of(payload, chained);
      Reader p(payload.data(), payload.size(), file, "history sidecar");
      EpochRecord record;
      const auto n = p.count();
      for (uint64_t i = 0; i < n; ++i) {
        std::string key = p.string();
        record.logs.values.emplace_back(std::move(key), p.pod<double>());
      }
      record.time_s = p.pod<double>();
      if (!p.done()) p.fail("has unread fields");
      out.epochs.push_back(std::move(record));
    }
    if (chained != crc) return named + " holds a different history than the checkpoint counts";
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "";
}

void write_checkpoint_file(const std::string& path, const Checkpoint& c, const std::string& history_file,
                           uint64_t history_records, uint32_t history_crc) {
  Writer w;
  w.pod(c.model_hash);
  w.pod(c.graph_hash);
  w.string(c.model_name);
  w.vector(c.params);
  w.vector(c.state);
  w.pod(c.optimizer_iterations);
  w.pod(c.optimizer_lr);
  w.pod<uint8_t>(c.has_momentum);
  w.pod(c.optimizer_momentum);
  w.pod<uint64_t>(c.optimizer_state.size());
  for (const auto& buffer : c.optimizer_state) w.vector(buffer);
  w.vector(c.callback_state);
  const TrainState& t = c.train;
  w.pod(t.epoch);
  w.pod(t.step);
  w.pod(t.batch_in_epoch);
  w.pod(t.epoch_shuffle);
  w.pod(t.dropout);
  w.pod(t.loss_sum);
  w.pod(t.reg_loss_sum);
  w.pod(t.lr_used);
  w.pod(t.time_s);
  w.pod(t.seen);
  w.pod<uint64_t>(t.metric_states.size());
  for (const auto& m : t.metric_states) w.vector(m);
  w.string(history_file);
  w.pod(history_records);
  w.pod(history_crc);
  w.string(c.encoding);

  const std::string& payload = w.bytes();
  std::string file(kMagic, sizeof kMagic);
  Writer header;
  header.pod(kCheckpointFormatVersion);
  header.pod<uint64_t>(payload.size());
  file += header.bytes();
  file += payload;
  Writer trailer;
  trailer.pod<uint32_t>(crc32_of(payload));
  file += trailer.bytes();
  write_file_atomically(path, file);
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) { CheckpointStore().save(path, checkpoint); }

void CheckpointStore::save(const std::string& path, const Checkpoint& c) {
  const auto& epochs = c.train.history.epochs;
  auto found = sidecars_.find(path);
  std::error_code ec;
  const bool append = found != sidecars_.end() && !found->second.file.empty() && epochs.size() >= found->second.records &&
                      fs::is_regular_file(found->second.file, ec);
  Sidecar sidecar;
  if (epochs.empty()) {
    sidecar = {};
  } else if (append) {
    sidecar = found->second;
    if (epochs.size() > sidecar.records) {
      const std::string bytes = frame_records(epochs, sidecar.records, sidecar.crc);
      const int fd = ::open(sidecar.file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      if (fd < 0) throw RuntimeFailure("cannot append to '" + sidecar.file + "': " + std::strerror(errno));
      write_all(fd, bytes, sidecar.file);
      sidecar.records = epochs.size();
    }
  } else {
    sidecar.file = start_generation(path, epochs, sidecar.crc);
    sidecar.records = epochs.size();
  }
  write_checkpoint_file(path, c, sidecar.file.empty() ? std::string() : fs::path(sidecar.file).filename().string(),
                        sidecar.records, sidecar.crc);
  if (!append) remove_other_generations(path, sidecar.file);
  sidecars_[path] = sidecar;
}


namespace {

// The file's payload, once its magic, format version, length and checksum are right.
std::string_view verified_payload(const std::string& file, const std::string& path) {
  Reader head(file.data(), file.size(), path);
  if (file.size() < sizeof kMagic || std::memcmp(file.data(), kMagic, sizeof kMagic) != 0)
    head.fail("not an Anneal checkpoint (bad magic)");
  Reader r(file.data() + sizeof kMagic, file.size() - sizeof kMagic, path);
  const auto version = r.pod<uint32_t>();
  if (version != kCheckpointFormatVersion)
    r.fail("format version " + std::to_string(version) + ", this build reads version " + std::to_string(kCheckpointFormatVersion));
  const auto length = r.pod<uint64_t>();
  const size_t payload_at = sizeof kMagic + sizeof(uint32_t) + sizeof(uint64_t);
  // Compared against what the file holds after the payload's start, never by adding to the stored
  // length: a length near 2^64 would wrap the sum round to the file's size and pass.
  const size_t after_header = file.size() - payload_at;  // the reads above guarantee the header is there
  if (after_header < sizeof(uint32_t) || length > after_header - sizeof(uint32_t)) r.fail("truncated");
  if (length < after_header - sizeof(uint32_t)) r.fail("has trailing bytes");
  uint32_t stored = 0;
  std::memcpy(&stored, file.data() + payload_at + length, sizeof stored);
  if (stored != crc32_of({file.data() + payload_at, length}))
    r.fail("corrupted (checksum mismatch)");
  return {file.data() + payload_at, length};
}

void read_optimizer(Reader& p, Checkpoint& c) {
  c.optimizer_iterations = p.pod<int64_t>();
  c.optimizer_lr = p.pod<double>();
  c.has_momentum = p.pod<uint8_t>() != 0;
  c.optimizer_momentum = p.pod<double>();
  const auto buffers = p.count();
  for (uint64_t i = 0; i < buffers; ++i) c.optimizer_state.push_back(p.vector<float>());
}

void read_train_state(Reader& p, TrainState& t) {
  t.epoch = p.pod<int64_t>();
  t.step = p.pod<int64_t>();
  t.batch_in_epoch = p.pod<int64_t>();
  t.epoch_shuffle = p.pod<Rng::State>();
  t.dropout = p.pod<Rng::State>();
  t.loss_sum = p.pod<double>();
  t.reg_loss_sum = p.pod<double>();
  t.lr_used = p.pod<double>();
  t.time_s = p.pod<double>();
  t.seen = p.pod<int64_t>();
  const auto metric_count = p.count();
  for (uint64_t i = 0; i < metric_count; ++i) t.metric_states.push_back(p.vector<double>());
}

}  // namespace

Checkpoint load_checkpoint(const std::string& path) {
  if (const auto problem = regular_file_problem(path); !problem.empty())
    throw CheckpointError("checkpoint '" + path + "' " + problem);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError("checkpoint '" + path + "' cannot be opened");
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string_view payload = verified_payload(file, path);

  // The fields in write_checkpoint_file's order.
  Reader p(payload.data(), payload.size(), path);
  Checkpoint c;
  c.model_hash = p.pod<uint64_t>();
  c.graph_hash = p.pod<uint64_t>();
  c.model_name = p.string();
  c.params = p.vector<float>();
  c.state = p.vector<float>();
  read_optimizer(p, c);
  c.callback_state = p.vector<double>();
  read_train_state(p, c.train);
  const std::string history_file = p.string();
  const auto history_records = p.pod<uint64_t>();
  const auto history_crc = p.pod<uint32_t>();
  c.encoding = p.string();
  if (!p.done()) p.fail("has unread fields");
  if (history_file.find('/') != std::string::npos || (history_file.empty() != (history_records == 0)))
    p.fail("names an invalid history sidecar");
  if (history_records > 0) {
    c.history_problem = read_sidecar((folder_of(path) / history_file).string(), history_records, history_crc, c.train.history);
    if (!c.history_problem.empty()) c.train.history = {};
  }
  return c;
}

}  // namespace anneal
