#include "anneal/atomic_file.hpp"
#include "anneal/checkpoint.hpp"
#include "anneal/file_checks.hpp"

#include <zlib.h>

#include <cstring>
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
  Reader(const char* data, size_t size, std::string path) : data_(data), size_(size), path_(std::move(path)) {}
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
  bool done() const { return at_ == size_; }
  [[noreturn]] void fail(const std::string& why) const { throw CheckpointError("checkpoint '" + path_ + "': " + why); }

 private:
  void need(size_t n) const {
    if (n > size_ - at_) fail("truncated");
  }
  const char* data_;
  size_t size_, at_ = 0;
  std::string path_;
};

void write_history(Writer& w, const History& h) {
  w.pod<uint64_t>(h.epochs.size());
  for (const auto& e : h.epochs) {
    w.pod<uint64_t>(e.logs.values.size());
    for (const auto& [key, value] : e.logs.values) {
      w.string(key);
      w.pod(value);
    }
    w.pod(e.time_s);
  }
}

History read_history(Reader& r) {
  History h;
  const auto epochs = r.pod<uint64_t>();
  for (uint64_t e = 0; e < epochs; ++e) {
    EpochRecord record;
    const auto n = r.pod<uint64_t>();
    for (uint64_t i = 0; i < n; ++i) {
      std::string key = r.string();
      record.logs.values.emplace_back(std::move(key), r.pod<double>());
    }
    record.time_s = r.pod<double>();
    h.epochs.push_back(std::move(record));
  }
  return h;
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
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
  write_history(w, t.history);
  w.string(c.encoding);

  const std::string& payload = w.bytes();
  std::string file(kMagic, sizeof kMagic);
  Writer header;
  header.pod(kCheckpointFormatVersion);
  header.pod<uint64_t>(payload.size());
  file += header.bytes();
  file += payload;
  Writer trailer;
  trailer.pod<uint32_t>(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()))));
  file += trailer.bytes();
  write_file_atomically(path, file);
}

Checkpoint load_checkpoint(const std::string& path) {
  if (const auto problem = regular_file_problem(path); !problem.empty())
    throw CheckpointError("checkpoint '" + path + "' " + problem);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError("checkpoint '" + path + "' cannot be opened");
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Reader head(file.data(), file.size(), path);
  if (file.size() < sizeof kMagic || std::memcmp(file.data(), kMagic, sizeof kMagic) != 0)
    head.fail("not an Anneal checkpoint (bad magic)");
  Reader r(file.data() + sizeof kMagic, file.size() - sizeof kMagic, path);
  const auto version = r.pod<uint32_t>();
  if (version != kCheckpointFormatVersion)
    r.fail("format version " + std::to_string(version) + ", this build reads version " + std::to_string(kCheckpointFormatVersion));
  const auto length = r.pod<uint64_t>();
  const size_t payload_at = sizeof kMagic + sizeof(uint32_t) + sizeof(uint64_t);
  if (length + sizeof(uint32_t) != file.size() - payload_at)
    r.fail(file.size() - payload_at < length + sizeof(uint32_t) ? "truncated" : "has trailing bytes");
  uint32_t stored = 0;
  std::memcpy(&stored, file.data() + payload_at + length, sizeof stored);
  if (stored != crc32(0, reinterpret_cast<const Bytef*>(file.data() + payload_at), static_cast<uInt>(length)))
    r.fail("corrupted (checksum mismatch)");

  Reader p(file.data() + payload_at, length, path);
  Checkpoint c;
  c.model_hash = p.pod<uint64_t>();
  c.graph_hash = p.pod<uint64_t>();
  c.model_name = p.string();
  c.params = p.vector<float>();
  c.state = p.vector<float>();
  c.optimizer_iterations = p.pod<int64_t>();
  c.optimizer_lr = p.pod<double>();
  c.has_momentum = p.pod<uint8_t>() != 0;
  c.optimizer_momentum = p.pod<double>();
  const auto buffers = p.pod<uint64_t>();
  for (uint64_t i = 0; i < buffers; ++i) c.optimizer_state.push_back(p.vector<float>());
  c.callback_state = p.vector<double>();
  TrainState& t = c.train;
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
  const auto metric_count = p.pod<uint64_t>();
  if (metric_count > length) p.fail("a field's length is corrupt");
  for (uint64_t i = 0; i < metric_count; ++i) t.metric_states.push_back(p.vector<double>());
  t.history = read_history(p);
  c.encoding = p.string();
  if (!p.done()) p.fail("has unread fields");
  return c;
}

}  // namespace anneal
