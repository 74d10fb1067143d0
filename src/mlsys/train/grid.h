// The grid planner: every valid uniform plan (Megatron-style search over TP, PP, DP, micro-batch,
// schedule with interleaving, recomputation and ZeRO stage), ranked by predicted iteration time
// among the plans that fit in memory; and the Megatron-LM command-line flags of a plan.
//
//   GridOptions o{.global_batch = 1536, .seq = 2048, .top = 5};
//   MLSYS_ASSIGN_OR_RETURN(GridResult r, grid_search(model, cluster, o));
//   std::string flags = megatron_flags(model, r.best.front().plan);
//
// Every candidate is priced by the closed form (estimate_costs); the best `refine` of them are
// re-run through the event simulator and the final ranking uses the simulated times.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/model/model.h"
#include "mlsys/train/plan.h"
#include "mlsys/train/simulate.h"

namespace mlsys::train {

struct GridOptions {
  int64_t global_batch = 0;        // B (sequences), required
  int64_t seq = 2048;
  int top = 10;                    // plans returned
  int refine = 32;                 // best closed-form plans re-timed by the event simulator
  int64_t max_micro_batch = 64;    // largest micro-batch tried
  std::vector<int> zero_stages = {0, 1, 2, 3};
  bool megascale = false;          // apply_megascale() to every candidate
  hw::Precision precision = hw::Precision::kBf16;
  model::FlopConvention convention = model::FlopConvention::kMegatron;
  const model::ComputeModel* compute = nullptr;  // nullptr: the shipped roofline
};

struct RankedPlan {
  Plan plan;
  Prediction prediction;  // simulated for the refined plans
};

struct GridResult {
  std::vector<RankedPlan> best;  // fastest first, all fit
  int64_t candidates = 0;        // valid plans enumerated
  int64_t fitting = 0;           // of which fit in memory
  int64_t simulated = 0;         // re-timed by the event simulator
};

/// Searches every valid uniform plan. Errors: global_batch < 1, seq < 1, or no valid plan at all
/// (the message says which constraint removed the last candidates).
Result<GridResult> grid_search(const model::ModelSpec& model, const Cluster& cluster, const GridOptions& options);

/// Megatron-LM flags that launch `plan` ("--tensor-model-parallel-size 8 --pipeline-model-...").
std::string megatron_flags(const model::ModelSpec& model, const Plan& plan);

}  // namespace mlsys::train
