// expression: a formula of t, epoch, step, steps_per_epoch, epochs and total_steps, parsed by
// muparser (operators + - * / ^, and floor, ceil, exp, log (natural), sqrt, pow, min, max, abs,
// sin, cos). t is the schedule's counter: the epoch with unit epoch (the default), the step with
// unit step. An unknown name fails when the spec is read, not mid-run.
#include <muParser.h>

#include <cmath>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

double floor_fn(double x) { return std::floor(x); }
double ceil_fn(double x) { return std::ceil(x); }
double pow_fn(double x, double y) { return std::pow(x, y); }

class ExpressionSchedule : public Schedule {
 public:
  ExpressionSchedule(AttrMap& a, const ScheduleContext&)
      : Schedule(a, ScheduleUnit::kEpoch), formula_(a.get<std::string>("formula")) {
    try {
      parser_.DefineVar("t", &t_);
      parser_.DefineVar("epoch", &epoch_);
      parser_.DefineVar("step", &step_);
      parser_.DefineVar("steps_per_epoch", &steps_per_epoch_);
      parser_.DefineVar("epochs", &epochs_);
      parser_.DefineVar("total_steps", &total_steps_);
      parser_.DefineFun("floor", floor_fn);
      parser_.DefineFun("ceil", ceil_fn);
      parser_.DefineFun("pow", pow_fn);
      parser_.SetExpr(formula_);
      parser_.Eval();  // parses now, so an unknown name is a spec error
    } catch (const mu::Parser::exception_type& e) {
      std::string message = "cannot read formula '" + formula_ + "': " + e.GetMsg();
      if (!e.GetToken().empty() && e.GetCode() == mu::ecUNASSIGNABLE_TOKEN)
        message = "unknown name '" + e.GetToken() + "' at character " + std::to_string(e.GetPos() + 1) +
                  " of formula '" + formula_ + "' (variables: t, epoch, step, steps_per_epoch, epochs, total_steps)";
      a.fail_value("formula", message);
    }
  }

  double lr(const Progress& p) const override {
    t_ = static_cast<double>(counter(p));
    epoch_ = static_cast<double>(p.epoch);
    step_ = static_cast<double>(p.step);
    steps_per_epoch_ = static_cast<double>(p.steps_per_epoch);
    epochs_ = static_cast<double>(p.epochs);
    total_steps_ = static_cast<double>(p.total_steps());
    return parser_.Eval();
  }

 private:
  std::string formula_;
  // muparser reads variables through pointers and evaluation is not const; the schedule stays a
  // pure function of its argument because every variable is set before each evaluation.
  mutable mu::Parser parser_;
  mutable double t_ = 0, epoch_ = 0, step_ = 0, steps_per_epoch_ = 1, epochs_ = 1, total_steps_ = 1;
};

ANNEAL_REGISTER(ScheduleRegistry, "expression", ExpressionSchedule);

}  // namespace
}  // namespace anneal
