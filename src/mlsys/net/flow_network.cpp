#include "mlsys/net/flow_network.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "mlsys/core/check.h"

namespace mlsys::net {
namespace {

constexpr double kNsPerSecond = 1e9;
// Slack when rounding a finish up to whole nanoseconds: floating-point noise below a picosecond
// must not push an exact finish (10000.0000000002 ns) to the next nanosecond.
constexpr double kSnapNs = 1e-3;

// Heap order for TimedEntry: the earliest time on top, then the lowest flow id.
struct LaterEntry {
  template <class E>
  bool operator()(const E& a, const E& b) const {
    if (a.time_ns != b.time_ns) return a.time_ns > b.time_ns;
    return a.flow > b.flow;
  }
};

Time project_finish(Time anchor, double remaining, double rate) {
  if (remaining <= 0.0) return anchor;
  if (!(rate > 0.0)) return Time::max();
  const double ns = std::max(0.0, std::ceil(remaining * kNsPerSecond / rate - kSnapNs));
  const double room = static_cast<double>(Time::max().ns() - anchor.ns());
  if (ns >= room) return Time::max();
  return anchor + nsec(static_cast<int64_t>(ns));
}

std::vector<Bandwidth> link_capacities(const hw::Topology& topology) {
  std::vector<Bandwidth> out;
  out.reserve(static_cast<size_t>(topology.link_count()));
  for (const hw::Link& link : topology.links()) out.push_back(link.bandwidth);
  return out;
}

}  // namespace

FlowNetwork::FlowNetwork(sim::Engine& engine, const hw::Topology& topology, FlowNetworkOptions options)
    : Component(std::move(options.name)),
      sim_(&engine),
      topology_(&topology),
      router_(topology),
      mode_(options.mode),
      observer_(options.observer),
      link_capacity_(link_capacities(topology)),
      solver_(link_capacity_),
      link_users_(static_cast<size_t>(topology.link_count())),
      link_seen_(static_cast<size_t>(topology.link_count()), 0) {
  engine.add(*this);
}

const FlowNetwork::Flow& FlowNetwork::at(FlowId flow) const {
  MLSYS_CHECK(flow >= 0 && flow < flow_count(), "unknown flow id " + std::to_string(flow));
  return flows_[static_cast<size_t>(flow)];
}

Time FlowNetwork::finish_time(FlowId flow) const {
  const Flow& f = at(flow);
  return f.state == FlowState::kDone ? f.finish : Time::max();
}

Bandwidth FlowNetwork::rate(FlowId flow) const {
  const Flow& f = at(flow);
  return Bps(f.state == FlowState::kTransferring && f.sharing ? f.rate : 0.0);
}

Status FlowNetwork::validate_route(const Route& route) const {
  const int link_count = topology_->link_count();
  NodeId at_node = route.src;
  for (LinkId l : route.links) {
    if (l < 0 || l >= link_count) {
      return invalid_input(
          "route crosses link " + std::to_string(l) + ", which does not exist",
          "topology '" + topology_->name() + "' has " + std::to_string(link_count) + " links");
    }
    const hw::Link& link = topology_->link(l);
    if (link.src != at_node) {
      return invalid_input("route is not a path: link " + std::to_string(l) +
                               " does not start where "
                               "the previous one ended",
                           "build routes with Router::route");
    }
    const double bw = link.bandwidth.base();
    if (!(bw > 0.0) || !std::isfinite(bw)) {
      return invalid_input("link " + std::to_string(l) + " (" + topology_->node(link.src).name + " -> " +
                               topology_->node(link.dst).name + ") has bandwidth " +
                               format_bandwidth(link.bandwidth),
                           "every link a flow crosses needs a positive, finite bandwidth");
    }
    if (link.latency < Time::zero()) {
      return invalid_input("link " + std::to_string(l) + " (" + topology_->node(link.src).name + " -> " +
                               topology_->node(link.dst).name + ") has a negative latency",
                           "link latencies must be >= 0");
    }
    at_node = link.dst;
  }
  if (at_node != route.dst) {
    return invalid_input("route does not end at its destination node " + std::to_string(route.dst),
                         "build routes with Router::route");
  }
  return ok_status();
}

Result<FlowId> FlowNetwork::start_flow(const FlowSpec& spec) {
  MLSYS_ASSIGN_OR_RETURN(const Route* route, router_.route(spec.src, spec.dst, spec.flow_key));
  return start_flow(*route, spec.size, spec.start, spec.rate_cap);
}

Result<FlowId> FlowNetwork::start_flow(const Route& route, Bytes size, Time start, Bandwidth rate_cap) {
  if (start < sim_->now()) {
    return invalid_input(
        "flow starts at " + format_time(start) + ", before the current time " + format_time(sim_->now()),
        "a flow cannot start in the past");
  }
  if (size < B(0)) {
    return invalid_input("flow size is negative (" + std::to_string(size.count()) + " bytes)");
  }
  if (!(rate_cap.base() > 0.0)) {
    return invalid_input("flow rate cap must be positive, got " + format_bandwidth(rate_cap),
                         "use kNoRateCap for an uncapped flow");
  }
  MLSYS_RETURN_IF_ERROR(validate_route(route));
  if (start > Time::max() - route.latency) {
    return invalid_input("flow start " + format_time(start) + " plus route latency overflows time");
  }
  MLSYS_CHECK(flows_.size() < static_cast<size_t>(std::numeric_limits<FlowId>::max()), "too many flows");

  const auto id = static_cast<FlowId>(flows_.size());
  Flow& flow = flows_.emplace_back();
  flow.route = &route;
  flow.cap = rate_cap.base();
  flow.size = size.count();
  flow.remaining = static_cast<double>(size.count());
  flow.start = start;
  flow.slot = static_cast<int32_t>(slot_pos_.size());
  slot_pos_.resize(slot_pos_.size() + route.links.size(), -1);
  ++counters_.flows_started;
  ++unfinished_;

  const Time arrival = start + route.latency;
  arrivals_.push_back({arrival.ns(), id, 0});
  std::push_heap(arrivals_.begin(), arrivals_.end(), LaterEntry{});
  arm_for(arrival);
  return id;
}

void FlowNetwork::arm_for(Time t) {
  // Inside on_wake the network re-arms once at the end; outside, only an earlier event re-arms.
  if (in_wake_ || t >= armed_) return;
  sim_->wake_at(*this, t);
  armed_ = t;
}

void FlowNetwork::drop_stale_completions() {
  while (!completions_.empty()) {
    const TimedEntry& top = completions_.front();
    const Flow& f = flows_[static_cast<size_t>(top.flow)];
    if (top.version == f.version && f.state == FlowState::kTransferring) return;
    std::pop_heap(completions_.begin(), completions_.end(), LaterEntry{});
    completions_.pop_back();
  }
}

Time FlowNetwork::next_event_time() {
  drop_stale_completions();
  int64_t next = Time::max().ns();
  if (!completions_.empty()) next = completions_.front().time_ns;
  if (!arrivals_.empty()) next = std::min(next, arrivals_.front().time_ns);
  return nsec(next);
}

void FlowNetwork::on_wake(sim::Engine& engine) {
  in_wake_ = true;
  armed_ = Time::max();
  const Time now = engine.now();
  // A re-solve can leave a flow finishing at this very instant, and observers may start flows
  // with no latency: repeat until nothing is due now.
  do {
    process_instant(now);
  } while (next_event_time() <= now);
  in_wake_ = false;
  const Time next = next_event_time();
  if (next != Time::max()) {
    engine.wake_at(*this, next);
    armed_ = next;
  }
}

void FlowNetwork::process_instant(Time now) {
  completed_.clear();
  changed_flows_.clear();
  seed_links_.clear();

  for (;;) {
    drop_stale_completions();
    if (completions_.empty() || completions_.front().time_ns > now.ns()) break;
    const FlowId f = completions_.front().flow;
    std::pop_heap(completions_.begin(), completions_.end(), LaterEntry{});
    completions_.pop_back();
    end_transfer(f, now);
    completed_.push_back(f);
  }
  if (observer_ != nullptr) {
    // Index loop: the observer may start flows, which never touches completed_.
    for (size_t i = 0; i < completed_.size(); ++i) observer_->on_flow_done(completed_[i], now);
  }
  while (!arrivals_.empty() && arrivals_.front().time_ns <= now.ns()) {
    const FlowId f = arrivals_.front().flow;
    std::pop_heap(arrivals_.begin(), arrivals_.end(), LaterEntry{});
    arrivals_.pop_back();
    begin_transfer(f, now);
  }
  if (!changed_flows_.empty() || !seed_links_.empty()) recompute(now);
}

void FlowNetwork::begin_transfer(FlowId id, Time now) {
  Flow& f = flows_[static_cast<size_t>(id)];
  f.state = FlowState::kTransferring;
  f.anchor = now;
  f.rate = 0.0;
  const bool instant = f.size == 0 || (f.route->links.empty() && !std::isfinite(f.cap));
  if (instant) {
    // Nothing to share: finishes as it arrives, without disturbing anyone's rate.
    f.finish = now;
    push_completion(id);
    return;
  }
  f.sharing = true;
  const auto& links = f.route->links;
  for (size_t h = 0; h < links.size(); ++h) {
    auto& users = link_users_[static_cast<size_t>(links[h])];
    slot_pos_[static_cast<size_t>(f.slot) + h] = static_cast<int32_t>(users.size());
    users.push_back({id, static_cast<int32_t>(h)});
  }
  f.active_pos = static_cast<int32_t>(transferring_.size());
  transferring_.push_back(id);
  changed_flows_.push_back(id);
}

void FlowNetwork::end_transfer(FlowId id, Time now) {
  Flow& f = flows_[static_cast<size_t>(id)];
  f.state = FlowState::kDone;
  f.finish = now;
  f.remaining = 0.0;
  ++counters_.flows_completed;
  --unfinished_;
  if (!f.sharing) return;
  f.sharing = false;
  f.rate = 0.0;
  const auto& links = f.route->links;
  for (size_t h = 0; h < links.size(); ++h) {
    const LinkId l = links[h];
    auto& users = link_users_[static_cast<size_t>(l)];
    const auto pos = static_cast<size_t>(slot_pos_[static_cast<size_t>(f.slot) + h]);
    const LinkUser moved = users.back();
    users[pos] = moved;
    slot_pos_[static_cast<size_t>(flows_[static_cast<size_t>(moved.flow)].slot + moved.hop)] =
        static_cast<int32_t>(pos);
    users.pop_back();
    seed_links_.push_back(l);
  }
  const FlowId last = transferring_.back();
  transferring_[static_cast<size_t>(f.active_pos)] = last;
  flows_[static_cast<size_t>(last)].active_pos = f.active_pos;
  transferring_.pop_back();
  f.active_pos = -1;
}

void FlowNetwork::push_completion(FlowId id) {
  Flow& f = flows_[static_cast<size_t>(id)];
  completions_.push_back({f.finish.ns(), id, f.version});
  std::push_heap(completions_.begin(), completions_.end(), LaterEntry{});
  // Stale entries (superseded projections) pile up under frequent rate changes: drop them.
  if (completions_.size() > 2 * transferring_.size() + 1024) {
    std::erase_if(completions_, [this](const TimedEntry& e) {
      const Flow& g = flows_[static_cast<size_t>(e.flow)];
      return e.version != g.version || g.state != FlowState::kTransferring;
    });
    std::make_heap(completions_.begin(), completions_.end(), LaterEntry{});
  }
}

void FlowNetwork::collect_component() {
  if (++epoch_ == 0) {
    // The stamp wrapped: clear every stamp so that no old mark reads as current.
    for (Flow& f : flows_) f.seen = 0;
    std::fill(link_seen_.begin(), link_seen_.end(), 0);
    epoch_ = 1;
  }
  component_.clear();
  link_queue_.clear();
  auto visit_link = [this](LinkId l) {
    if (link_seen_[static_cast<size_t>(l)] == epoch_) return;
    link_seen_[static_cast<size_t>(l)] = epoch_;
    link_queue_.push_back(l);
  };
  auto visit_flow = [&](FlowId id) {
    Flow& f = flows_[static_cast<size_t>(id)];
    if (f.seen == epoch_) return;
    f.seen = epoch_;
    component_.push_back(id);
    for (LinkId l : f.route->links) visit_link(l);
  };
  for (FlowId id : changed_flows_) visit_flow(id);
  for (LinkId l : seed_links_) visit_link(l);
  for (size_t i = 0; i < link_queue_.size(); ++i) {
    // Copy the link id: visit_flow appends to link_queue_.
    const LinkId l = link_queue_[i];
    for (const LinkUser& u : link_users_[static_cast<size_t>(l)]) visit_flow(u.flow);
  }
  // Increasing id: the flow order the oracle sees, so that both solvers break ties alike.
  std::sort(component_.begin(), component_.end());
}

void FlowNetwork::collect_all() {
  component_.assign(transferring_.begin(), transferring_.end());
  std::sort(component_.begin(), component_.end());
}

void FlowNetwork::recompute(Time now) {
  if (mode_ == RecomputeMode::kLazy) {
    collect_component();
  } else {
    collect_all();
  }
  if (component_.empty()) return;
  problem_.clear();
  for (FlowId id : component_) {
    const Flow& f = flows_[static_cast<size_t>(id)];
    problem_.push_back({f.route->links, Bps(f.cap)});
  }
  rates_.resize(component_.size());
  if (mode_ == RecomputeMode::kLazy) {
    solver_.solve(problem_, rates_);
  } else {
    Result<std::vector<Bandwidth>> oracle = max_min_fair_rates(link_capacity_, problem_);
    MLSYS_CHECK(oracle.ok(), "routes were validated when their flows started");
    std::copy(oracle->begin(), oracle->end(), rates_.begin());
  }
  const auto touched = static_cast<int64_t>(component_.size());
  ++counters_.recomputations;
  counters_.flows_touched += touched;
  counters_.max_flows_touched = std::max(counters_.max_flows_touched, touched);
  apply_rates(now);
}

void FlowNetwork::apply_rates(Time now) {
  for (size_t i = 0; i < component_.size(); ++i) {
    Flow& f = flows_[static_cast<size_t>(component_[i])];
    const double rate = rates_[i].base();
    // Bitwise comparison on purpose: an unchanged rate keeps its anchor, which is what makes the
    // lazy and full modes perform identical arithmetic on every flow.
    if (rate == f.rate) continue;
    ++counters_.rate_changes;
    f.remaining -= f.rate * static_cast<double>((now - f.anchor).ns()) / kNsPerSecond;
    if (f.remaining < 0.0) f.remaining = 0.0;
    f.anchor = now;
    f.rate = rate;
    f.finish = project_finish(now, f.remaining, rate);
    ++f.version;
    if (f.finish != Time::max()) push_completion(component_[i]);
  }
}

std::string FlowNetwork::pending_work() const {
  if (unfinished_ == 0) return {};
  int in_flight = 0;
  int stalled = 0;
  for (const Flow& f : flows_) {
    if (f.state == FlowState::kInFlight) ++in_flight;
    if (f.state == FlowState::kTransferring && f.sharing && !(f.rate > 0.0)) ++stalled;
  }
  return std::to_string(unfinished_) + " flows unfinished (" + std::to_string(in_flight) + " in flight, " +
         std::to_string(transferring_.size()) + " transferring, " + std::to_string(stalled) +
         " of them at rate 0)";
}

Result<std::vector<Time>> simulate_flows(const hw::Topology& topology, std::span<const FlowSpec> flows,
                                         RecomputeMode mode) {
  sim::Engine engine;
  FlowNetwork network(engine, topology, {.mode = mode});
  for (size_t i = 0; i < flows.size(); ++i) {
    Result<FlowId> id = network.start_flow(flows[i]);
    if (!id) return id.error().context("flow " + std::to_string(i));
  }
  MLSYS_RETURN_IF_ERROR(engine.run());
  std::vector<Time> finish;
  finish.reserve(flows.size());
  for (size_t i = 0; i < flows.size(); ++i) finish.push_back(network.finish_time(static_cast<FlowId>(i)));
  return finish;
}

}  // namespace mlsys::net
