// Aceso (Liu et al., EuroSys'24): iterative bottleneck alleviation over non-uniform pipeline
// configurations, with Aceso's own profile-based cost model.
//
// A configuration splits the model's operator list into contiguous stages; each stage has its
// own GPU count (tp x dp), per-operator recompute flags, and all stages share one micro-batch.
// The cost model prices a configuration from a per-operator table (measured Aceso profiles, or
// one synthesised from the roofline model at layer granularity for big models); the search starts
// from a balanced configuration per stage count and repeatedly relieves the bottleneck stage with
// Aceso's primitives (dec_op, inc/dec_tp, inc/dec_dp, inc/dec_mbs), multi-hop up to 7 actions.
//
//   MLSYS_ASSIGN_OR_RETURN(auto db, model::ProfileDb::load_aceso_dir(dir));
//   MLSYS_ASSIGN_OR_RETURN(AcesoProblem problem, aceso_problem_from_profiles(db, 24, 512));
//   MLSYS_ASSIGN_OR_RETURN(AcesoResult r, aceso_search(problem, {.gpus = 4, .memory_limit = MiB(12000)}));
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/model/compute.h"
#include "mlsys/model/model.h"
#include "mlsys/train/adapipe.h"
#include "mlsys/train/plan.h"

namespace mlsys::train {

/// Cost of one operator on one GPU for one (per-replica micro-batch, tp) point. Sizes in MiB (the
/// profile's "MB"), as Aceso keeps them; times as Time.
struct AcesoOpCost {
  Time forward, backward;
  double input_mb = 0, output_mb = 0;  // tensor entering / leaving the op (p2p at stage edges)
  double weights_mb = 0;               // fp16 weights on this GPU
  double activations_mb = 0;           // saved for backward (Aceso's shared-space rule applied)
  double fwd_reserved_mb = 0, bwd_reserved_mb = 0;  // workspace
  /// Layer-granular tables only: activation kept when the op is recomputed (its checkpoint).
  double recompute_keeps_mb = 0;
};

/// The operator sequence and its cost table: what the cost model and search need.
struct AcesoProblem {
  std::string name;                   // "gpt_1_3B" or the model name
  std::vector<std::string> op_names;  // full list: embedding, L x layer ops, head ops
  std::vector<int> op_row;            // op -> row of the per-point tables
  std::vector<bool> starts_layer;     // op begins a transformer layer (recompute segments break)
  /// Aceso's op-level rule: op i's activation is freed when ops i and i+1 are both recomputed.
  /// false (layer granularity): a recomputed op keeps only recompute_keeps_mb.
  bool pairwise_recompute = true;
  std::map<std::pair<int64_t, int64_t>, std::vector<AcesoOpCost>> table;  // (mbs, tp) -> rows
  std::vector<int64_t> micro_batches;  // profiled per-replica micro-batches, ascending
  std::vector<int64_t> tensor_parallel;
  /// p2p send time between adjacent stages: the profile's curve when there is one, else
  /// size / p2p_bandwidth.
  std::optional<model::ProfileDb> profile;
  Bandwidth p2p_bandwidth;
  /// Optional per-replica gradient all-reduce time per stage (not in Aceso's model; 0 there).
  Bandwidth dp_bandwidth;             // zero: DP synchronisation not priced
  int64_t global_batch = 1;
  double main_params_factor = 2;      // Aceso: (main_params, optimizer) = (2, 4) for fp16 GPT
  double optimizer_factor = 4;
  int64_t layers = 0;

  int64_t num_ops() const { return static_cast<int64_t>(op_names.size()); }
  const std::vector<AcesoOpCost>* rows(int64_t mbs, int64_t tp) const;
  Time p2p(double mb) const;
};

/// GPT problem from a directory of Aceso profiles: the op list is embedding, `layers` copies of
/// the profile's layer ops (from enc-1st-layernorm through enc-post-MLP-dropout), final
/// layernorm and post-process. Only algo 0 is used (Aceso's default search never changes algo).
Result<AcesoProblem> aceso_problem_from_profiles(const model::ProfileDb& db, int64_t layers,
                                                 int64_t global_batch);

/// Layer-granular problem from the roofline model: ops are embedding, one op per layer, head.
/// Layer time includes the TP all-reduces (4 per layer per micro-batch, ring over intra-node
/// links); activations are Korthikanti's saved bytes (a recomputed layer keeps its 2sbh/t input).
/// Gradient all-reduce over dp is priced once per iteration (an addition to Aceso's model).
Result<AcesoProblem> aceso_problem_from_model(const model::ModelSpec& spec,
                                              const model::ComputeModel& compute,
                                              const Cluster& cluster, int64_t seq,
                                              int64_t global_batch,
                                              std::vector<int64_t> micro_batches,
                                              std::vector<int64_t> tensor_parallel);

struct AcesoStage {
  int64_t first_op = 0, end_op = 0;  // operators [first_op, end_op)
  int64_t tp = 1, dp = 1;
  std::vector<uint8_t> recompute;    // per operator of the stage
  int64_t gpus() const { return tp * dp; }
  int64_t num_ops() const { return end_op - first_op; }
  bool operator==(const AcesoStage&) const = default;
};

struct AcesoConfig {
  int64_t micro_batch = 1;  // aggregate micro-batch; each replica of a stage runs micro_batch/dp
  std::vector<AcesoStage> stages;
  bool operator==(const AcesoConfig&) const = default;
  int64_t gpus() const;
};

/// What Aceso's cost model predicts for a configuration.
struct AcesoEstimate {
  bool valid = true;               // every (mbs/dp, tp) point is in the table
  Time iteration;                  // max_i [t_i (m-1) + sum_j t_j] (+ DP sync when priced)
  std::vector<Time> stage_time;    // t_i: fwd + bwd + recompute + p2p in/out, one micro-batch
  std::vector<double> memory_mb;   // per stage
  std::vector<Time> ideal, efficiency_loss, recompute;  // bottleneck breakdown (per GPU)
  double memory_overflow_mb = 0;   // sum over stages of memory above the limit
  int bottleneck = 0;              // the stage with the largest time
  int64_t micro_batches = 0;       // m = global_batch / micro_batch
};

/// Aceso's predict_time_breakdown and predict_stage_memory for `config`.
AcesoEstimate aceso_estimate(const AcesoProblem& problem, const AcesoConfig& config,
                             Bytes memory_limit);

struct AcesoOptions {
  int64_t gpus = 0;
  Bytes memory_limit = MiB(28000);
  int64_t max_tp = 8;                // GPUs per node (tp never crosses a node)
  int64_t max_stages = 16;           // stage counts 1..min(gpus, max_stages, layers) are searched
  int max_hops = 7;                  // multi-hop depth
  int hop_width = 2;                 // configurations expanded per hop level
  int64_t budget = 4000;             // cost-model evaluations per stage count (deterministic)
  std::vector<int64_t> micro_batches;  // aggregate micro-batch sizes; empty: the table's
  /// Extra starting points (e.g. the best uniform plan); searched beside the balanced ones.
  std::vector<AcesoConfig> seeds;
  /// Keep one tp x dp on every stage: the per-stage tp/dp primitives are skipped and balanced
  /// starts with unequal stages dropped, so the result is a train::Plan Megatron-LM can launch
  /// (Aceso itself lets stages differ).
  bool uniform_parallelism = false;
  /// Skip the balanced starts (search from `seeds` only).
  bool seeds_only = false;
};

struct AcesoResult {
  AcesoConfig config;
  AcesoEstimate estimate;
  int64_t evaluations = 0;  // cost-model calls in total
  int64_t improvements = 0; // accepted moves
  std::vector<std::pair<int64_t, Time>> best_per_stage_count;  // (stages, iteration) that fit
};

/// Aceso's search. kInvalidInput when no configuration fits the memory limit.
Result<AcesoResult> aceso_search(const AcesoProblem& problem, const AcesoOptions& options);

/// The best uniform Megatron-LM plan under the same cost model: layers split evenly over p
/// stages, one (tp, dp) everywhere, no recompute or full recompute of every layer.
Result<AcesoResult> aceso_megatron_baseline(const AcesoProblem& problem,
                                            const AcesoOptions& options);

/// A uniform configuration (Megatron-style) on the problem's op list; nullopt-like error when
/// the layers do not split or the micro-batch is not profiled.
Result<AcesoConfig> aceso_uniform_config(const AcesoProblem& problem, int64_t pp, int64_t tp,
                                         int64_t dp, int64_t micro_batch, bool full_recompute);

/// The layer-granular configuration as a train::Plan (layers_per_stage from the op ranges;
/// stage tp/dp must be uniform for a Plan, else kUnsupported).
Result<Plan> aceso_to_plan(const AcesoProblem& problem, const AcesoConfig& config, int64_t seq);

/// Aceso for `mlsys train plan`: the search (uniform tp x dp so results are Plans) from the
/// balanced starts and from each of the best grid plans, on `problem` (measured profiles) or,
/// when null, aceso_problem_from_model at layer granularity. Each result becomes a Plan
/// (per-stage recompute: full where Aceso recomputes any op of the stage, then lowered by
/// lower_recompute) priced by simulate_iteration. Errors: grid is empty; the profiles' problem has
/// another layer count than `model`.
Result<PlannerSearch> aceso_plan_search(const model::ModelSpec& model, const Cluster& cluster,
                                        const GridResult& grid, const PlannerSearchOptions& options,
                                        const AcesoProblem* problem = nullptr);

/// One line per stage: ops, tp x dp, recompute count, time, memory.
std::string describe(const AcesoProblem& problem, const AcesoConfig& config,
                     const AcesoEstimate& estimate);

}  // namespace mlsys::train
