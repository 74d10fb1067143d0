// Foundation check: the flow-level model against completion times computable by hand.

#include <vector>

#include "mlsys/hw/topology_builders.h"
#include "mlsys/net/flow_network.h"
#include "mlsys/reproduce/internal/scenarios.h"

namespace mlsys::reproduce {
namespace {

constexpr char kClosedForm[] = "closed form: latency + bytes / fair share";

// Every endpoint of `topo` sends `size` to the endpoint `dst_of(rank)`; returns the makespan.
template <class DstOf>
Result<Time> makespan(const hw::Topology& topo, Bytes size, DstOf dst_of) {
  std::vector<net::FlowSpec> flows;
  for (int r = 0; r < topo.endpoint_count(); ++r) {
    const int d = dst_of(r);
    if (d < 0) continue;
    flows.push_back({.src = topo.endpoint(r), .dst = topo.endpoint(d), .size = size, .start = Time::zero(),
                     .flow_key = static_cast<uint64_t>(r)});
  }
  MLSYS_ASSIGN_OR_RETURN(std::vector<Time> done, net::simulate_flows(topo, flows));
  Time last = Time::zero();
  for (Time t : done) last = std::max(last, t);
  return last;
}

}  // namespace

Result<ScenarioReport> run_flow_scenario(const ScenarioOptions& /*options*/) {
  ScenarioReport report{.scenario = "flow", .title = "Flow-level network model vs closed form"};
  const Bandwidth bw = Gbps(400);
  const Time lat = us(1);
  const Bytes size = MiB(1);

  // One flow on one link: L + S/B.
  MLSYS_ASSIGN_OR_RETURN(hw::Topology pair, hw::build_torus({2}, {.bandwidth = bw, .latency = lat}, false));
  MLSYS_ASSIGN_OR_RETURN(Time one, makespan(pair, size, [](int r) { return r == 0 ? 1 : -1; }));
  report.checks.push_back(within("one 1MiB flow, 400Gbps link, 1us", "s", (lat + size / bw).seconds(),
                                 one.seconds(), 1e-6, kClosedForm));

  // Torus neighbour exchange: every rank sends to its +1 neighbour in the last dimension; no two
  // flows share a link, so each finishes at L + S/B.
  MLSYS_ASSIGN_OR_RETURN(hw::Topology torus, hw::build_torus({8, 8}, {.bandwidth = bw, .latency = lat}));
  MLSYS_ASSIGN_OR_RETURN(Time ring, makespan(torus, size, [](int r) { return (r / 8) * 8 + (r + 1) % 8; }));
  report.checks.push_back(within("8x8 torus neighbour exchange, 1MiB each", "s", (lat + size / bw).seconds(),
                                 ring.seconds(), 1e-6, kClosedForm));

  // Incast on a leaf-spine: 7 hosts of one leaf send to the 8th; its one host link is shared
  // 7 ways, so the last byte arrives at 2L + 7S/B.
  MLSYS_ASSIGN_OR_RETURN(hw::Topology leaf,
                         hw::build_leaf_spine(8, 2, 2, {.bandwidth = bw, .latency = lat}, {.bandwidth = bw, .latency = lat}));
  MLSYS_ASSIGN_OR_RETURN(Time incast, makespan(leaf, size, [](int r) { return r >= 1 && r < 8 ? 0 : -1; }));
  report.checks.push_back(within("7-to-1 incast under one leaf, 1MiB each", "s",
                                 (lat * 2 + (size * 7) / bw).seconds(), incast.seconds(), 1e-6, kClosedForm));

  // Fat-tree k=4 shift permutation across pods: full bisection, so with distinct ECMP keys the
  // makespan is at least L + S/B (6 hops) and collisions can at most double a link's load.
  MLSYS_ASSIGN_OR_RETURN(hw::Topology ft, hw::build_fat_tree(4, {.bandwidth = bw, .latency = lat}));
  MLSYS_ASSIGN_OR_RETURN(Time shift, makespan(ft, size, [](int r) { return (r + 4) % 16; }));
  const double ideal = (lat * 6 + size / bw).seconds();
  report.checks.push_back(at_least("fat-tree k=4 pod shift: makespan >= ideal (no free bandwidth)", "s", ideal,
                                   shift.seconds(), "full bisection bound"));
  report.notes.push_back("fat-tree shift makespan " + format_time(shift) + " vs ideal " +
                         format_time(from_seconds(ideal)) + ": ECMP hash collisions share links, as on real fabrics");
  return report;
}

}  // namespace mlsys::reproduce
