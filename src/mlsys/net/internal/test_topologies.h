// Small topologies built directly with the hw::Topology API, for net's tests and benchmarks only
// (independent of hw's builders, so that routing and rates are checked against graphs whose every
// link the test knows).
//
//   hw::Topology line = make_line(3, GBps(100), us(1));        // n0 <-> n1 <-> n2
//   hw::Topology torus = make_torus({4, 4}, GBps(50), us(1));  // torus() set, 16 endpoints
//   hw::Topology tree = make_fat_tree(4, GBps(50), us(1));     // 16 hosts, 20 switches
#pragma once

#include <string>
#include <vector>

#include "mlsys/core/units.h"
#include "mlsys/hw/topology.h"

namespace mlsys::net::internal {

/// Nodes n0..n{k-1}, all endpoints in order, with a duplex link between consecutive ones.
/// Link ids: n_i -> n_{i+1} is 2i, n_{i+1} -> n_i is 2i + 1.
inline hw::Topology make_line(int nodes, Bandwidth bw, Time latency) {
  hw::Topology t("line");
  for (int i = 0; i < nodes; ++i) t.add_endpoint(t.add_node(hw::NodeKind::kGpu, "n" + std::to_string(i), i));
  for (int i = 0; i + 1 < nodes; ++i) t.add_duplex(i, i + 1, bw, latency, hw::LinkKind::kNetwork);
  return t;
}

/// k-ary n-D torus (or mesh when !wrap) with endpoints "n<rank>" in row-major order. Out-links of
/// each node, per dimension in order: the +1 neighbour, then the -1 neighbour; a ring of size 2
/// gets one link each way.
inline hw::Topology make_torus(const std::vector<int>& dims, Bandwidth bw, Time latency, bool wrap = true) {
  hw::Topology t("torus");
  int volume = 1;
  for (int k : dims) volume *= k;
  for (int r = 0; r < volume; ++r) t.add_endpoint(t.add_node(hw::NodeKind::kGpu, "n" + std::to_string(r), r));
  for (int r = 0; r < volume; ++r) {
    int stride = volume;
    for (int k : dims) {
      stride /= k;
      const int coord = (r / stride) % k;
      for (int step : {+1, -1}) {
        int next = coord + step;
        if (wrap) {
          next = (next + k) % k;
        } else if (next < 0 || next >= k) {
          continue;
        }
        if (next == coord || (k == 2 && step == -1)) continue;
        t.add_link(r, r + (next - coord) * stride, bw, latency, hw::LinkKind::kIci);
      }
    }
  }
  t.set_torus({dims, wrap});
  return t;
}

/// The 3-level k-ary fat-tree: k pods of k/2 edge and k/2 aggregation switches, (k/2)^2 cores,
/// k/2 hosts per edge switch (endpoints "h<i>"). Every cable is a duplex link of `bw`, `latency`.
inline hw::Topology make_fat_tree(int k, Bandwidth bw, Time latency) {
  hw::Topology t("fat_tree");
  const int half = k / 2;
  std::vector<hw::NodeId> core;
  for (int i = 0; i < half * half; ++i)
    core.push_back(t.add_node(hw::NodeKind::kSwitch, "core" + std::to_string(i)));
  int host = 0;
  for (int p = 0; p < k; ++p) {
    std::vector<hw::NodeId> agg;
    for (int a = 0; a < half; ++a) {
      agg.push_back(t.add_node(hw::NodeKind::kSwitch, "agg" + std::to_string(p) + "_" + std::to_string(a)));
      for (int j = 0; j < half; ++j)
        t.add_duplex(agg.back(), core[a * half + j], bw, latency, hw::LinkKind::kNetwork);
    }
    for (int e = 0; e < half; ++e) {
      const hw::NodeId edge =
          t.add_node(hw::NodeKind::kSwitch, "edge" + std::to_string(p) + "_" + std::to_string(e));
      for (hw::NodeId a : agg) t.add_duplex(edge, a, bw, latency, hw::LinkKind::kNetwork);
      for (int h = 0; h < half; ++h, ++host) {
        const hw::NodeId n = t.add_node(hw::NodeKind::kGpu, "h" + std::to_string(host), host);
        t.add_endpoint(n);
        t.add_duplex(n, edge, bw, latency, hw::LinkKind::kNetwork);
      }
    }
  }
  return t;
}

}  // namespace mlsys::net::internal
