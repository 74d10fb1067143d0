#include "mlsys/net/routing.h"

#include <string>
#include <utility>

namespace mlsys::net {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

Router::Router(const hw::Topology& topology) : topology_(&topology) {
  const int n = topology.node_count();
  in_offsets_.assign(static_cast<size_t>(n) + 1, 0);
  for (const hw::Link& link : topology.links()) {
    if (link.dst >= 0 && link.dst < n) ++in_offsets_[static_cast<size_t>(link.dst) + 1];
  }
  for (int v = 0; v < n; ++v) in_offsets_[v + 1] += in_offsets_[v];
  in_links_.resize(static_cast<size_t>(in_offsets_[n]));
  std::vector<int32_t> fill(in_offsets_.begin(), in_offsets_.end() - 1);
  for (const hw::Link& link : topology.links()) {
    if (link.dst >= 0 && link.dst < n) in_links_[static_cast<size_t>(fill[link.dst]++)] = link.id;
  }
  dist_to_.resize(static_cast<size_t>(n));
  // From the endpoint list itself rather than Node::rank, so hand-built graphs route the same.
  rank_of_.assign(static_cast<size_t>(n), -1);
  for (int r = 0; r < topology.endpoint_count(); ++r) {
    const NodeId v = topology.endpoint(r);
    if (v >= 0 && v < n) rank_of_[static_cast<size_t>(v)] = r;
  }
}

const std::vector<int32_t>& Router::distances_to(NodeId dst) {
  std::vector<int32_t>& dist = dist_to_[static_cast<size_t>(dst)];
  if (!dist.empty()) return dist;
  // BFS from the destination over reversed links: dist[v] = hops from v to dst.
  dist.assign(static_cast<size_t>(topology_->node_count()), kUnreachable);
  std::vector<NodeId> frontier{dst};
  dist[static_cast<size_t>(dst)] = 0;
  for (size_t head = 0; head < frontier.size(); ++head) {
    const NodeId v = frontier[head];
    const int32_t next = dist[static_cast<size_t>(v)] + 1;
    for (int32_t i = in_offsets_[v]; i < in_offsets_[v + 1]; ++i) {
      const NodeId u = topology_->link(in_links_[static_cast<size_t>(i)]).src;
      if (dist[static_cast<size_t>(u)] == kUnreachable) {
        dist[static_cast<size_t>(u)] = next;
        frontier.push_back(u);
      }
    }
  }
  ++distance_tables_;
  return dist;
}

int Router::distance(NodeId src, NodeId dst) {
  const int n = topology_->node_count();
  if (src < 0 || src >= n || dst < 0 || dst >= n) return -1;
  return distances_to(dst)[static_cast<size_t>(src)];
}

Status Router::build_shortest_route(NodeId src, NodeId dst, uint64_t flow_key, Route& out) {
  const std::vector<int32_t>& dist = distances_to(dst);
  if (dist[static_cast<size_t>(src)] == kUnreachable) {
    return not_found("no path from node '" + topology_->node(src).name + "' to node '" +
                         topology_->node(dst).name + "' in topology '" + topology_->name() + "'",
                     "check that the links between them exist in both directions");
  }
  // One hash per flow, re-mixed with the current node at each hop: every switch on the way makes
  // its own choice (no polarisation), yet the route is a pure function of (src, dst, flow_key).
  const uint64_t flow_hash =
      splitmix64(splitmix64(splitmix64(static_cast<uint64_t>(src)) ^ static_cast<uint64_t>(dst)) ^ flow_key);
  NodeId cur = src;
  while (cur != dst) {
    const int32_t want = dist[static_cast<size_t>(cur)] - 1;
    int candidates = 0;
    for (LinkId l : topology_->out_links(cur)) {
      if (dist[static_cast<size_t>(topology_->link(l).dst)] == want) ++candidates;
    }
    int pick = 0;
    if (candidates > 1) {
      pick = static_cast<int>(splitmix64(flow_hash ^ static_cast<uint64_t>(cur)) %
                              static_cast<uint64_t>(candidates));
    }
    for (LinkId l : topology_->out_links(cur)) {
      const hw::Link& link = topology_->link(l);
      if (dist[static_cast<size_t>(link.dst)] != want) continue;
      if (pick-- == 0) {
        out.links.push_back(l);
        out.latency += link.latency;
        cur = link.dst;
        break;
      }
    }
  }
  return ok_status();
}

Status Router::build_torus_route(NodeId src, NodeId dst, Route& out) {
  const hw::TorusShape& shape = *topology_->torus();
  const int dims = static_cast<int>(shape.dims.size());
  int64_t volume = 1;
  for (int k : shape.dims) {
    if (k <= 0) {
      return invalid_input(
          "torus shape of topology '" + topology_->name() + "' has a dimension of size " + std::to_string(k),
          "every torus dimension must be at least 1");
    }
    volume *= k;
  }
  if (volume != topology_->endpoint_count()) {
    return invalid_input("torus shape of topology '" + topology_->name() + "' has " + std::to_string(volume) +
                             " positions but the topology has " +
                             std::to_string(topology_->endpoint_count()) + " endpoints",
                         "the product of the torus dimensions must equal the endpoint count");
  }
  // Row-major coordinates, last dimension fastest: stride[i] = prod_{j>i} dims[j].
  std::vector<int64_t> stride(static_cast<size_t>(dims), 1);
  for (int i = dims - 2; i >= 0; --i) stride[i] = stride[i + 1] * shape.dims[i + 1];
  int64_t cur_rank = rank_of_[static_cast<size_t>(src)];
  const int64_t dst_rank = rank_of_[static_cast<size_t>(dst)];
  NodeId cur = src;
  for (int i = 0; i < dims; ++i) {
    const int k = shape.dims[i];
    const int from = static_cast<int>((cur_rank / stride[i]) % k);
    const int to = static_cast<int>((dst_rank / stride[i]) % k);
    if (from == to) continue;
    int step = to > from ? 1 : -1;
    int count = to > from ? to - from : from - to;
    if (shape.wrap) {
      const int forward = ((to - from) % k + k) % k;
      const int backward = k - forward;
      // Shorter way round the ring; the positive direction on a tie.
      step = forward <= backward ? 1 : -1;
      count = forward <= backward ? forward : backward;
    }
    for (int h = 0; h < count; ++h) {
      const int coord = static_cast<int>((cur_rank / stride[i]) % k);
      const int next_coord = ((coord + step) % k + k) % k;
      const int64_t next_rank = cur_rank + (next_coord - coord) * stride[i];
      const NodeId next = topology_->endpoint(static_cast<int>(next_rank));
      LinkId found = -1;
      for (LinkId l : topology_->out_links(cur)) {
        if (topology_->link(l).dst == next) {
          found = l;
          break;
        }
      }
      if (found < 0) {
        return invalid_input("torus topology '" + topology_->name() + "' has no link from '" +
                                 topology_->node(cur).name + "' to its neighbour '" +
                                 topology_->node(next).name + "' in dimension " + std::to_string(i),
                             "a torus needs a direct link between ring neighbours; for a mesh "
                             "set TorusShape::wrap = false");
      }
      out.links.push_back(found);
      out.latency += topology_->link(found).latency;
      cur = next;
      cur_rank = next_rank;
    }
  }
  return ok_status();
}

Result<const Route*> Router::route(NodeId src, NodeId dst, uint64_t flow_key) {
  const int n = topology_->node_count();
  if (src < 0 || src >= n || dst < 0 || dst >= n) {
    return invalid_input("route from node " + std::to_string(src) + " to node " + std::to_string(dst) +
                             ": node id out of range",
                         "topology '" + topology_->name() + "' has " + std::to_string(n) + " nodes");
  }
  const bool torus = topology_->torus().has_value() && rank_of_[static_cast<size_t>(src)] >= 0 &&
                     rank_of_[static_cast<size_t>(dst)] >= 0;
  // Dimension-order routes ignore the key: intern them once.
  const auto key = std::make_tuple(src, dst, torus ? uint64_t{0} : flow_key);
  if (auto it = interned_.find(key); it != interned_.end()) return it->second;

  Route route;
  route.src = src;
  route.dst = dst;
  const Status built =
      torus ? build_torus_route(src, dst, route) : build_shortest_route(src, dst, flow_key, route);
  if (!built) return built.error();
  routes_.push_back(std::move(route));
  const Route* stored = &routes_.back();
  interned_.emplace(key, stored);
  return stored;
}

Result<const Route*> Router::route_ranks(int src_rank, int dst_rank, uint64_t flow_key) {
  const int p = topology_->endpoint_count();
  if (src_rank < 0 || src_rank >= p || dst_rank < 0 || dst_rank >= p) {
    return invalid_input("route from rank " + std::to_string(src_rank) + " to rank " +
                             std::to_string(dst_rank) + ": rank out of range",
                         "topology '" + topology_->name() + "' has " + std::to_string(p) + " endpoints");
  }
  return route(topology_->endpoint(src_rank), topology_->endpoint(dst_rank), flow_key);
}

}  // namespace mlsys::net
