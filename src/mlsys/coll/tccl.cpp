#include "mlsys/coll/tccl.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <numeric>

#include "mlsys/core/check.h"
#include "mlsys/core/rng.h"
#include "mlsys/core/strings.h"

namespace mlsys::coll {

using hw::LinkId;
using hw::LinkKind;
using hw::NodeId;
using hw::NodeKind;

namespace {

constexpr int kMaxGpus = 512;
constexpr int kMaxTopK = 1000;
constexpr int kMaxNodes = 1 << 20;
// Exhaustive search bound: about a second of evaluations on one core.
constexpr double kExhaustiveLimit = 5e6;
constexpr int kAutoExhaustiveGpus = 8;
constexpr int kRandomRestarts = 8;
constexpr int kGreedyStarts = 8;
// load_per_capacity values closer than this (relative) are a tie: sums of the same terms in
// another order differ in the last bits.
constexpr double kTieTolerance = 1e-9;

double to_gbps(Bandwidth bw) { return bw / GBps(1); }

std::string link_kind_name(LinkKind kind) { return std::string(hw::to_string(kind)); }

// 1290240 -> "1,290,240".
std::string count_text(double v) {
  std::string digits = std::to_string(std::llround(v));
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return digits;
}

}  // namespace

std::string_view to_string(PathKind kind) { return kind == PathKind::kRing ? "ring" : "chain"; }

std::string_view to_string(PathSearchMethod method) {
  switch (method) {
    case PathSearchMethod::kAuto: return "auto";
    case PathSearchMethod::kExhaustive: return "exhaustive";
    case PathSearchMethod::kHeuristic: return "heuristic";
  }
  return "auto";
}

Result<PathSearchMethod> parse_path_search_method(std::string_view text) {
  for (PathSearchMethod m : {PathSearchMethod::kAuto, PathSearchMethod::kExhaustive, PathSearchMethod::kHeuristic}) {
    if (text == to_string(m)) return m;
  }
  return invalid_input("unknown search method '" + std::string(text) + "'", "use auto, exhaustive or heuristic",
                       {"--search"});
}

// ---------------------------------------------------------------------------------------------
// Building the routed model.

class PathModelBuilder {
 public:
  explicit PathModelBuilder(const hw::NcclTopology& nccl) : nccl_(nccl), t_(nccl.topology) {}

  Result<PathModel> build(std::vector<int> gpus, int nodes);

 private:
  Location at_file() const { return Location{t_.name(), 0}; }
  Status index_pcie_tree();
  Result<std::vector<LinkId>> smp_path(NodeId from, NodeId to);
  Result<PathModel::Route> pcie_route(NodeId a, NodeId b);
  Result<PathModel::Route> gpu_route(NodeId a, NodeId b);
  Result<PathModel::Route> bounce_route(NodeId from, NodeId to);
  int model_link(LinkId hw_link);
  int virtual_link(const std::string& src, const std::string& dst, const std::string& kind, Bandwidth capacity);
  Bandwidth nvswitch_bandwidth(NodeId gpu, bool up) const;
  void finish_route(PathModel::Route& r) const;

  const hw::NcclTopology& nccl_;
  const hw::Topology& t_;
  PathModel m_;
  std::vector<NodeId> parent_;
  std::vector<LinkId> up_;    // node -> parent
  std::vector<LinkId> down_;  // parent -> node
  std::vector<int> depth_;
  std::map<LinkId, int> from_hw_;
  std::map<std::pair<std::string, std::string>, int> by_ends_;
};

int PathModelBuilder::virtual_link(const std::string& src, const std::string& dst, const std::string& kind,
                                   Bandwidth capacity) {
  auto [it, inserted] = by_ends_.emplace(std::make_pair(src, dst), static_cast<int>(m_.links_.size()));
  if (inserted) {
    m_.links_.push_back({.src = src, .dst = dst, .kind = kind, .capacity = capacity, .reverse = -1});
    m_.inverse_capacity_.push_back(1.0 / to_gbps(capacity));
  }
  return it->second;
}

int PathModelBuilder::model_link(LinkId hw_link) {
  if (auto it = from_hw_.find(hw_link); it != from_hw_.end()) return it->second;
  const hw::Link& l = t_.link(hw_link);
  const int id = virtual_link(t_.node(l.src).name, t_.node(l.dst).name, link_kind_name(l.kind), l.bandwidth);
  from_hw_.emplace(hw_link, id);
  return id;
}

Status PathModelBuilder::index_pcie_tree() {
  const auto n = static_cast<size_t>(t_.node_count());
  parent_.assign(n, hw::kNoNode);
  up_.assign(n, -1);
  down_.assign(n, -1);
  depth_.assign(n, -1);
  for (NodeId cpu : t_.nodes_of_kind(NodeKind::kCpu)) {
    depth_[static_cast<size_t>(cpu)] = 0;
    std::deque<NodeId> queue = {cpu};
    while (!queue.empty()) {
      const NodeId u = queue.front();
      queue.pop_front();
      for (LinkId l : t_.out_links(u)) {
        const hw::Link& link = t_.link(l);
        const auto v = static_cast<size_t>(link.dst);
        if (link.kind != LinkKind::kPcie || depth_[v] >= 0) continue;
        depth_[v] = depth_[static_cast<size_t>(u)] + 1;
        parent_[v] = u;
        down_[v] = l;
        if (auto back = t_.find_link(link.dst, u); back && t_.link(*back).kind == LinkKind::kPcie) up_[v] = *back;
        queue.push_back(link.dst);
      }
    }
  }
  return ok_status();
}

Result<std::vector<LinkId>> PathModelBuilder::smp_path(NodeId from, NodeId to) {
  // Fewest SMP hops; the lower-id CPU is the search's source so both directions take one path.
  const bool flip = to < from;
  const NodeId src = flip ? to : from;
  const NodeId dst = flip ? from : to;
  std::vector<LinkId> via(static_cast<size_t>(t_.node_count()), -1);
  std::vector<bool> seen(static_cast<size_t>(t_.node_count()), false);
  seen[static_cast<size_t>(src)] = true;
  std::deque<NodeId> queue = {src};
  while (!queue.empty() && !seen[static_cast<size_t>(dst)]) {
    const NodeId u = queue.front();
    queue.pop_front();
    for (LinkId l : t_.out_links(u)) {
      const hw::Link& link = t_.link(l);
      if (link.kind != LinkKind::kSmp || seen[static_cast<size_t>(link.dst)]) continue;
      seen[static_cast<size_t>(link.dst)] = true;
      via[static_cast<size_t>(link.dst)] = l;
      queue.push_back(link.dst);
    }
  }
  if (!seen[static_cast<size_t>(dst)]) {
    return invalid_input("no inter-socket (SMP) link joins " + t_.node(from).name + " and " + t_.node(to).name,
                         "NCCL topology files connect every pair of <cpu> elements", at_file());
  }
  std::vector<LinkId> path;
  for (NodeId v = dst; v != src; v = t_.link(via[static_cast<size_t>(v)]).src) path.push_back(via[static_cast<size_t>(v)]);
  std::reverse(path.begin(), path.end());
  if (!flip) return path;
  std::vector<LinkId> back;
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    const hw::Link& link = t_.link(*it);
    const std::optional<LinkId> r = t_.find_link(link.dst, link.src);
    if (!r || t_.link(*r).kind != LinkKind::kSmp) return smp_path(to, from);  // one-way link: route directly
    back.push_back(*r);
  }
  return back;
}

Result<PathModel::Route> PathModelBuilder::pcie_route(NodeId a, NodeId b) {
  const auto ia = static_cast<size_t>(a);
  const auto ib = static_cast<size_t>(b);
  if (depth_[ia] < 0 || depth_[ib] < 0) {
    const NodeId lost = depth_[ia] < 0 ? a : b;
    return invalid_input(t_.node(lost).name + " has no PCIe path to a CPU", "every device sits under a <cpu>",
                         at_file());
  }
  std::vector<LinkId> ups;
  std::vector<LinkId> downs;
  NodeId x = a;
  NodeId y = b;
  int switches = 0;
  while (depth_[static_cast<size_t>(x)] > depth_[static_cast<size_t>(y)]) {
    ups.push_back(up_[static_cast<size_t>(x)]);
    x = parent_[static_cast<size_t>(x)];
  }
  while (depth_[static_cast<size_t>(y)] > depth_[static_cast<size_t>(x)]) {
    downs.push_back(down_[static_cast<size_t>(y)]);
    y = parent_[static_cast<size_t>(y)];
  }
  while (x != y && depth_[static_cast<size_t>(x)] > 0) {
    ups.push_back(up_[static_cast<size_t>(x)]);
    downs.push_back(down_[static_cast<size_t>(y)]);
    x = parent_[static_cast<size_t>(x)];
    y = parent_[static_cast<size_t>(y)];
  }
  for (LinkId l : ups) {
    if (l < 0) return invalid_input("one-way PCIe link above " + t_.node(a).name, "", at_file());
  }
  PathModel::Route r;
  for (LinkId l : ups) r.links.push_back(model_link(l));
  // Intermediate nodes tell NCCL's path type: a CPU (PHB), an SMP hop (SYS), or switches only.
  for (size_t k = 1; k < ups.size(); ++k) switches += t_.node(t_.link(ups[k]).src).kind == NodeKind::kPcieSwitch;
  for (size_t k = 1; k < downs.size(); ++k) switches += t_.node(t_.link(downs[k]).dst).kind == NodeKind::kPcieSwitch;
  const NodeId top = x;
  if (x != y) {
    MLSYS_ASSIGN_OR_RETURN(std::vector<LinkId> smp, smp_path(x, y));
    for (LinkId l : smp) r.links.push_back(model_link(l));
    r.crosses_smp = true;
    r.type = "SYS";
  } else if (t_.node(top).kind == NodeKind::kCpu) {
    r.type = "PHB";
  } else {
    switches += t_.node(top).kind == NodeKind::kPcieSwitch;
    r.type = switches <= 1 ? "PIX" : "PXB";
  }
  for (auto it = downs.rbegin(); it != downs.rend(); ++it) r.links.push_back(model_link(*it));
  return r;
}

Result<PathModel::Route> PathModelBuilder::bounce_route(NodeId from, NodeId to) {
  const bool to_nic = t_.node(to).kind == NodeKind::kNic;
  NodeId cpu = to_nic ? to : from;
  while (depth_[static_cast<size_t>(cpu)] > 0) cpu = parent_[static_cast<size_t>(cpu)];
  MLSYS_ASSIGN_OR_RETURN(PathModel::Route first, pcie_route(from, cpu));
  MLSYS_ASSIGN_OR_RETURN(PathModel::Route second, pcie_route(cpu, to));
  first.links.insert(first.links.end(), second.links.begin(), second.links.end());
  first.crosses_smp = first.crosses_smp || second.crosses_smp;
  first.type = first.crosses_smp ? "SYS" : "PHB";
  return first;
}

Bandwidth PathModelBuilder::nvswitch_bandwidth(NodeId gpu, bool up) const {
  Bandwidth sum;
  for (LinkId l : t_.out_links(gpu)) {
    const hw::Link& link = t_.link(l);
    if (link.kind != LinkKind::kNvLink || t_.node(link.dst).kind != NodeKind::kNvSwitch) continue;
    if (up) {
      sum += link.bandwidth;
    } else if (auto back = t_.find_link(link.dst, gpu)) {
      sum += t_.link(*back).bandwidth;
    }
  }
  return sum;
}

Result<PathModel::Route> PathModelBuilder::gpu_route(NodeId a, NodeId b) {
  // NVLink first, as NCCL prefers NVL paths; all NVSwitches act as one (NCCL merges them).
  if (auto direct = t_.find_link(a, b); direct && t_.link(*direct).kind == LinkKind::kNvLink) {
    PathModel::Route r;
    r.links.push_back(model_link(*direct));
    r.type = "NVL";
    return r;
  }
  const Bandwidth up = nvswitch_bandwidth(a, true);
  const Bandwidth down = nvswitch_bandwidth(b, false);
  if (up > Bandwidth() && down > Bandwidth()) {
    PathModel::Route r;
    r.links.push_back(virtual_link(t_.node(a).name, "nvswitch", "nvlink", up));
    r.links.push_back(virtual_link("nvswitch", t_.node(b).name, "nvlink", down));
    r.type = "NVL";
    return r;
  }
  return pcie_route(a, b);
}

void PathModelBuilder::finish_route(PathModel::Route& r) const {
  r.cost = 0;
  for (int l : r.links) r.cost += m_.inverse_capacity_[static_cast<size_t>(l)];
}

Result<PathModel> PathModelBuilder::build(std::vector<int> gpus, int nodes) {
  const Location file = at_file();
  const int total = static_cast<int>(nccl_.gpus.size());
  if (total == 0) {
    const int bridges = static_cast<int>(t_.nodes_of_kind(NodeKind::kPcieSwitch).size());
    return invalid_input("the topology lists no GPUs (" + std::to_string(bridges) + " PCIe bridges, " +
                             std::to_string(nccl_.nics.size()) + " NICs): nothing to search",
                         "a VM file like this lists only the PCIe tree and NCCL finds the GPUs at run time; "
                         "pass a full dump (NCCL_TOPO_DUMP_FILE) or a file with GPU-class <pci> devices",
                         file);
  }
  if (nodes < 1 || nodes > kMaxNodes) {
    return invalid_input("--nodes must be from 1 to " + std::to_string(kMaxNodes), "e.g. --nodes 2", {"--nodes"});
  }
  if (gpus.empty()) {
    gpus.resize(static_cast<size_t>(total));
    std::iota(gpus.begin(), gpus.end(), 0);
  }
  std::sort(gpus.begin(), gpus.end());
  for (size_t i = 0; i < gpus.size(); ++i) {
    if (gpus[i] < 0 || gpus[i] >= total) {
      return invalid_input("GPU " + std::to_string(gpus[i]) + " is not in the file",
                           "it has " + std::to_string(total) + " GPUs: 0-" + std::to_string(total - 1), {"--gpus"});
    }
    if (i > 0 && gpus[i] == gpus[i - 1]) {
      return invalid_input("GPU " + std::to_string(gpus[i]) + " is selected twice", "list each GPU once",
                           {"--gpus"});
    }
  }
  if (static_cast<int>(gpus.size()) > kMaxGpus) {
    return invalid_input("more than " + std::to_string(kMaxGpus) + " GPUs selected", "select fewer with --gpus",
                         {"--gpus"});
  }
  if (nodes == 1 && gpus.size() < 2) {
    return invalid_input("a ring on one node needs at least 2 GPUs", "select more with --gpus, or span nodes with --nodes",
                         {"--gpus"});
  }
  if (nodes > 1 && nccl_.nics.empty()) {
    return invalid_input("a ring across nodes leaves each node through a NIC, and the file lists none",
                         "use --nodes 1, or a topology file with NICs", file);
  }

  MLSYS_RETURN_IF_ERROR(index_pcie_tree());
  m_.gpus_ = gpus;
  m_.nodes_ = nodes;
  for (int g : gpus) m_.gpu_names_.push_back(t_.node(nccl_.gpus[static_cast<size_t>(g)].node).name);
  std::vector<NodeId> ends;
  for (int g : gpus) ends.push_back(nccl_.gpus[static_cast<size_t>(g)].node);
  if (nodes > 1) {
    for (const hw::NcclNic& nic : nccl_.nics) {
      m_.nic_names_.push_back(t_.node(nic.node).name);
      ends.push_back(nic.node);
    }
  }
  const int n = static_cast<int>(gpus.size());
  m_.ends_ = static_cast<int>(ends.size());
  m_.routes_.assign(static_cast<size_t>(m_.ends_) * static_cast<size_t>(m_.ends_), {});
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (i == j) continue;
      auto r = gpu_route(ends[static_cast<size_t>(i)], ends[static_cast<size_t>(j)]);
      if (!r) return r.error().at(file);
      m_.routes_[static_cast<size_t>(i * m_.ends_ + j)] = std::move(*r);
    }
  }
  std::vector<std::string> unknown_speed;
  std::vector<std::string> no_gdr;
  for (int k = n; k < m_.ends_; ++k) {
    const hw::NcclNic& nic = nccl_.nics[static_cast<size_t>(k - n)];
    const std::string& name = m_.nic_names_[static_cast<size_t>(k - n)];
    const bool port = nic.speed > Bandwidth();
    if (!port) unknown_speed.push_back(name);
    // A <net gdr="0"> rules GPUDirect out; without a <net> element the file does not say.
    const bool gdr = nic.name.empty() || nic.gdr;
    if (!gdr) no_gdr.push_back(name);
    for (int g = 0; g < n; ++g) {
      const NodeId gpu = ends[static_cast<size_t>(g)];
      const NodeId card = ends[static_cast<size_t>(k)];
      PathModel::Route out;
      PathModel::Route in;
      if (gdr) {
        // The NIC reads and writes GPU memory through their lowest common PCIe ancestor.
        MLSYS_ASSIGN_OR_RETURN(out, pcie_route(gpu, card));
        MLSYS_ASSIGN_OR_RETURN(in, pcie_route(card, gpu));
      } else {
        // Staged through a host buffer in the memory of the NIC's CPU.
        MLSYS_ASSIGN_OR_RETURN(out, bounce_route(gpu, card));
        MLSYS_ASSIGN_OR_RETURN(in, bounce_route(card, gpu));
      }
      if (port) {
        out.links.push_back(virtual_link(name, "net", "network", nic.speed));
        in.links.insert(in.links.begin(), virtual_link("net", name, "network", nic.speed));
      }
      m_.routes_[static_cast<size_t>(g * m_.ends_ + k)] = std::move(out);
      m_.routes_[static_cast<size_t>(k * m_.ends_ + g)] = std::move(in);
    }
  }
  for (PathModel::Route& r : m_.routes_) finish_route(r);

  // Reverse links and symmetry (a ring and its reverse then load mirrored links alike).
  for (size_t l = 0; l < m_.links_.size(); ++l) {
    PathLink& link = m_.links_[l];
    if (auto it = by_ends_.find({link.dst, link.src}); it != by_ends_.end()) link.reverse = it->second;
    const bool mirrored = link.reverse >= 0 && m_.links_[static_cast<size_t>(link.reverse)].capacity == link.capacity;
    m_.symmetric_ = m_.symmetric_ && mirrored;
  }

  bool any_nvlink = false;
  for (const hw::Link& l : t_.links()) any_nvlink = any_nvlink || l.kind == LinkKind::kNvLink;
  if (!any_nvlink) {
    m_.notes_.push_back("no NVLink between GPUs in the file: every GPU pair talks over PCIe (VM topology files often omit the "
                        "NVLink/NVSwitch fabric NCCL discovers at run time)");
  }
  if (nodes > 1) {
    if (no_gdr.size() < nccl_.nics.size()) {
      m_.notes_.push_back("GPUDirect RDMA assumed where the file does not rule it out: GPU <-> NIC traffic turns at "
                          "their lowest common PCIe ancestor");
    }
    if (!no_gdr.empty()) {
      m_.notes_.push_back("gdr=0 for " + join(no_gdr, ", ") + ": GPU <-> NIC traffic bounces through the NIC's CPU "
                          "memory");
    }
    if (!unknown_speed.empty()) {
      m_.notes_.push_back("no <net speed> for " + join(unknown_speed, ", ") +
                          ": only the NIC's PCIe link limits it, not the network port");
    }
  }
  if (!m_.symmetric_) {
    m_.notes_.push_back("some links differ by direction: a ring and its reverse are searched separately");
  }
  return std::move(m_);
}

Result<PathModel> PathModel::build(const hw::NcclTopology& topology, std::vector<int> gpus, int nodes) {
  PathModelBuilder builder(topology);
  return builder.build(std::move(gpus), nodes);
}

int PathModel::local_of(int device) const {
  const auto it = std::lower_bound(gpus_.begin(), gpus_.end(), device);
  return it != gpus_.end() && *it == device ? static_cast<int>(it - gpus_.begin()) : -1;
}

void PathModel::streams(PathKind kind, std::span<const int> order, int nic_in, int nic_out,
                        std::vector<Stream>& out) const {
  out.clear();
  const int n = static_cast<int>(order.size());
  const int first = order.front();
  const int last = order.back();
  if (kind == PathKind::kRing) {
    if (nodes_ > 1) out.push_back({gpu_count() + nic_in, first, 1});
    for (int k = 0; k + 1 < n; ++k) out.push_back({order[static_cast<size_t>(k)], order[static_cast<size_t>(k + 1)], 1});
    if (nodes_ > 1) {
      out.push_back({last, gpu_count() + nic_out, 1});
    } else {
      out.push_back({last, first, 1});
    }
    return;
  }
  if (nodes_ > 1) {
    // The chain head carries the node's double-binary-tree traffic: interior in one tree, a leaf
    // in the other, two half-vector streams each way on top of the chain's own.
    out.push_back({gpu_count() + nic_in, first, 2});
    out.push_back({first, gpu_count() + nic_in, 2});
  }
  for (int k = 0; k + 1 < n; ++k) {
    out.push_back({order[static_cast<size_t>(k)], order[static_cast<size_t>(k + 1)], 1});
    out.push_back({order[static_cast<size_t>(k + 1)], order[static_cast<size_t>(k)], 1});
  }
}

int PathModel::nearest_nic(int gpu, bool to_nic) const {
  int best = 0;
  size_t best_hops = SIZE_MAX;
  for (int k = 0; k < nic_count(); ++k) {
    const Route& r = to_nic ? route(gpu, gpu_count() + k) : route(gpu_count() + k, gpu);
    if (r.links.size() < best_hops) {
      best_hops = r.links.size();
      best = k;
    }
  }
  return best;
}

std::string PathModel::describe_link(int link) const {
  const PathLink& l = links_[static_cast<size_t>(link)];
  return l.src + "->" + l.dst + " (" + l.kind + " " + format_bandwidth(l.capacity) + ")";
}

// ---------------------------------------------------------------------------------------------
// Scoring and searching.

class PathSearcher {
 public:
  struct Score {
    double bottleneck = 0;  // B/s
    int link = -1;
    int load = 0;
    int at_bottleneck = 0;
    double load_per_capacity = 0;
    int smp = 0;
  };
  struct Entry {
    Score score;
    std::vector<int> order;  // local positions
    int nic_in = -1;
    int nic_out = -1;
  };

  PathSearcher(const PathModel& model, PathKind kind, int top_k)
      : m_(model), kind_(kind), top_k_(top_k), load_(model.links_.size(), 0) {}

  Score score(std::span<const int> order, int nic_in, int nic_out);
  // Scores a canonical candidate and offers it to the top-K list.
  Score offer(const std::vector<int>& order, int nic_in, int nic_out);
  void canonicalize(std::vector<int>& order, int& nic_in, int& nic_out) const;
  double exhaustive_count() const;
  void exhaustive(const Score& reference);
  void heuristic(uint64_t seed, const Entry& start);
  PathCandidate candidate(const Entry& e) const;

  const std::vector<Entry>& top() const { return top_; }
  int64_t evaluated() const { return evaluated_; }
  int64_t better_than_reference() const { return better_than_reference_; }

  static bool better_score(const Score& a, const Score& b);
  static bool better(const Entry& a, const Entry& b);

 private:
  Entry local_search(Entry current);

  const PathModel& m_;
  PathKind kind_;
  int top_k_;
  std::vector<int> load_;
  std::vector<int> touched_;
  std::vector<PathModel::Stream> streams_;
  std::vector<Entry> top_;
  int64_t evaluated_ = 0;
  int64_t better_than_reference_ = 0;
};

PathSearcher::Score PathSearcher::score(std::span<const int> order, int nic_in, int nic_out) {
  m_.streams(kind_, order, nic_in, nic_out, streams_);
  Score s;
  for (const PathModel::Stream& st : streams_) {
    const PathModel::Route& r = m_.route(st.from, st.to);
    if (r.crosses_smp) s.smp += st.weight;
    for (int l : r.links) {
      if (load_[static_cast<size_t>(l)] == 0) touched_.push_back(l);
      load_[static_cast<size_t>(l)] += st.weight;
    }
  }
  s.bottleneck = std::numeric_limits<double>::infinity();
  for (int l : touched_) {
    const int load = load_[static_cast<size_t>(l)];
    // Capacities are exact doubles, so equal ratios divide to equal doubles: ties are exact.
    const double ratio = m_.links_[static_cast<size_t>(l)].capacity.base() / static_cast<double>(load);
    if (ratio < s.bottleneck || (ratio == s.bottleneck && l < s.link)) {
      s.at_bottleneck = ratio < s.bottleneck ? 1 : s.at_bottleneck + 1;
      s.bottleneck = ratio;
      s.link = l;
      s.load = load;
    } else if (ratio == s.bottleneck) {
      ++s.at_bottleneck;
    }
    s.load_per_capacity += static_cast<double>(load) * m_.inverse_capacity_[static_cast<size_t>(l)];
    load_[static_cast<size_t>(l)] = 0;
  }
  touched_.clear();
  ++evaluated_;
  return s;
}

bool PathSearcher::better_score(const Score& a, const Score& b) {
  if (a.bottleneck != b.bottleneck) return a.bottleneck > b.bottleneck;
  if (a.at_bottleneck != b.at_bottleneck) return a.at_bottleneck < b.at_bottleneck;
  const double tol = kTieTolerance * std::max(a.load_per_capacity, b.load_per_capacity);
  if (std::fabs(a.load_per_capacity - b.load_per_capacity) > tol) return a.load_per_capacity < b.load_per_capacity;
  return false;
}

bool PathSearcher::better(const Entry& a, const Entry& b) {
  if (better_score(a.score, b.score)) return true;
  if (better_score(b.score, a.score)) return false;
  if (a.order != b.order) return a.order < b.order;
  if (a.nic_in != b.nic_in) return a.nic_in < b.nic_in;
  return a.nic_out < b.nic_out;
}

PathSearcher::Score PathSearcher::offer(const std::vector<int>& order, int nic_in, int nic_out) {
  const Score s = score(order, nic_in, nic_out);
  if (static_cast<int>(top_.size()) == top_k_) {
    const Entry& worst = top_.back();
    if (better_score(worst.score, s)) return s;
  }
  Entry e{s, order, nic_in, nic_out};
  if (static_cast<int>(top_.size()) == top_k_ && !better(e, top_.back())) return s;
  for (const Entry& t : top_) {
    if (t.order == e.order && t.nic_in == e.nic_in && t.nic_out == e.nic_out) return s;
  }
  const auto pos = std::find_if(top_.begin(), top_.end(), [&](const Entry& t) { return better(e, t); });
  top_.insert(pos, std::move(e));
  if (static_cast<int>(top_.size()) > top_k_) top_.pop_back();
  return s;
}

void PathSearcher::canonicalize(std::vector<int>& order, int& nic_in, int& nic_out) const {
  const bool multi = m_.nodes_ > 1;
  if (kind_ == PathKind::kRing && !multi) {
    // A ring has no start: rotate the lowest GPU to the front.
    std::rotate(order.begin(), std::min_element(order.begin(), order.end()), order.end());
    if (m_.symmetric_ && order.size() >= 3 && order[1] > order.back()) std::reverse(order.begin() + 1, order.end());
    return;
  }
  if (!m_.symmetric_ || (kind_ == PathKind::kChain && multi)) return;  // the head NIC anchors a chain
  std::vector<int> rev(order.rbegin(), order.rend());
  if (kind_ == PathKind::kChain) {
    if (rev < order) order = std::move(rev);
    return;
  }
  if (rev < order || (rev == order && nic_out < nic_in)) {
    order = std::move(rev);
    std::swap(nic_in, nic_out);
  }
}

double PathSearcher::exhaustive_count() const {
  const int n = m_.gpu_count();
  const double nics = m_.nic_count();
  double fact = 1;
  for (int k = 2; k <= n; ++k) fact *= k;
  const double half = m_.symmetric_ ? 0.5 : 1.0;
  if (kind_ == PathKind::kRing) {
    if (m_.nodes_ == 1) return n < 3 ? 1 : fact / n * half;
    return fact * nics * nics * half;
  }
  if (m_.nodes_ == 1) return fact * half;
  return fact * nics;
}

void PathSearcher::exhaustive(const Score& reference) {
  const int n = m_.gpu_count();
  const int nics = m_.nic_count();
  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  auto count = [&](const Score& s) { better_than_reference_ += s.bottleneck > reference.bottleneck; };
  const bool multi = m_.nodes_ > 1;
  if (kind_ == PathKind::kRing && !multi) {
    do {
      if (!m_.symmetric_ || n < 3 || order[1] < order.back()) count(offer(order, -1, -1));
    } while (std::next_permutation(order.begin() + 1, order.end()));
    return;
  }
  do {
    const std::vector<int> rev(order.rbegin(), order.rend());
    const bool mirrored_smaller = m_.symmetric_ && rev < order;
    if (kind_ == PathKind::kChain) {
      if (!multi) {
        if (!mirrored_smaller) count(offer(order, -1, -1));
      } else {
        for (int h = 0; h < nics; ++h) count(offer(order, h, -1));
      }
      continue;
    }
    if (mirrored_smaller) continue;
    for (int in = 0; in < nics; ++in) {
      for (int out = 0; out < nics; ++out) {
        if (m_.symmetric_ && rev == order && out < in) continue;
        count(offer(order, in, out));
      }
    }
  } while (std::next_permutation(order.begin(), order.end()));
}

PathSearcher::Entry PathSearcher::local_search(Entry current) {
  const int n = static_cast<int>(current.order.size());
  const bool multi = m_.nodes_ > 1;
  // A single-node ring keeps its lowest GPU in front; every other shape may move it.
  const int lo = kind_ == PathKind::kRing && !multi ? 1 : 0;
  auto try_move = [&](std::vector<int> order, int nic_in, int nic_out) -> bool {
    canonicalize(order, nic_in, nic_out);
    const Score s = offer(order, nic_in, nic_out);
    Entry cand{s, std::move(order), nic_in, nic_out};
    if (!better(cand, current)) return false;
    current = std::move(cand);
    return true;
  };
  bool improved = true;
  while (improved) {
    improved = false;
    // 2-opt: reverse a segment.
    for (int i = lo; i < n - 1 && !improved; ++i) {
      for (int j = i + 1; j < n && !improved; ++j) {
        std::vector<int> order = current.order;
        std::reverse(order.begin() + i, order.begin() + j + 1);
        improved = try_move(std::move(order), current.nic_in, current.nic_out);
      }
    }
    // or-opt: move one GPU elsewhere.
    for (int i = lo; i < n && !improved; ++i) {
      for (int j = lo; j < n && !improved; ++j) {
        if (i == j) continue;
        std::vector<int> order = current.order;
        const int g = order[static_cast<size_t>(i)];
        order.erase(order.begin() + i);
        order.insert(order.begin() + j, g);
        improved = try_move(std::move(order), current.nic_in, current.nic_out);
      }
    }
    // Where the ring enters and leaves the node (or which NIC the chain head uses).
    for (int k = 0; multi && k < m_.nic_count() && !improved; ++k) {
      improved = try_move(current.order, k, current.nic_out);
      if (!improved && kind_ == PathKind::kRing) improved = try_move(current.order, current.nic_in, k);
    }
  }
  return current;
}

void PathSearcher::heuristic(uint64_t seed, const Entry& start) {
  const int n = m_.gpu_count();
  const bool multi = m_.nodes_ > 1;
  std::vector<Entry> starts = {start};
  // Greedy: from each of the first GPUs, walk to the cheapest unvisited neighbour (sum of
  // 1/capacity over the route, so a same-switch hop beats a socket crossing).
  for (int s = 0; s < std::min(n, kGreedyStarts); ++s) {
    Entry e;
    std::vector<bool> used(static_cast<size_t>(n), false);
    e.order.push_back(s);
    used[static_cast<size_t>(s)] = true;
    for (int step = 1; step < n; ++step) {
      const int u = e.order.back();
      int best = -1;
      for (int v = 0; v < n; ++v) {
        if (used[static_cast<size_t>(v)]) continue;
        if (best < 0 || m_.route(u, v).cost < m_.route(u, best).cost) best = v;
      }
      e.order.push_back(best);
      used[static_cast<size_t>(best)] = true;
    }
    if (multi) {
      e.nic_in = m_.nearest_nic(e.order.front(), false);
      e.nic_out = kind_ == PathKind::kRing ? m_.nearest_nic(e.order.back(), true) : -1;
    }
    starts.push_back(std::move(e));
  }
  RngStream rng(seed, "coll/tccl/heuristic");
  for (int r = 0; r < kRandomRestarts; ++r) {
    Entry e;
    e.order.resize(static_cast<size_t>(n));
    std::iota(e.order.begin(), e.order.end(), 0);
    for (int i = n - 1; i > 0; --i) {
      std::swap(e.order[static_cast<size_t>(i)], e.order[static_cast<size_t>(rng.uniform_int(0, i))]);
    }
    if (multi) {
      e.nic_in = static_cast<int>(rng.uniform_int(0, m_.nic_count() - 1));
      e.nic_out = kind_ == PathKind::kRing ? static_cast<int>(rng.uniform_int(0, m_.nic_count() - 1)) : -1;
    }
    starts.push_back(std::move(e));
  }
  for (Entry& e : starts) {
    canonicalize(e.order, e.nic_in, e.nic_out);
    e.score = offer(e.order, e.nic_in, e.nic_out);
    local_search(std::move(e));
  }
}

PathCandidate PathSearcher::candidate(const Entry& e) const {
  PathCandidate c;
  c.kind = kind_;
  for (int local : e.order) c.gpus.push_back(m_.gpus_[static_cast<size_t>(local)]);
  c.nic_in = e.nic_in;
  c.nic_out = e.nic_out;
  c.bottleneck = Bps(e.score.bottleneck);
  c.bottleneck_link = e.score.link;
  c.bottleneck_load = e.score.load;
  c.links_at_bottleneck = e.score.at_bottleneck;
  c.load_per_capacity = e.score.load_per_capacity;
  c.socket_crossings = e.score.smp;
  const double r = m_.ranks();
  const double bus_factor = 2.0 * (r - 1.0) / r;
  if (kind_ == PathKind::kRing) {
    c.alg_bw = c.bottleneck / bus_factor;
    c.bus_bw = c.bottleneck;
  } else {
    c.alg_bw = c.bottleneck;
    c.bus_bw = c.bottleneck * bus_factor;
  }
  return c;
}

Result<PathCandidate> PathModel::evaluate(PathKind kind, std::span<const int> order, int nic_in, int nic_out) const {
  std::vector<int> local;
  std::vector<bool> seen(gpus_.size(), false);
  for (int device : order) {
    const int p = local_of(device);
    if (p < 0 || seen[static_cast<size_t>(p)]) {
      return invalid_input("order is not a permutation of the selected GPUs",
                           "list every selected GPU once; GPU " + std::to_string(device) +
                               (p < 0 ? " is not selected" : " repeats"));
    }
    seen[static_cast<size_t>(p)] = true;
    local.push_back(p);
  }
  if (local.size() != gpus_.size()) {
    return invalid_input("order lists " + std::to_string(local.size()) + " of " + std::to_string(gpus_.size()) +
                             " selected GPUs",
                         "list every selected GPU once");
  }
  if (nodes_ > 1) {
    const bool need_out = kind == PathKind::kRing;
    if (nic_in < 0 || nic_in >= nic_count() || (need_out && (nic_out < 0 || nic_out >= nic_count()))) {
      return invalid_input("a path across nodes needs its NICs (0-" + std::to_string(nic_count() - 1) + ")",
                           need_out ? "give nic_in and nic_out" : "give the head NIC as nic_in");
    }
    if (!need_out) nic_out = -1;
  } else {
    nic_in = -1;
    nic_out = -1;
  }
  PathSearcher s(*this, kind, 1);
  PathSearcher::Entry e{s.score(local, nic_in, nic_out), std::move(local), nic_in, nic_out};
  return s.candidate(e);
}

PathCandidate PathModel::default_candidate(PathKind kind) const {
  std::vector<int> order(gpus_.size());
  std::iota(order.begin(), order.end(), 0);
  int nic_in = -1;
  int nic_out = -1;
  if (nodes_ > 1) {
    nic_in = nearest_nic(order.front(), false);
    if (kind == PathKind::kRing) nic_out = nearest_nic(order.back(), true);
  }
  PathSearcher s(*this, kind, 1);
  PathSearcher::Entry e{s.score(order, nic_in, nic_out), std::move(order), nic_in, nic_out};
  return s.candidate(e);
}

std::vector<PathTransfer> PathModel::transfers(const PathCandidate& c) const {
  std::vector<int> local;
  for (int device : c.gpus) local.push_back(local_of(device));
  std::vector<Stream> st;
  streams(c.kind, local, c.nic_in, c.nic_out, st);
  auto name = [&](int end) {
    return end < gpu_count() ? gpu_names_[static_cast<size_t>(end)] : nic_names_[static_cast<size_t>(end - gpu_count())];
  };
  std::vector<PathTransfer> out;
  for (const Stream& s : st) {
    const Route& r = route(s.from, s.to);
    out.push_back({.src = name(s.from), .dst = name(s.to), .type = r.type, .links = r.links, .weight = s.weight});
  }
  return out;
}

Result<PathSearchResult> search_paths(const hw::NcclTopology& topology, const PathSearchOptions& options) {
  if (options.top_k < 1 || options.top_k > kMaxTopK) {
    return invalid_input("--top must be from 1 to " + std::to_string(kMaxTopK), "e.g. --top 3", {"--top"});
  }
  MLSYS_ASSIGN_OR_RETURN(PathModel model, PathModel::build(topology, options.gpus, options.nodes));
  PathSearchResult out{.model = std::move(model)};
  const PathModel& m = out.model;
  out.default_ring = m.default_candidate(PathKind::kRing);
  out.default_chain = m.default_candidate(PathKind::kChain);

  PathSearcher rings(m, PathKind::kRing, options.top_k);
  PathSearcher chains(m, PathKind::kChain, options.top_k);
  PathSearchMethod method = options.method;
  const double work = rings.exhaustive_count() + chains.exhaustive_count();
  if (method == PathSearchMethod::kAuto) {
    method = m.gpu_count() <= kAutoExhaustiveGpus && work <= kExhaustiveLimit ? PathSearchMethod::kExhaustive
                                                                              : PathSearchMethod::kHeuristic;
  }
  if (method == PathSearchMethod::kExhaustive && work > kExhaustiveLimit) {
    return invalid_input("exhaustive search over " + count_text(work) + " rings and chains is too many (limit " +
                             count_text(kExhaustiveLimit) + ")",
                         "use --search heuristic, or fewer GPUs with --gpus", {"--search"});
  }
  out.method = method;

  auto entry_of = [](const PathModel& model, PathSearcher& s, const PathCandidate& c) {
    PathSearcher::Entry e;
    for (int device : c.gpus) e.order.push_back(model.local_of(device));
    e.nic_in = c.nic_in;
    e.nic_out = c.nic_out;
    e.score = s.score(e.order, e.nic_in, e.nic_out);
    return e;
  };
  const PathSearcher::Entry ring_default = entry_of(m, rings, out.default_ring);
  const PathSearcher::Entry chain_default = entry_of(m, chains, out.default_chain);
  if (method == PathSearchMethod::kExhaustive) {
    rings.exhaustive(ring_default.score);
    chains.exhaustive(chain_default.score);
    out.rings_better_than_default = rings.better_than_reference();
  } else {
    rings.heuristic(options.seed, ring_default);
    chains.heuristic(options.seed, chain_default);
  }
  for (const auto& e : rings.top()) out.rings.push_back(rings.candidate(e));
  for (const auto& e : chains.top()) out.chains.push_back(chains.candidate(e));
  out.rings_evaluated = rings.evaluated() - 1;  // not counting the default's own scoring
  out.chains_evaluated = chains.evaluated() - 1;
  return out;
}

// ---------------------------------------------------------------------------------------------

Result<std::vector<int>> parse_gpu_selection(std::string_view spec, int gpu_count) {
  const Location where{"--gpus"};
  const std::string hint = gpu_count > 0 ? "e.g. 0-" + std::to_string(gpu_count - 1) + " or 0,2,4 (the file has " +
                                               std::to_string(gpu_count) + " GPUs)"
                                         : "the file has no GPUs";
  auto number = [&](std::string_view text) -> Result<int> {
    text = trim_blanks(text);
    int v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < 0) {
      return invalid_input("bad GPU index '" + std::string(text) + "' in --gpus", hint, where);
    }
    if (v >= gpu_count) {
      return invalid_input("GPU " + std::to_string(v) + " is not in the file", hint, where);
    }
    return v;
  };
  std::vector<int> out;
  if (trim_blanks(spec).empty()) return invalid_input("--gpus is empty", hint, where);
  size_t pos = 0;
  while (pos <= spec.size()) {
    const size_t comma = std::min(spec.find(',', pos), spec.size());
    const std::string_view item = trim_blanks(spec.substr(pos, comma - pos));
    if (item.empty()) return invalid_input("empty item in --gpus '" + std::string(spec) + "'", hint, where);
    const size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      MLSYS_ASSIGN_OR_RETURN(int v, number(item));
      out.push_back(v);
    } else {
      MLSYS_ASSIGN_OR_RETURN(int lo, number(item.substr(0, dash)));
      MLSYS_ASSIGN_OR_RETURN(int hi, number(item.substr(dash + 1)));
      if (hi < lo) {
        return invalid_input("range '" + std::string(item) + "' in --gpus is reversed", "write LOW-HIGH", where);
      }
      for (int v = lo; v <= hi; ++v) out.push_back(v);
    }
    pos = comma + 1;
  }
  std::sort(out.begin(), out.end());
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i] == out[i - 1]) {
      return invalid_input("GPU " + std::to_string(out[i]) + " is listed twice in --gpus", "list each GPU once", where);
    }
  }
  return out;
}

}  // namespace mlsys::coll
