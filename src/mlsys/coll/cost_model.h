// Timing a collective schedule, part 1: the step patterns every timing model shares, and the
// closed-form alpha-beta-gamma cost model with link congestion.
//
//   auto algo = make_algorithm("ring", {.collective = Collective::kAllreduce, .ranks = 8});
//   auto topo = hw::parse_topology_spec("ring:8,bw=400Gbps,lat=1us");
//   Result<CollectiveTiming> t = analytic_time(**algo, MiB(1), 4, *topo, {});  // t->time
//
// The analytic model. Ranks run step-synchronously: global step s begins when every rank has
// finished step s-1, and the collective's time is the sum of its step times. In one step every
// send is a message from its rank's endpoint to its peer's along the net::Router route
// (dimension-order on tori, deterministic ECMP elsewhere). For a step:
//   load(l)   = bytes that cross directed link l, summed over all the step's messages
//   alpha(m)  = latency of m's route (per-hop latency x hops on uniform links) + software overhead
//   beta(m)   = max over links l on m's route of load(l) / bandwidth(l)   (0 for an empty message)
//   gamma     = max over ranks of (bytes the rank reduces into its own blocks) / reduce bandwidth
//   step time = max over messages m of (alpha(m) + beta(m)) + gamma
// Without sharing beta(m) is bytes(m) / bandwidth: ring allreduce on a P-node ring of link
// bandwidth B and latency L is 2(P-1)L + 2(P-1)/P n/B exactly. A link crossed by k equal messages
// makes each take k times as long (the congestion factor).
//
// Block sizes. The fast models (this one and the step-synchronous flow model) charge every block
// vector_bytes / block_count bytes, a real number, as closed-form models do; block_bytes() deals
// whole elements instead, so the two differ by less than one element per block when the elements
// do not divide evenly (and not at all when they do). The event-driven flow model uses
// block_bytes().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/coll/schedule.h"
#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/hw/topology.h"

namespace mlsys::coll {

/// Parameters of the timing models beyond the topology's links.
/// Error unless an algorithm built for `ranks` ranks fits the topology's endpoints one to one.
Status check_ranks_match(std::string_view algorithm, int ranks, const hw::Topology& topology);

struct CostParams {
  /// Per-message software cost added to the route latency (alpha = route latency + this).
  Time software_overhead = Time::zero();
  /// Bytes per second a rank reduces received data into its own (gamma = 1 / this per byte);
  /// zero means reduction is free (gamma = 0).
  Bandwidth reduce_bandwidth = Bps(0);
};

/// The time of one collective and what it is made of.
struct CollectiveTiming {
  std::string model;  // "analytic", "flow-event", "flow-sync"
  Time time;          // completion of the last rank, rounded to the nanosecond
  double seconds = 0; // the same, unrounded where the model computes in real numbers
  /// Analytic model only (zero otherwise): time's parts from each step's critical message:
  /// latency (alpha), bandwidth with congestion (beta) and reduction (gamma).
  Time latency_term;
  Time bandwidth_term;
  Time reduce_term;
  int steps = 0;           // global steps (the longest rank schedule)
  int distinct_steps = 0;  // step patterns timed separately (fast models); steps otherwise
  int64_t messages = 0;    // sends over all ranks and steps
};

/// One message of a step pattern: `blocks` blocks from rank `src` to rank `dst`.
struct PatternSend {
  int32_t src = 0;
  int32_t dst = 0;
  int32_t blocks = 0;
  bool operator==(const PatternSend&) const = default;
};

/// Blocks rank `rank` reduces into its own in one step.
struct PatternReduce {
  int32_t rank = 0;
  int32_t blocks = 0;
  bool operator==(const PatternReduce&) const = default;
};

/// What every rank sends and reduces in one global step, blocks counted but not named: the
/// timing of a step depends only on this.
struct StepPattern {
  std::vector<PatternSend> sends;      // by sending rank, then in schedule order
  std::vector<PatternReduce> reduces;  // ranks with kReduce receives, ascending
  int32_t max_reduce_blocks = 0;
  bool operator==(const StepPattern&) const = default;
};

/// `count` consecutive global steps from `first_step` that all have pattern `pattern`.
struct StepRun {
  int32_t pattern = 0;
  int32_t first_step = 0;
  int32_t count = 0;
};

/// A collective's schedule over all ranks, folded into global steps with repeated steps merged:
/// ring allreduce on P ranks (2(P-1) steps) becomes two patterns (reduce-scatter, allgather).
/// Independent of vector size and topology, so one compile serves a whole size sweep.
class StepPatterns {
 public:
  /// Calls algorithm.schedule_for(r) once per rank; holds one rank's schedule at a time.
  /// Errors (kInternal): a transfer whose peer is out of range or the rank itself, or a block
  /// index out of range. Errors (kUnsupported): a schedule that is not step-aligned -- a
  /// message sent in global step s that its receiver does not receive in step s -- which only
  /// the event-driven flow model can time.
  static Result<StepPatterns> compile(const Algorithm& algorithm);

  const std::string& algorithm() const { return algorithm_; }
  int ranks() const { return ranks_; }
  int64_t block_count() const { return block_count_; }
  int steps() const { return steps_; }
  int64_t messages() const { return messages_; }
  const std::vector<StepPattern>& patterns() const { return patterns_; }
  /// Runs in step order; their counts add up to steps().
  const std::vector<StepRun>& runs() const { return runs_; }
  /// Steps that have pattern `p` (the sum of its runs' counts).
  int64_t multiplicity(int p) const { return multiplicity_[static_cast<size_t>(p)]; }

 private:
  std::string algorithm_;
  int ranks_ = 0;
  int64_t block_count_ = 0;
  int steps_ = 0;
  int64_t messages_ = 0;
  std::vector<StepPattern> patterns_;
  std::vector<StepRun> runs_;
  std::vector<int64_t> multiplicity_;
};

/// The analytic model of one compiled schedule on one topology: each step pattern reduced once
/// to its messages' (alpha, beta per byte of block) pairs, so time() costs a few operations per
/// pattern whatever the vector size.
class AnalyticModel {
 public:
  /// Errors: the topology's endpoint count differs from the schedule's ranks, or a route the
  /// router cannot build (an unreachable peer).
  static Result<AnalyticModel> build(const StepPatterns& patterns, const hw::Topology& topology,
                                     const CostParams& params = {});

  /// Time of the collective on a vector of `vector_bytes` (>= 0) bytes.
  CollectiveTiming time(Bytes vector_bytes) const;

 private:
  // alpha + beta_per_block_byte * (bytes per block): one message class of a pattern.
  struct Line {
    double alpha_s = 0;
    double beta_s_per_byte = 0;
  };
  struct PatternCost {
    std::vector<Line> lines;  // Pareto front: no line has both a larger alpha and a larger beta
    double gamma_s_per_byte = 0;
    int64_t multiplicity = 0;
  };
  std::vector<PatternCost> costs_;
  int64_t block_count_ = 1;
  int steps_ = 0;
  int64_t messages_ = 0;
};

/// Checks the arguments every timing entry point shares: element_size >= 1, vector_bytes >= 0
/// and a multiple of element_size, and ranks == the topology's endpoint count.
Status check_timing_inputs(const Algorithm& algorithm, Bytes vector_bytes, int64_t element_size,
                           const hw::Topology& topology);

/// One-shot analytic time: compiles the schedule, builds the model, times one size.
/// `element_size` (bytes per element, >= 1) only validates vector_bytes (see "Block sizes").
Result<CollectiveTiming> analytic_time(const Algorithm& algorithm, Bytes vector_bytes, int64_t element_size,
                                       const hw::Topology& topology, const CostParams& params = {});

}  // namespace mlsys::coll
