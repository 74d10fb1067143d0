// AdaPipe (Sun et al., ASPLOS'24): per-stage recomputation and pipeline partitioning searched
// jointly by a two-level dynamic program (our reconstruction, shared/research/training.md §3).
//
// Level 1: for a stage holding layers [i, j) at pipeline position k, pick one recompute option
// per layer (a multiple-choice knapsack) minimising the stage time under the memory cap, with
// min(p - k, m) micro-batches in flight under 1F1B. Level 2: choose the stage boundaries by
// enumerating the bottleneck T_max and minimising sum_k t_k + (m - 1) T_max.
//
//   AdaPipeInput in = ...;                     // per layer: fwd/bwd, per option recompute+saved
//   MLSYS_ASSIGN_OR_RETURN(AdaPipeSolution s, adapipe_solve(in));
//   s.layers_per_stage;  s.option_per_layer;  s.objective;
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/model/compute.h"
#include "mlsys/model/model.h"
#include "mlsys/train/comm.h"
#include "mlsys/train/grid.h"
#include "mlsys/train/plan.h"

namespace mlsys::train {

/// One way to run one layer: extra forward work before backward and the bytes kept per
/// micro-batch in flight.
struct AdaPipeOption {
  Time recompute;
  Bytes saved;
};

struct AdaPipeLayer {
  Time forward, backward;              // one micro-batch, without recompute
  Bytes static_bytes;                  // weights, gradients, optimizer state on one GPU
  std::vector<AdaPipeOption> options;  // e.g. none, selective, full
};

/// The cost input the two levels work on; independent of where the numbers come from.
struct AdaPipeInput {
  std::vector<AdaPipeLayer> layers;
  std::vector<std::string> option_names;  // one per option index (for printing)
  int64_t stages = 1;                     // p
  int64_t micro_batches = 1;              // m
  Bytes memory_cap;                       // per GPU
  // First stage: embedding; last stage: LM head and loss.
  Time first_forward, first_backward, last_forward, last_backward;
  Bytes first_static, last_static;        // their model states
  Bytes first_saved, last_saved;          // their activations per micro-batch in flight
  Bytes reserved;                         // workspace every stage keeps
  Time stage_overhead;                    // per stage per micro-batch (p2p send/recv)
};

struct AdaPipeSolution {
  std::vector<int64_t> layers_per_stage;
  std::vector<int> option_per_layer;  // index into AdaPipeInput::option_names
  std::vector<Time> stage_time;       // t_k per micro-batch (fwd + bwd + recompute + overhead)
  std::vector<Bytes> stage_memory;
  Time objective;                     // sum_k t_k + (m - 1) max_k t_k
};

/// Level 1 alone: the best options for layers [first, end) at stage position `stage`; kNotFound
/// when even the most frugal options overflow the cap. Fills stage_time/memory/options for
/// those layers only.
Result<AdaPipeSolution> adapipe_stage(const AdaPipeInput& in, int64_t stage, int64_t first,
                                      int64_t end);

/// Both levels. kInvalidInput for malformed input; kNotFound when no partition fits memory.
Result<AdaPipeSolution> adapipe_solve(const AdaPipeInput& in);

/// The 1F1B objective of a given partition and options (for baselines and tests); kNotFound if
/// a stage overflows the cap.
Result<AdaPipeSolution> adapipe_evaluate(const AdaPipeInput& in,
                                         const std::vector<int64_t>& layers_per_stage,
                                         const std::vector<int>& option_per_layer);

/// Cost input from the train cost model: per-layer times from layer_cost() for none, selective
/// and full recompute, saved bytes from layer_activation_bytes(), model states at 18 bytes per
/// parameter over tp (6 + 12/dp with the distributed optimizer), embedding and head from
/// model/'s op lists. `plan` gives tp, pp, dp, micro-batch, global batch and seq.
Result<AdaPipeInput> adapipe_input(const model::ModelSpec& model, const Cluster& cluster,
                                   const Plan& plan, const model::ComputeModel& compute,
                                   const CommModel& comm);

/// The solution as a Plan: layers_per_stage and recompute_per_stage (a stage's most expensive
/// option when it mixes options).
Plan adapipe_plan(const Plan& base, const AdaPipeInput& in, const AdaPipeSolution& solution);

/// Best uniform plan on the same input: L/p layers per stage, one option for every layer.
Result<AdaPipeSolution> adapipe_best_uniform(const AdaPipeInput& in);

// ---- Planner integration (mlsys train plan --planner adapipe|aceso) ----------------------------

struct PlannerSearchOptions {
  int bases = 8;          // best grid plans the planner starts from
  int top = 5;            // plans returned
  SimOptions sim;         // the train cost model every returned plan is priced by
};

/// A non-uniform planner's answer: every plan priced by simulate_iteration (the grid's cost
/// model), fastest first, all fitting; grid's plans compete in the same list, so best.front() is
/// never slower than grid's best.
struct PlannerSearch {
  std::vector<RankedPlan> best;
  std::vector<std::string> origin;  // per plan: "grid", "adapipe" or "aceso"
  RankedPlan grid_best;
  int64_t bases = 0;                // grid plans the planner started from
  int64_t planned = 0;              // planner plans that fit under the train model
};

/// Greedy per-stage refinement on the train model: each stage's recompute is lowered (full ->
/// selective -> none) while the plan still fits and gets faster. Planners coarsen per-layer choices
/// to one per stage (the most frugal), which this undoes where memory allows.
Result<RankedPlan> lower_recompute(const model::ModelSpec& model, const Cluster& cluster, Plan plan,
                                   const SimOptions& sim);

/// Merges planner candidates with grid's plans (same cost model), drops duplicates, keeps `top`.
PlannerSearch merge_with_grid(const GridResult& grid, std::vector<RankedPlan> candidates,
                              const std::string& planner, int top);

/// AdaPipe over the best grid plans: for each with pp > 1 (as 1F1B), adapipe_input + adapipe_solve,
/// the solution as a Plan, recompute lowered, priced by simulate_iteration. Errors: grid is empty.
Result<PlannerSearch> adapipe_search(const model::ModelSpec& model, const Cluster& cluster,
                                     const GridResult& grid, const PlannerSearchOptions& options);

}  // namespace mlsys::train
