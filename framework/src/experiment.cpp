#include "anneal/experiment.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "anneal/callbacks.hpp"
#include "anneal/checkpoint.hpp"
#include "anneal/folds.hpp"
#include "anneal/metric.hpp"

namespace anneal {

ScheduleContext schedule_context(const Experiment& ex, const ModelSpec& spec) {
  ScheduleContext ctx;
  ctx.optimizer_lr = ex.optimizer->lr();
  ctx.optimizer_has_momentum = ex.optimizer->momentum().has_value();
  ctx.epochs = spec.train.epochs;
  if (ex.train) {
    ctx.steps_per_epoch = (ex.train->rows() + spec.train.batch_size - 1) / spec.train.batch_size;
    // Schedules count steps in 64 bits: the run's last step must fit.
    try {
      checked_mul(ctx.epochs, ctx.steps_per_epoch);
    } catch (const SizeOverflow&) {
      throw SpecError(spec.train.location, "train.epochs " + std::to_string(ctx.epochs) + " x " +
                                               std::to_string(ctx.steps_per_epoch) + " steps per epoch do not fit 64-bit arithmetic");
    }
    ctx.log_keys.push_back("loss");
    for (const auto& m : ex.metrics) ctx.log_keys.push_back(m.name);
    if (ex.validation) {
      ctx.log_keys.push_back("val_loss");
      for (const auto& m : ex.metrics) ctx.log_keys.push_back("val_" + m.name);
    }
  }
  return ctx;
}

int64_t training_memory(const CompiledGraph& g) {
  const auto& s = g.sizes();
  const int64_t floats = checked_add(checked_add(s.params, s.state), checked_mul(3, s.trainable));
  return checked_add(checked_mul(floats, static_cast<int64_t>(sizeof(float))), g.executor_bytes(true));
}

namespace {
// "224.5 GiB", "57.3 MiB": one decimal, in the largest binary unit the size reaches.
std::string size_text(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) bytes /= 1024.0, ++u;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f %s", bytes, units[u]);
  return buffer;
}
}  // namespace

void check_memory(const CompiledGraph& g, int64_t limit) {
  if (limit <= 0) return;
  const int64_t need = training_memory(g);
  if (need <= limit) return;
  const double activations = static_cast<double>(g.sizes().activations) * sizeof(float);
  const int64_t runner = g.runner_bytes(true);
  const std::string products = runner > 0 ? ", the matrix products' buffers " + size_text(static_cast<double>(runner)) : "";
  throw MemoryLimitExceeded("the model needs " + size_text(static_cast<double>(need)) + " to train at batch " +
                            std::to_string(g.max_batch()) + " (activations " + size_text(activations) + products + "); " +
                            size_text(static_cast<double>(limit)) + " available (lower train.batch_size or the layer sizes, or raise the limit)");
}

RawSplit load_raw_split(const ModelSpec& spec) {
  const DataSpec& data = *spec.data;
  Dataset all = read_data(data);
  if (!data.validation_path.empty()) {
    DataSpec other = data;
    other.path = data.validation_path;
    other.path_location = data.validation_location;
    other.format = data.validation_path.size() >= 5 && data.validation_path.ends_with(".arff") ? "arff" : data.format;
    Dataset validation = read_data(other);
    if (!all.class_names.empty() || !validation.class_names.empty()) align_labels(validation, all.class_names);
    return {std::move(all), std::move(validation)};
  }
  if (spec.train.validation_split <= 0) return {std::move(all), std::nullopt};
  const SplitKind kind = spec.train.split == "stratified" ? SplitKind::kStratified
                         : spec.train.split == "shuffled" ? SplitKind::kShuffled
                                                           : SplitKind::kLast;
  auto split = split_rows(all, spec.train.validation_split, kind, spec.train.split_seed);
  return {std::move(split.train), std::move(split.validation)};
}

Experiment build_experiment(ModelSpec spec, bool load_data, const BuildOptions& options, const FeatureEncoding* fixed) {
  std::optional<Dataset> train, validation;
  if (load_data && spec.data) {
    RawSplit split = load_raw_split(spec);
    train = std::move(split.train);
    validation = std::move(split.validation);
  }
  return build_experiment_on(std::move(spec), std::move(train), std::move(validation), options, fixed);
}

namespace {

// Encodes the raw rows and checks them against the model's input.
void encode_rows(Experiment& ex, const ModelSpec& spec, std::optional<Dataset>& train, std::optional<Dataset>& validation,
                 const FeatureEncoding* fixed) {
  if (fixed && !fixed->empty()) ex.encoding = *fixed;
  else if (train) ex.encoding = fit_encoding(*train, *spec.data);
  else return;
  if (train && spec.data->normalize == "none") {
    const auto columns = large_valued_columns(*train, ex.encoding);
    std::string named;
    for (size_t i = 0; i < columns.size() && i < 8; ++i) named += (i ? ", '" : "'") + columns[i] + "'";
    if (columns.size() > 8) named += " and " + std::to_string(columns.size() - 8) + " more";
    if (!columns.empty())
      ex.warnings.push_back(std::string(columns.size() == 1 ? "feature " : "features ") + named + (columns.size() == 1 ? " has" : " have") +
                            " values beyond +-100; unscaled features often stall training: consider normalize: standard in data:");
  }
  // Encoded in place where the encoding allows: the rows are held once, not raw and encoded.
  if (train) ex.train = encode(ex.encoding, std::move(*train));
  if (validation) ex.validation = encode(ex.encoding, std::move(*validation));
  train.reset();
  validation.reset();
  const std::string source = spec.data->synthetic ? std::string("the synthetic data") : spec.data->path;
  const int64_t features = ex.encoding.width();
  if (features != spec.input.numel()) {
    const int64_t raw = static_cast<int64_t>(ex.encoding.columns.size());
    throw SpecError(spec.input_location, "input " + spec.input.str() + " has " + std::to_string(spec.input.numel()) +
                                             " values per sample, but " + source + " has " + std::to_string(features) + " feature columns" +
                                             (raw != features ? " (" + std::to_string(raw) + " before one-hot encoding its categorical ones)" : ""));
  }
  if (ex.train) ex.train->features.reshape(spec.input);
  if (ex.validation) ex.validation->features.reshape(spec.input);
}

// class_weight multiplies each training row's sample weight by its class's weight.
void apply_class_weight(Dataset& train, const TrainSpec& spec) {
  if (!spec.balanced_class_weight && spec.class_weight.empty()) return;
  const auto classes = row_classes(train, "class_weight");
  std::map<int64_t, double> weight;
  if (spec.balanced_class_weight) {
    // scikit-learn's compute_class_weight("balanced"): n / (classes present * count).
    std::map<int64_t, int64_t> count;
    for (int64_t c : classes) ++count[c];
    for (const auto& [c, k] : count)
      weight[c] = static_cast<double>(train.rows()) / (static_cast<double>(count.size()) * static_cast<double>(k));
  } else {
    for (const auto& [label, w] : spec.class_weight) {
      int64_t c = -1;
      if (!train.class_names.empty()) {
        const auto it = std::find(train.class_names.begin(), train.class_names.end(), label);
        if (it != train.class_names.end()) c = it - train.class_names.begin();
      } else {
        try {
          size_t used = 0;
          c = std::stoll(label, &used);
          if (used != label.size()) c = -1;
        } catch (const std::logic_error&) {
        }
      }
      if (c < 0 || (train.label_classes > 0 && c >= train.label_classes)) {
        std::string known;
        for (size_t i = 0; i < train.class_names.size(); ++i) known += (i ? ", " : "") + train.class_names[i];
        throw SpecError(spec.class_weight_location, "class_weight names the class '" + label + "', which the data does not have" +
                                                        (known.empty() ? "" : " (classes: " + known + ")"));
      }
      weight[c] = w;
    }
  }
  if (train.sample_weights.empty()) train.sample_weights.assign(static_cast<size_t>(train.rows()), 1.0f);
  for (int64_t r = 0; r < train.rows(); ++r) {
    const auto it = weight.find(classes[static_cast<size_t>(r)]);
    if (it != weight.end()) train.sample_weights[static_cast<size_t>(r)] *= static_cast<float>(it->second);
  }
}

std::string classes_found(const Dataset& data) {
  if (!data.class_names.empty()) {
    std::string out = std::to_string(data.class_names.size()) + " classes: ";
    for (size_t i = 0; i < data.class_names.size() && i < 10; ++i) out += (i ? ", " : "") + data.class_names[i];
    return out + (data.class_names.size() > 10 ? ", ..." : "");
  }
  std::set<float> values;
  const int64_t tw = data.targets.sample_shape().numel();
  if (tw != 1) return std::to_string(tw) + " target columns";
  for (float v : data.targets.values()) {
    values.insert(v);
    if (values.size() > 10) break;
  }
  std::string out = "values ";
  size_t shown = 0;
  for (float v : values) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", static_cast<double>(v));
    out += (shown ? ", " : "") + std::string(shown >= 10 ? "..." : buffer);
    ++shown;
  }
  return out;
}

}  // namespace

void check_labels(const Loss& loss, const std::string& loss_name, const Dataset& data, int64_t output_width) {
  const int64_t tw = data.targets.sample_shape().numel();
  if (tw == 0) return;
  for (int64_t r = 0; r < data.rows(); ++r) {
    const std::string problem = loss.target_problem(data.targets.row(r), tw, output_width);
    if (!problem.empty())
      throw DataError(data.where(r) + ": error: loss '" + loss_name + "' " + problem + "; the labels hold " + classes_found(data));
  }
}

namespace {
void check_planned_memory(const CompiledGraph& graph, int64_t limit) {
  try {
    check_memory(graph, limit);
  } catch (const SizeOverflow& e) {
    throw InputError(std::string("the model is too large to plan: ") + e.what());
  }
}
}  // namespace

Experiment build_experiment_on(ModelSpec spec, std::optional<Dataset> train, std::optional<Dataset> validation,
                               const BuildOptions& options, const FeatureEncoding* fixed) {
  Experiment ex;
  if (spec.data) encode_rows(ex, spec, train, validation, fixed);
  if (ex.train) apply_class_weight(*ex.train, spec.train);
  // No batch is larger than the rows there are (training batches, and evaluation's chunks).
  int64_t largest_batch = spec.train.batch_size;
  if (ex.train) {
    const int64_t rows = std::max<int64_t>({ex.train->rows(), ex.validation ? ex.validation->rows() : 0, 1});
    largest_batch = std::min(largest_batch, rows);
  }
  ex.graph = compile(spec, largest_batch);
  // Checked before the products are chosen, so that timing them (--gemm auto) never allocates for
  // a model that does not fit, and again after: their runner's buffers (mixed_bfloat16's
  // converted copies, oneDNN's scratchpad) are only known then.
  check_planned_memory(ex.graph, options.memory_limit);
  GemmOptions gemm = options.gemm;
  gemm.bfloat16 = spec.train.precision == "mixed_bfloat16";
  if (gemm.emulate_bfloat16 && !gemm.bfloat16)
    ex.warnings.push_back("bfloat16 emulation was asked for, but train.precision is float32: it changes nothing");
  try {
    ex.graph.choose_gemms(gemm);
  } catch (const InputError& e) {
    if (!gemm.bfloat16) throw;
    throw Bfloat16Unsupported(spec.train.precision_location, std::string("train.precision: ") + e.what() +
                                                                 "; train in float32, or emulate bfloat16 to check the numbers");
  }
  check_planned_memory(ex.graph, options.memory_limit);
  ex.weights = initialize_weights(ex.graph, spec.train.seed);

  ex.loss = create_from<LossRegistry>(spec.loss, "loss");
  const int64_t target_width = ex.train ? ex.train->targets.sample_shape().numel() : -1;
  if (target_width >= 0) {
    const std::string problem = ex.loss->check(ex.graph.output_shape(), target_width);
    if (!problem.empty())
      throw SpecError(spec.loss.location(), "loss '" + spec.loss.get<std::string>("type") + "' " + problem +
                                                " (output " + ex.graph.output_shape().str() + ")");
    const auto loss_name = spec.loss.get<std::string>("type");
    check_labels(*ex.loss, loss_name, *ex.train, ex.graph.output_shape().numel());
    if (ex.validation) check_labels(*ex.loss, loss_name, *ex.validation, ex.graph.output_shape().numel());
  }
  for (auto& metric_attrs : spec.metrics) {
    const auto name = metric_attrs.get<std::string>("type");
    auto metric = create_from<MetricRegistry>(metric_attrs, "metric");
    if (target_width >= 0) {
      const std::string problem = metric->check(ex.graph.output_shape(), target_width);
      if (!problem.empty()) throw SpecError(metric_attrs.location(), "metric '" + name + "' " + problem);
    }
    ex.metrics.push_back({name, std::move(metric)});
  }
  ex.optimizer = create_from<OptimizerRegistry>(spec.optimizer, "optimizer");
  const ScheduleContext ctx = schedule_context(ex, spec);
  if (spec.schedule) ex.schedule = make_schedule(*spec.schedule, ctx);
  // Callbacks are built per run, but checked now so a bad one fails before any training.
  for (const auto& attrs : spec.callbacks) {
    AttrMap copy = attrs;
    create_from<CallbackRegistry>(copy, "callback", ctx);
  }
  ex.spec = std::move(spec);
  return ex;
}

namespace {

uint64_t fnv1a(uint64_t hash, const std::string& text) {
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ULL;
  return (hash ^ 0xff) * 1099511628211ULL;
}

std::string type_of(AttrMap attrs) { return attrs.has("type") ? attrs.get<std::string>("type") : ""; }

}  // namespace

uint64_t graph_hash(const Experiment& ex) {
  uint64_t h = 14695981039346656037ULL;
  for (int index : ex.graph.order()) {
    const auto& node = ex.graph.nodes()[static_cast<size_t>(index)];
    h = fnv1a(h, node.name + "|" + node.op_type + "|" + node.shape.str());
    for (const auto& p : node.params) h = fnv1a(h, p.name + p.shape.str() + (p.training.trainable ? "" : " frozen"));
    for (const auto& st : node.state) h = fnv1a(h, st.name + st.shape.str());
  }
  return h;
}

uint64_t model_hash(const Experiment& ex) {
  uint64_t h = graph_hash(ex);
  h = fnv1a(h, "loss:" + type_of(ex.spec.loss));
  for (const auto& m : ex.metrics) h = fnv1a(h, "metric:" + m.name);
  h = fnv1a(h, "optimizer:" + type_of(ex.spec.optimizer));
  h = fnv1a(h, "schedule:" + (ex.spec.schedule ? type_of(*ex.spec.schedule) : std::string("none")));
  return h;
}

namespace {

void check_matching(const Experiment& ex, const Checkpoint& c, const std::string& path, bool whole_run) {
  if (c.graph_hash != graph_hash(ex))
    throw CheckpointError("checkpoint '" + path + "' holds the weights of a different model ('" + c.model_name +
                          "': other nodes, ops or shapes) than " + ex.spec.file);
  if (whole_run && c.model_hash != model_hash(ex))
    throw CheckpointError("checkpoint '" + path + "' comes from a run with another loss, metrics, optimizer or schedule type; "
                          "resume with the same model spec and schedule file");
  if (c.params.size() != ex.weights.params.size() || c.state.size() != ex.weights.state.size())
    throw CheckpointError("checkpoint '" + path + "': wrong number of weights");
}

}  // namespace

void load_weights(Experiment& ex, const Checkpoint& c, const std::string& path) {
  check_matching(ex, c, path, false);
  ex.weights.params = c.params;
  ex.weights.state = c.state;
}

FeatureEncoding checkpoint_encoding(const Checkpoint& c, const std::string& path) {
  return c.encoding.empty() ? FeatureEncoding{} : encoding_from_yaml(c.encoding, "checkpoint '" + path + "'");
}

namespace {

// Why continuing `steps_done` updates of a run of `old_epochs` into the spec's longer run would
// change what an update already done was given, or "" when the longer run only continues it.
std::string extension_problem(const Experiment& ex, int64_t old_epochs, int64_t steps_done) {
  if (!ex.spec.schedule) return "";
  ScheduleContext longer = schedule_context(ex, ex.spec), shorter = longer;
  shorter.epochs = old_epochs;
  const auto a = make_schedule(*ex.spec.schedule, shorter), b = make_schedule(*ex.spec.schedule, longer);
  for (int64_t t = 0; t < steps_done; ++t) {
    Progress was{t, t / std::max<int64_t>(longer.steps_per_epoch, 1), longer.steps_per_epoch, old_epochs};
    Progress now = was;
    now.epochs = longer.epochs;
    const double lr_was = a->preview().lr(was), lr_now = b->preview().lr(now);
    if (lr_was != lr_now || a->preview().momentum(was) != b->preview().momentum(now)) {
      char buffer[256];
      std::snprintf(buffer, sizeof buffer, "update %lld (epoch %lld) had rate %.6g in the %lld-epoch run and would have %.6g in the "
                    "%lld-epoch one", static_cast<long long>(t + 1), static_cast<long long>(was.epoch + 1), lr_was,
                    static_cast<long long>(old_epochs), lr_now, static_cast<long long>(longer.epochs));
      return buffer;
    }
  }
  return "";
}

// The run's callbacks in the order they are called: the scheduler sets the rate first; the
// progress line prints before other callbacks speak (as in Keras); then the NaN guard and the
// spec's callbacks.
std::vector<NamedCallback> run_callbacks(Experiment& ex, const RunOptions& options) {
  const ScheduleContext ctx = schedule_context(ex, ex.spec);
  std::vector<NamedCallback> callbacks;
  if (ex.schedule) callbacks.push_back({"lr_scheduler", std::make_unique<LrScheduler>(std::move(ex.schedule))});
  bool has_progress = false, has_nan_guard = false;
  for (const auto& attrs : ex.spec.callbacks) {
    const auto type = type_of(attrs);
    has_progress = has_progress || type == "progress";
    has_nan_guard = has_nan_guard || type == "terminate_on_nan";
  }
  if (options.verbose && !has_progress) callbacks.push_back({"progress", std::make_unique<ProgressLogger>()});
  if (ex.spec.train.terminate_on_nan && !has_nan_guard) {
    AttrMap none;
    callbacks.push_back({"terminate_on_nan", std::make_unique<TerminateOnNan>(none, ctx)});
  }
  for (const auto& attrs : ex.spec.callbacks) {
    AttrMap copy = attrs;
    const auto type = type_of(copy);
    if (!options.verbose && type == "progress") continue;
    callbacks.push_back({type, create_from<CallbackRegistry>(copy, "callback", ctx)});
  }
  return callbacks;
}

// A checkpoint of the run at `state`. The weights saved are the model point (schedule-free's
// average): what evaluate, predict and export load.
Checkpoint snapshot(const Experiment& ex, uint64_t hash, const std::vector<NamedCallback>& callbacks, const TrainState& state) {
  Checkpoint c;
  c.model_hash = hash;
  c.graph_hash = graph_hash(ex);
  c.model_name = ex.spec.name;
  c.params = ex.weights.params;
  ex.optimizer->to_model_point(std::span<float>(c.params).first(static_cast<size_t>(ex.graph.sizes().trainable)));
  c.state = ex.weights.state;
  c.optimizer_iterations = ex.optimizer->iterations();
  c.optimizer_lr = ex.optimizer->lr();
  const auto momentum = ex.optimizer->momentum();
  c.has_momentum = momentum.has_value();
  c.optimizer_momentum = momentum.value_or(0);
  for (const auto& buffer : ex.optimizer->state()) c.optimizer_state.emplace_back(buffer.begin(), buffer.end());
  c.callback_state = save_callback_states(callbacks);
  c.train = state;
  c.encoding = ex.encoding.empty() ? std::string() : encoding_to_yaml(ex.encoding);
  return c;
}

void restore_optimizer(Optimizer& optimizer, const Checkpoint& c, const std::string& path) {
  optimizer.set_iterations(c.optimizer_iterations);
  optimizer.set_lr(c.optimizer_lr);
  if (c.has_momentum) optimizer.set_momentum(c.optimizer_momentum);
  auto buffers = optimizer.state();
  const auto mismatch = [&] { return CheckpointError("checkpoint '" + path + "': optimizer state does not match"); };
  if (buffers.size() != c.optimizer_state.size()) throw mismatch();
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (buffers[i].size() != c.optimizer_state[i].size()) throw mismatch();
    std::copy(c.optimizer_state[i].begin(), c.optimizer_state[i].end(), buffers[i].begin());
  }
}

// Refusals of a checkpoint that matches the model but not this run: its history is missing, its
// data was encoded otherwise, its run cannot be extended into this one, or it is already done.
void check_resumable(const Experiment& ex, const Checkpoint& c, const RunOptions& options) {
  const std::string& path = options.resume_path;
  if (!c.history_problem.empty())
    throw CheckpointError("checkpoint '" + path + "' cannot be resumed without its history: " + c.history_problem +
                          " (copy a checkpoint together with its NAME.history-G file)");
  if (!c.encoding.empty() && c.encoding != encoding_to_yaml(ex.encoding))
    throw CheckpointError("checkpoint '" + path + "' was trained on differently encoded data (normalize, "
                          "categories or missing-value fill differ); resume with the same data: section");
  if (options.extended_from > 0)
    if (const auto problem = extension_problem(ex, options.extended_from, c.train.step); !problem.empty())
      throw InputError("extending the run: checkpoint '" + path + "' cannot continue into a longer run: " + problem +
                       "; the schedule's shape depends on the run's length and this checkpoint is past the point where "
                       "the two runs part (for wsd: extend from a checkpoint taken before the decay phase)");
  if (c.train.epoch >= ex.spec.train.epochs)
    throw InputError("checkpoint '" + path + "' has already trained " + std::to_string(c.train.epoch) + " epochs and this run is " +
                     std::to_string(ex.spec.train.epochs) + " long: nothing to train (raise train.epochs to continue)");
}

// Loads options.resume_path into the experiment and its callbacks; returns the state to go on from.
TrainState resume(Experiment& ex, const RunOptions& options, std::vector<NamedCallback>& callbacks) {
  Checkpoint c = load_checkpoint(options.resume_path);
  check_matching(ex, c, options.resume_path, true);
  check_resumable(ex, c, options);
  ex.weights.params = c.params;
  ex.weights.state = c.state;
  restore_optimizer(*ex.optimizer, c, options.resume_path);
  // The checkpoint holds the model point; training continues from the training point.
  ex.optimizer->to_training_point(std::span<float>(ex.weights.params).first(static_cast<size_t>(ex.graph.sizes().trainable)));
  try {
    load_callback_states(c.callback_state, callbacks, [&](const std::string& what) {
      if (options.verbose) std::printf("note: resuming %s: %s\n", options.resume_path.c_str(), what.c_str());
    });
  } catch (const InputError& e) {
    throw CheckpointError("checkpoint '" + options.resume_path + "': " + e.what());
  }
  return std::move(c.train);
}

}  // namespace

RunResult run_experiment(Experiment& ex, const RunOptions& options) {
  if (!ex.train) throw SpecError(SourceLocation{ex.spec.file, 0, 0}, "the model spec has no 'data' to train on");
  const bool writer = !options.comm || options.comm->rank() == 0;
  TrainOptions train_options{ex.spec.train.epochs, ex.spec.train.batch_size, ex.spec.train.shuffle, ex.spec.train.seed,
                             options.stop_request, options.pause_at, options.comm};
  Trainer trainer(ex.graph, ex.weights, *ex.loss, ex.metrics, *ex.optimizer, train_options);
  std::vector<NamedCallback> callbacks = run_callbacks(ex, options);
  for (auto& cb : callbacks)
    if (writer || !cb.callback->writes_output()) trainer.add_callback(cb.callback.get());

  TrainState state = options.resume_path.empty() ? trainer.initial_state() : resume(ex, options, callbacks);
  const uint64_t hash = model_hash(ex);
  RunResult out;
  // One store for the run: a checkpoint rewritten every epoch appends only that epoch's history.
  CheckpointStore store;
  out.result = trainer.fit(*ex.train, ex.validation ? &*ex.validation : nullptr, state,
                           [&](const TrainState& committed, const std::string& path) {
                             if (writer) store.save(path, snapshot(ex, hash, callbacks, committed));
                           });
  out.failure = state.failure;
  if (out.result == FitResult::kInterrupted) {
    out.signal = options.stop_request ? options.stop_request() : 0;
    out.checkpoint_path = options.save_path.empty() ? options.interrupt_path : options.save_path;
  } else if (!options.save_path.empty()) {
    out.checkpoint_path = options.save_path;
  }
  if (!out.checkpoint_path.empty() && writer) store.save(out.checkpoint_path, snapshot(ex, hash, callbacks, state));
  out.history = std::move(state.history);
  return out;
}

}  // namespace anneal
