#include "mlsys/hw/topology.h"

#include "mlsys/core/check.h"

namespace mlsys::hw {

std::string_view to_string(NodeKind kind) {
  switch (kind) {
    case NodeKind::kGpu: return "gpu";
    case NodeKind::kCpu: return "cpu";
    case NodeKind::kNic: return "nic";
    case NodeKind::kPcieSwitch: return "pcie-switch";
    case NodeKind::kNvSwitch: return "nvswitch";
    case NodeKind::kSwitch: return "switch";
  }
  return "unknown";
}

std::string_view to_string(LinkKind kind) {
  switch (kind) {
    case LinkKind::kNvLink: return "nvlink";
    case LinkKind::kPcie: return "pcie";
    case LinkKind::kSmp: return "smp";
    case LinkKind::kNetwork: return "network";
    case LinkKind::kIci: return "ici";
  }
  return "unknown";
}

NodeId Topology::add_node(NodeKind kind, std::string name, int host) {
  const auto id = static_cast<NodeId>(nodes_.size());
  auto [it, inserted] = by_name_.emplace(name, id);
  MLSYS_CHECK(inserted, "duplicate node name '" + name + "' in topology '" + name_ + "'");
  Node node;
  node.id = id;
  node.kind = kind;
  node.name = std::move(name);
  node.host = host;
  nodes_.push_back(std::move(node));
  out_.emplace_back();
  return id;
}

void Topology::set_pci(NodeId node, std::string busid, int numa) {
  MLSYS_CHECK(node >= 0 && node < node_count(), "set_pci on a node that does not exist");
  Node& n = nodes_[static_cast<size_t>(node)];
  n.pci_busid = std::move(busid);
  n.numa = numa;
}

void Topology::add_endpoint(NodeId node) {
  MLSYS_CHECK(node >= 0 && node < node_count(), "endpoint node does not exist");
  Node& n = nodes_[static_cast<size_t>(node)];
  MLSYS_CHECK(n.rank < 0, "node '" + n.name + "' is already an endpoint");
  n.rank = endpoint_count();
  endpoints_.push_back(node);
}

LinkId Topology::add_link(NodeId src, NodeId dst, Bandwidth bw, Time latency, LinkKind kind) {
  MLSYS_CHECK(src >= 0 && src < node_count() && dst >= 0 && dst < node_count(),
              "link end does not exist");
  MLSYS_CHECK(src != dst, "self link on '" + nodes_[static_cast<size_t>(src)].name + "'");
  MLSYS_CHECK(bw > Bps(0), "link bandwidth must be positive");
  MLSYS_CHECK(latency >= Time::zero(), "link latency must not be negative");
  const auto id = static_cast<LinkId>(links_.size());
  links_.push_back(Link{.id = id, .src = src, .dst = dst, .bandwidth = bw, .latency = latency,
                        .kind = kind});
  out_[static_cast<size_t>(src)].push_back(id);
  return id;
}

void Topology::add_duplex(NodeId a, NodeId b, Bandwidth bw, Time latency, LinkKind kind) {
  add_link(a, b, bw, latency, kind);
  add_link(b, a, bw, latency, kind);
}

std::optional<NodeId> Topology::find(std::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<LinkId> Topology::find_link(NodeId src, NodeId dst) const {
  if (src < 0 || src >= node_count()) return std::nullopt;
  for (LinkId l : out_links(src)) {
    if (links_[static_cast<size_t>(l)].dst == dst) return l;
  }
  return std::nullopt;
}

std::vector<NodeId> Topology::nodes_of_kind(NodeKind kind) const {
  std::vector<NodeId> ids;
  for (const Node& n : nodes_) {
    if (n.kind == kind) ids.push_back(n.id);
  }
  return ids;
}

}  // namespace mlsys::hw
