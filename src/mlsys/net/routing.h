// Router: deterministic routes over a hw::Topology.
//
// Tori (topology.torus() set, both ends endpoints) use dimension-order routing; every other pair
// uses a shortest path by hop count with deterministic ECMP (a fixed hash picks among equal-cost
// next hops). Routes are interned: the same (src, dst, flow_key) returns the same Route object.
//
//   Router router(topology);
//   Result<const Route*> r = router.route(topology.endpoint(0), topology.endpoint(5), /*key=*/7);
//   if (r) for (LinkId l : (*r)->links) { ... }   // (*r)->latency is the sum of link latencies
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <tuple>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/hw/topology.h"

namespace mlsys::net {

using hw::LinkId;
using hw::NodeId;

/// A path from `src` to `dst`: directed links in travel order. Empty when src == dst.
struct Route {
  NodeId src = hw::kNoNode;
  NodeId dst = hw::kNoNode;
  std::vector<LinkId> links;
  Time latency;  // sum of the links' latencies

  int hops() const { return static_cast<int>(links.size()); }
};

/// splitmix64 finaliser: the fixed integer hash ECMP uses (std::hash differs between libraries).
uint64_t splitmix64(uint64_t x);

class Router {
 public:
  /// Builds the reverse adjacency once. `topology` must outlive the Router and not change.
  explicit Router(const hw::Topology& topology);

  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;
  Router(Router&&) = default;

  /// The route for a flow from node `src` to node `dst`. `flow_key` only matters where ECMP has a
  /// choice: the same key always gives the same route, different keys spread over equal-cost
  /// paths. The pointer stays valid for the Router's lifetime; repeated queries return it again.
  /// Errors: a node id out of range, `dst` unreachable from `src`, an inconsistent torus shape.
  Result<const Route*> route(NodeId src, NodeId dst, uint64_t flow_key = 0);

  /// Same, between the nodes that run ranks `src_rank` and `dst_rank`.
  Result<const Route*> route_ranks(int src_rank, int dst_rank, uint64_t flow_key = 0);

  /// Hop count of a shortest path from `src` to `dst`, or -1 when unreachable (ignores tori).
  int distance(NodeId src, NodeId dst);

  const hw::Topology& topology() const { return *topology_; }
  /// Number of distinct routes interned so far.
  int route_count() const { return static_cast<int>(routes_.size()); }
  /// Destinations whose BFS distance table has been built (one table per destination).
  int distance_tables() const { return distance_tables_; }

 private:
  static constexpr int32_t kUnreachable = -1;

  // Hop counts from every node to `dst` (BFS over reversed links), built on first use:
  // 4 bytes per node per destination queried.
  const std::vector<int32_t>& distances_to(NodeId dst);
  Status build_torus_route(NodeId src, NodeId dst, Route& out);
  Status build_shortest_route(NodeId src, NodeId dst, uint64_t flow_key, Route& out);

  const hw::Topology* topology_;
  std::vector<int32_t> in_offsets_;  // CSR of incoming links per node
  std::vector<LinkId> in_links_;
  std::vector<int> rank_of_;                   // endpoint rank per node, -1 for non-endpoints
  std::vector<std::vector<int32_t>> dist_to_;  // indexed by destination node; empty until built
  int distance_tables_ = 0;
  std::deque<Route> routes_;  // deque: interned routes never move
  std::map<std::tuple<NodeId, NodeId, uint64_t>, const Route*> interned_;
};

}  // namespace mlsys::net
