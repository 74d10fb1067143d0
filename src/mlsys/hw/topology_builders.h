// Topology builders: tori and meshes, 3-level fat-trees, leaf-spine, rail-optimised GPU
// clusters, a one-line spec-string parser for all of them (plus NCCL XML files), and a summary
// (counts, bandwidth ranges, diameter) for `mlsys topo show`.
//
//   Result<Topology> t = parse_topology_spec("torus:8x8,bw=400Gbps,lat=1us");
//   TopologySummary s = summarize(*t);      // 64 endpoints, 256 ici links, diameter 8 hops
//   Result<Topology> c = build_rail_optimized(32, 8, *find_node_spec("dgx-h100"));
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/hw/catalog.h"
#include "mlsys/hw/topology.h"

namespace mlsys::hw {

/// Largest number of endpoints a builder accepts (bounds memory on a typo like "torus:100000").
inline constexpr int kMaxBuilderEndpoints = 1 << 20;

/// k-ary n-D torus (wrap) or mesh (no wrap) of dims[0] x dims[1] x ...: one endpoint ("npu<r>",
/// host r) per point in row-major rank order (last dimension fastest), ICI links of `link` to
/// each neighbour, torus() set. A ring dimension of size 2 gets one link each way (not two),
/// size 1 none. out_links(node) lists, per dimension in order, the +1 link then the -1 link.
/// Errors: no dims, a dim < 1, too many endpoints, non-positive bandwidth, negative latency.
Result<Topology> build_torus(const std::vector<int>& dims, LinkSpec link, bool wrap = true);

/// The classic 3-level k-ary fat-tree (Al-Fares et al.): k pods of k/2 edge and k/2
/// aggregation switches, (k/2)^2 core switches, k^3/4 hosts ("host<i>", ranks in order, k/2 per
/// edge switch); every cable is `link`. Errors: k odd or < 2, too many hosts, bad link.
Result<Topology> build_fat_tree(int k, LinkSpec link);

/// Two-tier leaf-spine: `leaves` leaf switches with `hosts_per_leaf` hosts each, every leaf
/// cabled to every spine. Host cables use `host_link`. Each leaf-spine cable has
/// `uplink.latency` and, when `uplink.bandwidth` is zero, the bandwidth that gives the requested
/// oversubscription (hosts_per_leaf x host bandwidth) / (spines x uplink bandwidth); with a
/// non-zero uplink bandwidth `oversubscription` must stay 1 (the cable speed decides).
Result<Topology> build_leaf_spine(int hosts_per_leaf, int leaves, int spines, LinkSpec host_link,
                                  LinkSpec uplink, double oversubscription = 1.0);

/// Rail-optimised GPU cluster of `nodes` servers of type `node` with `gpus_per_node` GPUs each
/// (0: node.gpus). Per server n: GPUs "node<n>/gpu<g>" on one crossbar "node<n>/nvswitch"
/// (node.gpu_link each), one NIC "node<n>/nic<g>" per GPU over node.pcie. Rail g (NIC g of every
/// server) is one leaf switch "rail<g>"; each leaf has one node.nic_link cable to every spine
/// "spine<s>". `spines` = 0 picks `nodes` spines: as much uplink as downlink (full bisection).
/// Endpoints: server-major, GPU-minor. Errors: counts < 1, a node type without NVSwitch or NICs.
Result<Topology> build_rail_optimized(int nodes, int gpus_per_node, const NodeSpec& node,
                                      int spines = 0);

/// Parses a topology spec:
///   torus:8x8  torus:4x4x4  mesh:8x8  ring:16        (ICI links, default 400Gbps / 1us)
///   fattree:k=8                                      (default 400Gbps / 1us)
///   leafspine:hosts=32,leaves=4,spines=2[,oversub=2] (hosts = total; default 400Gbps / 1us)
///   rail:nodes=32,gpus=8[,node=dgx-h100][,spines=N]  (network links from the node type)
///   nccl:PATH                                        (NCCL topology XML, see nccl_topology.h)
/// Every form but nccl takes `,bw=<bandwidth>,lat=<time>` overrides (units required) for its
/// network/ICI links. Errors name the bad part and list the accepted forms.
Result<Topology> parse_topology_spec(std::string_view spec);

/// The accepted spec forms, one per line, for help text and error hints.
std::string_view topology_spec_forms();

struct NodeKindCount {
  NodeKind kind = NodeKind::kGpu;
  int count = 0;
};

struct LinkKindStats {
  LinkKind kind = LinkKind::kNetwork;
  int count = 0;  // directed links
  Bandwidth min_bandwidth;
  Bandwidth max_bandwidth;
  Time min_latency;
  Time max_latency;
};

struct TopologySummary {
  std::string name;
  int nodes = 0;
  int links = 0;  // directed
  int endpoints = 0;
  std::vector<NodeKindCount> node_kinds;  // kinds present, in NodeKind order
  std::vector<LinkKindStats> link_kinds;  // kinds present, in LinkKind order
  /// Largest hop count from a sampled source endpoint to any endpoint it reaches (BFS over
  /// directed links). Exact when diameter_sources == endpoints.
  int diameter_hops = 0;
  int diameter_sources = 0;
  /// Every endpoint reached from every sampled source.
  bool endpoints_connected = true;
  /// Smallest total outgoing link bandwidth of an endpoint (its injection bandwidth).
  Bandwidth min_injection;
  std::optional<TorusShape> torus;
  /// Tori/meshes only: per-direction bandwidth across the cut that halves the largest
  /// dimension (slowest link counted for all); absent when the largest dimension is 1.
  std::optional<Bandwidth> bisection_bandwidth;
};

/// Summary of `topology`. The diameter BFS runs from all endpoints when there are at most
/// `max_sources`, else from `max_sources` evenly spaced ranks (cost: sources x (nodes + links)).
TopologySummary summarize(const Topology& topology, int max_sources = 64);

}  // namespace mlsys::hw
