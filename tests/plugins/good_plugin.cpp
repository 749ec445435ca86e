// A test plugin that registers one of each common kind.
#include <anneal/plugin.hpp>

namespace {

class HalfSchedule : public anneal::Schedule {
 public:
  HalfSchedule(anneal::AttrMap& a, const anneal::ScheduleContext& ctx)
      : Schedule(a, anneal::ScheduleUnit::kEpoch), lr_(anneal::rate_attr(a, "lr", ctx.optimizer_lr)) {}
  double lr(const anneal::Progress& p) const override { return counter(p) < 2 ? lr_ : lr_ / 2; }

 private:
  double lr_;
};

// y = factor * x
class ScaleOp : public anneal::Op {
 public:
  explicit ScaleOp(anneal::AttrMap& a) : factor_(static_cast<float>(a.get<double>("factor"))) {}
  anneal::Shape infer_shape(const std::vector<anneal::Shape>& in) const override { return in[0]; }
  void forward(const anneal::OpContext& c) const override {
    for (int64_t i = 0; i < c.batch * c.output.sample_size(); ++i) c.output.data[i] = factor_ * c.inputs[0].data[i];
  }
  void backward(const anneal::OpContext& c) const override {
    if (c.input_grads[0].empty()) return;
    for (int64_t i = 0; i < c.batch * c.output.sample_size(); ++i) c.input_grads[0].data[i] += factor_ * c.output_grad.data[i];
  }

 private:
  float factor_;
};

class CountingCallback : public anneal::Callback {
 public:
  CountingCallback(anneal::AttrMap&, const anneal::ScheduleContext&) {}
};

}  // namespace

ANNEAL_PLUGIN(registrar) {
  registrar.schedule<HalfSchedule>("test_half");
  registrar.op<ScaleOp>("test_scale");
  registrar.callback<CountingCallback>("test_counting");
}
