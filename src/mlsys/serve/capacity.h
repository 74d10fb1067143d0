// Capacity and placement search: the highest request rate a deployment serves within its SLOs
// (Sarathi-Serve's and DistServe's definitions), found by bisection over deterministic
// simulations, and DistServe's placement search for the best goodput per GPU.
//
//   auto at = [&](double rps) { return load_workload("poisson:rate=" + std::to_string(rps), o); };
//   MLSYS_ASSIGN_OR_RETURN(CapacityResult c, find_capacity(at, config, {.slo = {.tbt_p99 = ms(100)}}));
//   c.capacity_rps;
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/serve/simulator.h"

namespace mlsys::serve {

enum class CapacityCriterion {
  /// Sarathi-Serve: P99 TBT ≤ slo.tbt_p99 and median scheduling delay ≤ slo's limit (2 s).
  kSarathi,
  /// DistServe: ≥ `attainment` of requests meet the TTFT SLO and ≥ `attainment` meet the TPOT SLO
  /// (checked separately, as simdistserve's binary search does).
  kDistServe,
};

struct CapacityOptions {
  CapacityCriterion criterion = CapacityCriterion::kSarathi;
  Slo slo;
  double attainment = 0.9;
  double start_rate = 1.0;   // req/s, first trial
  double max_rate = 1e5;
  double tolerance = 0.025;  // stop when (hi - lo) / hi <= this (Sarathi: 2.5%)
  int max_trials = 40;
};

struct CapacityTrial {
  double rate = 0;
  bool ok = false;
  double tbt_p99_s = 0, scheduling_delay_p50_s = 0, ttft_attainment = 0, tpot_attainment = 0;
};

struct CapacityResult {
  double capacity_rps = 0;  // highest rate that passed (0: none did)
  std::vector<CapacityTrial> trials;
};

/// A workload at `rate` requests per second (total, over the whole deployment).
using WorkloadAtRate = std::function<Result<Workload>(double rate)>;

/// Whether a finished run meets the criterion; fills the trial's figures.
bool meets_slo(const SimResult& run, const CapacityOptions& options, CapacityTrial& trial);

/// Bisection on the rate. Errors: a workload or simulation error, non-positive start rate.
Result<CapacityResult> find_capacity(const WorkloadAtRate& workload, const SimConfig& config,
                                     const CapacityOptions& options);

/// One DistServe instance kind at a parallel configuration: its time model and KV blocks.
struct InstanceModel {
  std::shared_ptr<const BatchTimeModel> time;
  int64_t blocks = 0;
};
/// Builds an instance for (tp, pp); kNotFound / kInvalidInput when the configuration is not
/// available (no profile, does not fit): the search skips it.
using InstanceFactory = std::function<Result<InstanceModel>(int64_t tp, int64_t pp)>;

struct PlacementOptions {
  int64_t gpus = 8;                     // GPUs one prefill + one decode instance may use (a node)
  std::vector<int64_t> tp = {1, 2, 4, 8};
  std::vector<int64_t> pp = {1, 2, 4};
  CapacityOptions capacity;             // criterion kDistServe normally
  DistServeConfig base;                 // link and KV bytes; times/blocks filled per candidate
  SchedulerOptions scheduler;
};

struct PlacementCandidate {
  int64_t prefill_tp = 1, prefill_pp = 1, decode_tp = 1, decode_pp = 1;
  int64_t gpus = 0;
  double pair_rps = 0;            // goodput of one prefill + one decode instance
  double goodput_per_gpu = 0;
};

struct PlacementResult {
  std::vector<PlacementCandidate> candidates;  // best first; ties by fewer GPUs, then lexicographic
  int64_t skipped = 0;                         // configurations the factory refused
};

/// DistServe's high-affinity search on one node: every (prefill tp, pp, decode tp, pp) with
/// tp_p·pp_p + tp_d·pp_d ≤ gpus is simulated as one prefill + one decode instance and its
/// goodput found by bisection. Errors: no configuration available.
Result<PlacementResult> search_placement(const WorkloadAtRate& workload, const InstanceFactory& factory,
                                         const PlacementOptions& options);

}  // namespace mlsys::serve
