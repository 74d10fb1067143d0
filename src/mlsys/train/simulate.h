// One training iteration of a parallel plan: an event simulation of the pipeline schedule on the
// sim/ engine, and a closed-form estimate from the same costs for planners.
//
//   MLSYS_ASSIGN_OR_RETURN(Cluster cluster, make_cluster(*hw::find_gpu("a100"), 1024));
//   MLSYS_ASSIGN_OR_RETURN(Prediction p, simulate_iteration(model, cluster, plan, {}));
//   double s = p.iteration_time.seconds();  // p.mfu, p.memory, p.breakdown ...
//
// Symmetry: every DP replica runs the same pipeline, so one representative pipeline of pp stages
// is simulated; DP collectives are timed for the whole DP group by CommModel. Each stage has a
// compute stream (forward, backward with recompute and the blocking TP/EP collectives inside),
// a forward-send and a backward-send stream (PP p2p) and a DP stream (gradient reduce-scatter,
// parameter all-gather). The schedule fixes each compute stream's order (GPipe; 1F1B;
// Megatron-LM's interleaved 1F1B with v chunks); a task starts when its stream is free and its
// inputs have arrived.
//
// The closed form (estimate_iteration) prices the pipeline as
//   sum_i t_i / v + (m - 1/v) max_i t_i      (Aceso's sum + (m-1) max for v = 1)
// with t_i = forward + backward (+ recompute) of one micro-batch on stage i, plus the p2p
// messages along the fill/drain path (2 (p-1) messages when overlapped, 2 per micro-batch
// otherwise), plus the exposed DP tail and the optimizer. For uniform stages the two agree
// within 1% (simulate_test).
#pragma once

#include <memory>

#include "mlsys/core/chrome_trace.h"
#include "mlsys/core/result.h"
#include "mlsys/model/compute.h"
#include "mlsys/model/model.h"
#include "mlsys/model/ops.h"
#include "mlsys/train/costs.h"
#include "mlsys/train/plan.h"

namespace mlsys::train {

struct SimOptions {
  /// FLOP counting for tflops_per_gpu / MFU / HFU. kSc21: tflops_per_gpu counts hardware FLOPs
  /// (SC'21 Eq. 3 under full recompute); kMegatron: model FLOPs as Megatron-LM logs them.
  model::FlopConvention convention = model::FlopConvention::kSc21;
  /// Cost source; nullptr: the roofline on the cluster's GPU with the shipped efficiency table.
  const model::ComputeModel* compute = nullptr;
  /// When set, receives the iteration: one process per stage, one thread per stream.
  ChromeTrace* trace = nullptr;
};

/// The roofline model for `cluster`'s GPU at `precision` with the shipped efficiency table.
Result<std::unique_ptr<model::ComputeModel>> default_compute_model(const Cluster& cluster, hw::Precision precision);

/// Event simulation of one iteration. Errors: the plan fails check_plan.
Result<Prediction> simulate_iteration(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan,
                                      const SimOptions& options = {});

/// Closed-form estimate of one iteration from the same costs (no event queue): for planners.
Result<Prediction> estimate_iteration(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan,
                                      const SimOptions& options = {});

/// The two, from costs already computed (the grid planner shares one CommModel and cost cache).
Prediction simulate_costs(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan,
                          const PlanCosts& costs, ChromeTrace* trace = nullptr);
Prediction estimate_costs(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan,
                          const PlanCosts& costs);

/// Events processed by the last simulate_costs call on this thread (for the bench).
uint64_t last_simulation_events();

}  // namespace mlsys::train
