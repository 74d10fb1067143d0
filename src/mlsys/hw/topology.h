// Topology: the graph every timing model in mlsys runs on.
//
// Nodes are GPUs/NPUs, CPUs, NICs, PCIe switches, NVSwitches and network switches; links are
// directed with a bandwidth and a latency (a cable is two links). Endpoints (the nodes that run
// ranks) are numbered 0..P-1 in rank order. Builders for tori, fat-trees, leaf-spine,
// rail-optimised clusters and NCCL topology XML live in topology_builders.h / nccl_topology.h.
//
//   Result<Topology> t = build_torus({8, 8}, {.bandwidth = Gbps(400), .latency = us(1)});
//   t->endpoint_count();  // 64
//   for (LinkId l : t->out_links(t->endpoint(0))) { ... }
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlsys/core/units.h"

namespace mlsys::hw {

using NodeId = int32_t;
using LinkId = int32_t;
constexpr NodeId kNoNode = -1;

enum class NodeKind {
  kGpu,         // a GPU, TPU chip or generic NPU: runs a rank
  kCpu,         // a CPU socket / NUMA node (PCIe root complex)
  kNic,         // a network interface
  kPcieSwitch,  // a PCIe switch or bridge
  kNvSwitch,    // an NVSwitch (or any intra-node crossbar)
  kSwitch,      // a network switch (leaf, spine, core, optical)
};

enum class LinkKind {
  kNvLink,   // GPU-GPU or GPU-NVSwitch
  kPcie,     // PCIe lanes
  kSmp,      // inter-socket (UPI / Infinity Fabric / xGMI)
  kNetwork,  // InfiniBand / Ethernet cable
  kIci,      // TPU inter-chip interconnect / torus link
};

std::string_view to_string(NodeKind kind);
std::string_view to_string(LinkKind kind);

struct Node {
  NodeId id = kNoNode;
  NodeKind kind = NodeKind::kGpu;
  std::string name;  // unique, human-readable ("gpu3", "leaf0", "node2/nic1")
  int host = -1;     // server (machine) index, -1 for network switches
  int rank = -1;     // endpoint index for nodes that run ranks, else -1
  std::string pci_busid;  // PCIe bus id ("0000:10:1c.0") where known (NCCL XML import), else ""
  int numa = -1;          // NUMA node (the owning cpu's numaid) where known, else -1
};

/// The two parameters of a link: per-direction bandwidth and per-hop latency.
struct LinkSpec {
  Bandwidth bandwidth;
  Time latency;
};

struct Link {
  LinkId id = -1;
  NodeId src = kNoNode;
  NodeId dst = kNoNode;
  Bandwidth bandwidth;  // per direction
  Time latency;         // per hop, propagation plus switching
  LinkKind kind = LinkKind::kNetwork;
};

/// Shape metadata that routing uses: a k-ary n-D torus or mesh. Endpoint rank r has coordinates
/// in row-major order (the last dimension varies fastest): r = sum_i coord[i] * prod_{j>i} dims[j].
struct TorusShape {
  std::vector<int> dims;
  bool wrap = true;  // false: a mesh (no wrap-around links)
};

class Topology {
 public:
  explicit Topology(std::string name = "") : name_(std::move(name)) {}

  /// Adds a node; `name` must be new (a duplicate is a bug in the caller: MLSYS_CHECK).
  NodeId add_node(NodeKind kind, std::string name, int host = -1);
  /// Records where a node sits in its server's PCIe tree.
  void set_pci(NodeId node, std::string busid, int numa);
  /// Marks `node` as the next endpoint (rank endpoint_count()).
  void add_endpoint(NodeId node);
  /// One directed link src -> dst. Checked: both nodes exist, src != dst, bandwidth > 0,
  /// latency >= 0.
  LinkId add_link(NodeId src, NodeId dst, Bandwidth bw, Time latency, LinkKind kind);
  /// Two directed links, one each way, with the same bandwidth and latency.
  void add_duplex(NodeId a, NodeId b, Bandwidth bw, Time latency, LinkKind kind);

  const std::string& name() const { return name_; }
  int node_count() const { return static_cast<int>(nodes_.size()); }
  int link_count() const { return static_cast<int>(links_.size()); }
  int endpoint_count() const { return static_cast<int>(endpoints_.size()); }
  const Node& node(NodeId id) const { return nodes_[static_cast<size_t>(id)]; }
  const Link& link(LinkId id) const { return links_[static_cast<size_t>(id)]; }
  std::span<const Node> nodes() const { return nodes_; }
  std::span<const Link> links() const { return links_; }
  /// Node that runs rank `rank`.
  NodeId endpoint(int rank) const { return endpoints_[static_cast<size_t>(rank)]; }
  /// Directed links leaving `node`, in insertion order.
  std::span<const LinkId> out_links(NodeId node) const { return out_[static_cast<size_t>(node)]; }
  /// Finds a node by its unique name.
  std::optional<NodeId> find(std::string_view name) const;
  /// The first directed link src -> dst, if any.
  std::optional<LinkId> find_link(NodeId src, NodeId dst) const;
  /// Nodes of one kind, in id order.
  std::vector<NodeId> nodes_of_kind(NodeKind kind) const;

  const std::optional<TorusShape>& torus() const { return torus_; }
  void set_torus(TorusShape shape) { torus_ = std::move(shape); }

 private:
  std::string name_;
  std::vector<Node> nodes_;
  std::vector<Link> links_;
  std::vector<std::vector<LinkId>> out_;
  std::vector<NodeId> endpoints_;
  std::optional<TorusShape> torus_;
  std::map<std::string, NodeId, std::less<>> by_name_;
};

}  // namespace mlsys::hw
