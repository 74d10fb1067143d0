// FlowNetwork: flow-level network simulation with max-min fair sharing, on the sim::Engine.
//
// The model. A flow of S bytes started at time t0 on a route with latency L (the sum of its links'
// latencies) first spends L in flight without using bandwidth, then transfers its bytes at its
// max-min fair rate among all transferring flows (each link's capacity shared, each flow's optional
// cap respected), the rate being recomputed whenever a flow starts or stops transferring. It
// completes when its last byte is sent: finish = t0 + L + transfer time under sharing. A lone flow
// on one link of bandwidth B finishes at t0 + L + S/B. A flow with no links and no cap (src == dst)
// finishes at t0 + L = t0.
//
// Rounding, identical in both recompute modes. Remaining bytes are a double. When a flow's rate
// changes at time t from r to r', the bytes sent since its last anchor a are r * (t - a).ns() / 1e9
// and t becomes the anchor; a flow whose new rate is bitwise equal keeps its anchor. Its projected
// finish is anchor + ceil(remaining * 1e9 / rate - 0.001) ns: the next whole nanosecond, with 1 ps
// of slack so that exact cases (1 MB at 100 GB/s = 10 us) do not gain a nanosecond from rounding.
//
// Recomputation. kLazy re-solves only the connected component (flows linked transitively through
// shared links) of the flows that started or stopped at that instant, with the fast MaxMinSolver;
// kFull re-solves every transferring flow with the max_min_fair_rates oracle. Both give the same
// completion times to the nanosecond (tested); kFull exists as the reference.
//
//   sim::Engine engine;  FlowNetwork net(engine, topology);
//   Result<FlowId> f = net.start_flow({.src = topology.endpoint(0), .dst = topology.endpoint(1),
//                                      .size = MiB(64), .start = us(0)});
//   engine.run();  net.finish_time(*f);
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/hw/topology.h"
#include "mlsys/net/max_min.h"
#include "mlsys/net/routing.h"
#include "mlsys/sim/engine.h"

namespace mlsys::net {

/// Flows are numbered 0, 1, 2, ... in the order start_flow accepts them.
using FlowId = int32_t;

/// One transfer between two nodes (use topology.endpoint(rank) for ranks).
struct FlowSpec {
  NodeId src = hw::kNoNode;
  NodeId dst = hw::kNoNode;
  Bytes size;
  Time start;                       // when the sender starts; >= the engine's now()
  uint64_t flow_key = 0;            // ECMP key: flows with different keys may take different paths
  Bandwidth rate_cap = kNoRateCap;  // upper bound on this flow's rate
};

enum class RecomputeMode {
  kLazy,  // re-solve only the connected component of the flows that changed (the default)
  kFull,  // re-solve every transferring flow with the oracle (the reference for tests)
};

/// Told about each completed flow; the plain interface keeps std::function off the hot path.
/// Called from inside the engine's wake-up at the completion time; it may start new flows (their
/// start must be >= now). Flows completing at the same instant are reported by increasing id.
struct FlowObserver {
  virtual ~FlowObserver() = default;
  virtual void on_flow_done(FlowId flow, Time now) = 0;
};

enum class FlowState {
  kInFlight,      // started, within its route latency: not yet using bandwidth
  kTransferring,  // sharing bandwidth
  kDone,
};

struct FlowCounters {
  int64_t flows_started = 0;
  int64_t flows_completed = 0;
  // Rate solves: at most one per instant at which flows start or stop sharing (none when a
  // finished flow leaves no other flow on its links, in lazy mode).
  int64_t recomputations = 0;
  int64_t flows_touched = 0;      // flows re-solved, summed over recomputations
  int64_t max_flows_touched = 0;  // the largest single recomputation
  int64_t rate_changes = 0;       // re-solved flows whose rate actually changed

  double mean_flows_touched() const {
    return recomputations == 0 ? 0.0
                               : static_cast<double>(flows_touched) / static_cast<double>(recomputations);
  }
};

struct FlowNetworkOptions {
  RecomputeMode mode = RecomputeMode::kLazy;
  FlowObserver* observer = nullptr;   // not owned; may be null
  std::string name = "flow_network";  // the sim::Component name (deadlock reports)
};

class FlowNetwork final : public sim::Component {
 public:
  /// Registers itself with `engine`. `engine` and `topology` must outlive the FlowNetwork; the
  /// topology must not change.
  FlowNetwork(sim::Engine& engine, const hw::Topology& topology, FlowNetworkOptions options = {});

  /// Starts a flow on the router's route for (src, dst, flow_key). Errors: a start before the
  /// engine's now(), a negative size, a non-positive cap, an unknown or unreachable node, a link
  /// on the route whose bandwidth is not positive and finite or whose latency is negative.
  Result<FlowId> start_flow(const FlowSpec& spec);
  /// Starts a flow on a given route, e.g. one precomputed with router(). The route must outlive
  /// the flow (routes from router() live as long as the FlowNetwork). Same errors.
  Result<FlowId> start_flow(const Route& route, Bytes size, Time start, Bandwidth rate_cap = kNoRateCap);

  void set_observer(FlowObserver* observer) { observer_ = observer; }
  /// The router used by start_flow(FlowSpec); use it to precompute and reuse routes.
  Router& router() { return router_; }
  const hw::Topology& topology() const { return *topology_; }
  RecomputeMode mode() const { return mode_; }

  int flow_count() const { return static_cast<int>(flows_.size()); }
  FlowState state(FlowId flow) const { return at(flow).state; }
  /// Completion time of a finished flow; Time::max() while it is not finished.
  Time finish_time(FlowId flow) const;
  /// Current rate (zero unless transferring).
  Bandwidth rate(FlowId flow) const;
  const Route& route(FlowId flow) const { return *at(flow).route; }
  /// Flows started and not finished.
  int unfinished_flows() const { return unfinished_; }
  const FlowCounters& counters() const { return counters_; }

  void on_wake(sim::Engine& engine) override;
  std::string pending_work() const override;

 private:
  struct Flow {
    const Route* route = nullptr;
    double cap = 0.0;        // B/s, may be +inf
    double remaining = 0.0;  // bytes left at `anchor`
    double rate = 0.0;       // B/s while transferring
    Time start;
    Time anchor;
    Time finish = Time::max();  // projected while transferring, actual once done
    int64_t size = 0;
    int32_t slot = 0;         // first of route->hops() entries in slot_pos_
    uint32_t version = 0;     // completion-heap entries carrying an older version are stale
    uint32_t seen = 0;        // component-search stamp
    int32_t active_pos = -1;  // index in transferring_ while sharing
    FlowState state = FlowState::kInFlight;
    bool sharing = false;  // in the link user lists (false for instant flows)
  };
  struct LinkUser {
    FlowId flow;
    int32_t hop;  // index of this link in the flow's route
  };
  struct TimedEntry {
    int64_t time_ns;
    FlowId flow;
    uint32_t version;
  };

  const Flow& at(FlowId flow) const;
  Status validate_route(const Route& route) const;
  void drop_stale_completions();
  Time next_event_time();
  void arm_for(Time t);
  void process_instant(Time now);
  void begin_transfer(FlowId f, Time now);
  void end_transfer(FlowId f, Time now);
  void recompute(Time now);
  void collect_component();
  void collect_all();
  void apply_rates(Time now);
  void push_completion(FlowId f);

  sim::Engine* sim_;
  const hw::Topology* topology_;
  Router router_;
  RecomputeMode mode_;
  FlowObserver* observer_;
  std::vector<Bandwidth> link_capacity_;
  MaxMinSolver solver_;

  std::vector<Flow> flows_;
  std::vector<int32_t> slot_pos_;                  // per flow and hop: position in link_users_
  std::vector<std::vector<LinkUser>> link_users_;  // transferring flows per link
  std::vector<TimedEntry> arrivals_;               // min-heap: in-flight flows by transfer start
  std::vector<TimedEntry> completions_;            // min-heap: projected finishes, lazily stale
  std::vector<FlowId> transferring_;               // sharing flows, unordered (Flow::active_pos)
  int unfinished_ = 0;

  // Per-instant scratch, kept to avoid allocation.
  std::vector<FlowId> changed_flows_;  // started transferring now (stopped ones seed via links)
  std::vector<LinkId> seed_links_;
  std::vector<FlowId> completed_;
  std::vector<FlowId> component_;
  std::vector<LinkId> link_queue_;
  std::vector<uint32_t> link_seen_;
  uint32_t epoch_ = 0;
  std::vector<MaxMinFlow> problem_;
  std::vector<Bandwidth> rates_;

  bool in_wake_ = false;
  Time armed_ = Time::max();
  FlowCounters counters_;
};

/// Runs `flows` on a fresh engine and FlowNetwork and returns each flow's completion time, in the
/// order given. Errors: any flow start_flow rejects (the message names the flow's index), or the
/// engine's deadlock report.
Result<std::vector<Time>> simulate_flows(const hw::Topology& topology, std::span<const FlowSpec> flows,
                                         RecomputeMode mode = RecomputeMode::kLazy);

}  // namespace mlsys::net
