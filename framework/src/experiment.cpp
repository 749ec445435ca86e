#include "anneal/experiment.hpp"

#include "anneal/callbacks.hpp"
#include "anneal/metric.hpp"

namespace anneal {

ScheduleContext schedule_context(const Experiment& ex, const ModelSpec& spec) {
  ScheduleContext ctx;
  ctx.optimizer_lr = ex.optimizer->lr();
  ctx.optimizer_has_momentum = ex.optimizer->momentum().has_value();
  ctx.epochs = spec.train.epochs;
  if (ex.train) {
    ctx.steps_per_epoch = (ex.train->rows() + spec.train.batch_size - 1) / spec.train.batch_size;
    ctx.log_keys.push_back("loss");
    for (const auto& m : ex.metrics) ctx.log_keys.push_back(m.name);
    if (ex.validation) {
      ctx.log_keys.push_back("val_loss");
      for (const auto& m : ex.metrics) ctx.log_keys.push_back("val_" + m.name);
    }
  }
  return ctx;
}

Experiment build_experiment(ModelSpec spec, bool load_data) {
  Experiment ex;
  if (load_data && spec.data) {
    Dataset all = read_csv(*spec.data);
    const int64_t features = all.features.sample_shape().numel();
    if (features != spec.input.numel())
      throw SpecError(spec.input_location, "input " + spec.input.str() + " has " + std::to_string(spec.input.numel()) +
                                               " values per sample, but " + spec.data->path + " has " +
                                               std::to_string(features) + " feature columns");
    all.features.reshape(spec.input);
    if (spec.train.validation_split > 0) {
      auto split = split_validation(all, spec.train.validation_split);
      ex.train = std::move(split.train);
      ex.validation = std::move(split.validation);
    } else {
      ex.train = std::move(all);
    }
  }

  ex.graph = compile(spec, spec.train.batch_size, spec.train.seed);

  ex.loss = create_from<LossRegistry>(spec.loss, "loss");
  const int64_t target_width = ex.train ? ex.train->targets.sample_shape().numel() : -1;
  if (target_width >= 0) {
    const std::string problem = ex.loss->check(ex.graph.output_shape(), target_width);
    if (!problem.empty())
      throw SpecError(spec.loss.location(), "loss '" + spec.loss.get<std::string>("type") + "' " + problem +
                                                " (output " + ex.graph.output_shape().str() + ")");
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
  if (spec.schedule) ex.schedule = make_schedule(*spec.schedule, schedule_context(ex, spec));
  ex.spec = std::move(spec);
  return ex;
}

History run_experiment(Experiment& ex, const RunOptions& options) {
  if (!ex.train) throw SpecError(SourceLocation{ex.spec.file, 0, 0}, "the model spec has no 'data' to train on");
  TrainOptions train_options{ex.spec.train.epochs, ex.spec.train.batch_size, ex.spec.train.shuffle, ex.spec.train.seed};
  Trainer trainer(ex.graph, *ex.loss, ex.metrics, *ex.optimizer, train_options);
  std::unique_ptr<LrScheduler> scheduler;
  if (ex.schedule) {
    scheduler = std::make_unique<LrScheduler>(std::move(ex.schedule));
    trainer.add_callback(scheduler.get());
  }
  ProgressLogger progress;
  if (options.verbose) trainer.add_callback(&progress);
  return trainer.fit(*ex.train, ex.validation ? &*ex.validation : nullptr);
}

}  // namespace anneal
