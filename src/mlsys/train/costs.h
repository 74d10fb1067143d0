// What one micro-batch costs on each pipeline stage of a plan: compute from model/'s op lists
// timed by a ComputeModel, TP/EP communication inside the layers, the PP message and the DP
// gradient/parameter collectives from CommModel. The event simulator and the closed-form
// estimate (simulate.h) both read these numbers, so they differ only in how they schedule them.
//
//   CommModel comm(cluster);
//   MLSYS_ASSIGN_OR_RETURN(PlanCosts c, plan_costs(model, cluster, plan, roofline, comm));
//   Time t0 = c.stages[0].forward() + c.stages[0].backward();   // one micro-batch on stage 0
#pragma once

#include <cstdint>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/model/compute.h"
#include "mlsys/model/model.h"
#include "mlsys/train/comm.h"
#include "mlsys/train/plan.h"

namespace mlsys::train {

/// One transformer layer, one micro-batch, one GPU. Times include the layer's blocking
/// communication (exposed TP collectives, EP all-to-alls).
struct LayerCost {
  Time forward;          // compute + exposed comm
  Time backward;         // compute + exposed comm, without recompute
  Time recompute;        // extra forward work before backward (selective: attention core; full: all)
  Time forward_compute;  // compute only (for the breakdown)
  Time backward_compute;
  Time tp_forward, tp_backward, tp_recompute;  // exposed TP comm
  Time ep_forward, ep_backward;                // exposed EP all-to-all
};

/// Per-layer costs for one (micro-batch, tp, recompute) choice: what AdaPipe/Aceso-style
/// planners combine per stage. `recompute` only changes LayerCost::recompute.
Result<LayerCost> layer_cost(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan,
                             Recompute recompute, const model::ComputeModel& compute, const CommModel& comm);

/// One model chunk (a stage's layers / v) for one micro-batch.
struct ChunkCost {
  int64_t layers = 0;
  Time forward;    // all layers' forward (+ embedding on the first chunk, head on the last)
  Time backward;   // backward including recompute
  Time recompute;  // the recompute part of `backward`
  Time tp_exposed_forward, tp_exposed_backward;  // TP comm inside forward / backward
  Time ep_exposed;                               // EP all-to-all inside forward + backward
};

struct StageCost {
  std::vector<ChunkCost> chunks;  // v entries (1 unless interleaved)
  Time p2p_next;                  // one activation (or gradient) message to stage + 1 (and back)
  Time dp_reduce;                 // gradient reduce-scatter (ZeRO >= 1) or all-reduce (ZeRO-0)
  Time dp_gather;                 // parameter all-gather after the optimizer (ZeRO >= 1)
  Time zero3_gather;              // ZeRO-3: per-chunk parameter gather before forward / backward
  Time optimizer;                 // optimizer step over this GPU's parameter shard
  int64_t layers = 0;
  Time forward() const;           // one micro-batch, all chunks
  Time backward() const;
};

struct PlanCosts {
  std::vector<StageCost> stages;  // pp entries
  double model_flops = 0;         // per iteration, whole job, convention of the options
  double hardware_flops = 0;      // model_flops + recompute
  /// What tflops_per_gpu counts: hardware FLOPs under kSc21 (SC'21's Eq. 3 counts the recompute
  /// forward), model FLOPs under kMegatron (as Megatron-LM logs them).
  double reported_flops = 0;
};

/// Costs of every stage of `plan`. `plan` must pass check_plan.
Result<PlanCosts> plan_costs(const model::ModelSpec& model, const Cluster& cluster, const Plan& plan,
                             const model::ComputeModel& compute, const CommModel& comm,
                             model::FlopConvention convention = model::FlopConvention::kSc21);

/// The tier a PP message between stage `stage` and `stage + 1` crosses (ranks ordered tp, dp, pp
/// as Megatron-LM places them).
Tier pp_tier(const Cluster& cluster, const Plan& plan, int64_t stage);

}  // namespace mlsys::train
