// Timing a collective schedule, part 2: the schedule run on the flow-level network model
// (net::FlowNetwork on a sim::Engine), where messages share link bandwidth max-min fairly.
//
//   auto algo = make_algorithm("swing-bw", {.collective = Collective::kAllreduce, .ranks = 64, .torus = {8, 8}});
//   auto topo = hw::parse_topology_spec("torus:8x8");
//   Result<CollectiveTiming> t = flow_time(**algo, MiB(16), 4, *topo);   // t->time
//
// Two paths:
// - Event-driven (FlowMode::kEventDriven), the exact model. Each rank runs its own steps: when it
//   starts step s it starts one flow per send (after CostParams::software_overhead); a receive
//   completes when the matching send's flow completes (the k-th receive of rank d from rank s
//   matches the k-th send of s to d); the step ends when all its sends and receives have
//   completed, plus the time to reduce the received kReduce bytes (CostParams::reduce_bandwidth);
//   then step s+1 starts. Block sizes from block_bytes(). Cost: one flow per message.
// - Step-synchronous (FlowMode::kStepSynchronous), the fast path. A global barrier between
//   steps; each distinct step pattern (StepPatterns) is simulated with all its flows starting
//   together, and a step lasts until its last rank is done (flows, then reduction). Blocks
//   charged vector_bytes / block_count bytes, rounded to whole bytes per message. A pattern is
//   simulated once per vector size -- ring allreduce on 4096 ranks: 2 simulations per size
//   instead of 8190 -- or once for every size when all its messages have the same route
//   latency: after that latency the max-min fair dynamics are linear in the message sizes, so
//   finish times are scaled from one reference run (and rounded up to the nanosecond as
//   FlowNetwork rounds them; equal to a direct run when the step has one sharing phase, within
//   a few nanoseconds per step otherwise).
//   Equal to the event-driven path whenever every rank finishes every step at the same instant
//   (symmetric algorithms on symmetric topologies with evenly divisible blocks: tested); where
//   ranks finish a step at different times, the event-driven path lets the early ones run ahead.
// - FlowMode::kAuto picks event-driven when ranks x steps <= FlowOptions::event_driven_limit or
//   the schedule is not step-aligned, else step-synchronous.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/coll/cost_model.h"
#include "mlsys/coll/schedule.h"
#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/hw/topology.h"

namespace mlsys::net {
class Router;
struct Route;
}  // namespace mlsys::net

namespace mlsys::coll {

enum class FlowMode {
  kAuto,             // event-driven for small schedules, step-synchronous for large ones
  kEventDriven,      // per-rank dependencies, one flow per message
  kStepSynchronous,  // global barrier per step, each distinct step pattern simulated once
};

struct FlowOptions {
  FlowMode mode = FlowMode::kAuto;
  /// kAuto: the event-driven path when ranks x steps is at most this.
  int64_t event_driven_limit = 1 << 14;
  CostParams cost;
};

/// The flow-level timing of one algorithm on one topology, prepared once for a sweep of sizes.
/// Holds the topology by reference (it must outlive the model), not the algorithm.
class FlowModel {
 public:
  /// Compiles the schedule for the chosen path: every rank's schedule kept (event-driven) or
  /// folded into StepPatterns (step-synchronous). Errors: ranks != the topology's endpoint
  /// count, an unroutable peer, a malformed schedule (kInternal), a step-synchronous request
  /// for a schedule that is not step-aligned (kUnsupported).
  static Result<FlowModel> build(const Algorithm& algorithm, const hw::Topology& topology,
                                 const FlowOptions& options = {});

  FlowModel(FlowModel&&) noexcept;
  FlowModel& operator=(FlowModel&&) noexcept;
  ~FlowModel();

  /// The path build() chose (never kAuto).
  FlowMode mode() const { return mode_; }

  /// Time of the collective on `vector_bytes` (a multiple of element_size >= 1).
  /// Errors: bad sizes; (kInternal) an event-driven run that deadlocks, naming a stuck rank.
  Result<CollectiveTiming> time(Bytes vector_bytes, int64_t element_size);

 private:
  FlowModel() = default;
  Result<CollectiveTiming> time_event_driven(Bytes vector_bytes, int64_t element_size);
  Result<CollectiveTiming> time_step_synchronous(Bytes vector_bytes);
  // Runs pattern p's flows with `x` bytes per block; `ranks` gets the ranks that take part and
  // `done` when each finished its sends and receives.
  Status simulate_pattern(size_t p, double x, std::vector<int32_t>& ranks, std::vector<Time>& done);

  // Step-synchronous patterns whose messages all have the same route latency are simulated
  // once, at kReferenceBlockBytes per block, and scaled: after the common latency the max-min
  // fair dynamics are linear in the message sizes.
  static constexpr double kReferenceBlockBytes = 4294967296.0;  // 2^32
  struct ScaledPattern {
    bool uniform = false;
    bool simulated = false;
    Time base;                          // software overhead + the common route latency
    std::vector<int32_t> ranks;         // taking part, in first-message order
    std::vector<double> reference_ns;   // per rank: done - base in the reference run
  };
  // Event-driven: every rank's schedule flattened.
  struct FlatSend {
    int32_t dst = 0;
    int32_t recv = 0;          // index of the matching receive in recvs_
    int64_t first_block = 0;   // blocks_[first_block, first_block + block_count)
    int32_t block_count = 0;
  };
  struct FlatRecv {
    int32_t src = 0;
    int32_t send = 0;  // index of the matching send in sends_
    int64_t first_block = 0;
    int32_t block_count = 0;
    bool reduce = false;
  };
  struct FlatStep {
    int32_t first_send = 0;
    int32_t sends = 0;
    int32_t first_recv = 0;
    int32_t recvs = 0;
  };

  const hw::Topology* topology_ = nullptr;
  std::unique_ptr<net::Router> router_;
  FlowMode mode_ = FlowMode::kAuto;
  CostParams cost_;
  std::string algorithm_;
  int ranks_ = 0;
  int64_t block_count_ = 1;
  int steps_ = 0;
  int64_t messages_ = 0;

  std::vector<int32_t> rank_first_step_;  // ranks_ + 1 offsets into steps_flat_
  std::vector<FlatStep> steps_flat_;
  std::vector<FlatSend> sends_;
  std::vector<int32_t> send_src_;
  std::vector<const net::Route*> send_routes_;
  std::vector<FlatRecv> recvs_;
  std::vector<int32_t> blocks_;

  // Step-synchronous: the patterns and, per pattern, each send's route.
  std::unique_ptr<StepPatterns> patterns_;
  std::vector<std::vector<const net::Route*>> pattern_routes_;
  std::vector<ScaledPattern> scaled_;
  std::vector<int32_t> rank_slot_;  // scratch: index of a rank in a pattern's rank list, or -1
};

/// One-shot flow-level time (build + time).
Result<CollectiveTiming> flow_time(const Algorithm& algorithm, Bytes vector_bytes, int64_t element_size,
                                   const hw::Topology& topology, const FlowOptions& options = {});

std::string_view to_string(FlowMode mode);

}  // namespace mlsys::coll
