#include "mlsys/hw/topology_builders.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <map>
#include <span>

#include "mlsys/core/strings.h"
#include "mlsys/hw/nccl_topology.h"

namespace mlsys::hw {
namespace {

constexpr int64_t kMaxEndpoints = kMaxBuilderEndpoints;

Status check_link(const LinkSpec& link, std::string_view what) {
  if (!(link.bandwidth > Bandwidth()) || !std::isfinite(link.bandwidth.base())) {
    return invalid_input(std::string(what) + " bandwidth must be positive",
                         "e.g. bw=400Gbps");
  }
  if (link.latency < Time::zero()) {
    return invalid_input(std::string(what) + " latency must not be negative", "e.g. lat=1us");
  }
  return ok_status();
}

Status check_count(int64_t value, std::string_view what) {
  if (value < 1) {
    return invalid_input(std::string(what) + " must be at least 1, got " + std::to_string(value));
  }
  return ok_status();
}

Status check_endpoints(int64_t endpoints) {
  if (endpoints > kMaxEndpoints) {
    return invalid_input("topology would have " + std::to_string(endpoints) + " endpoints",
                         "at most " + std::to_string(kMaxEndpoints) + " are supported");
  }
  return ok_status();
}

std::string dims_text(const std::vector<int>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += 'x';
    s += std::to_string(dims[i]);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Spec-string parsing helpers.

constexpr std::string_view kSpecForms =
    "torus:8x8 | torus:4x4x4 | mesh:8x8 | ring:16 | fattree:k=8 | "
    "leafspine:hosts=32,leaves=4,spines=2[,oversub=2] | rail:nodes=32,gpus=8[,node=dgx-h100]"
    "[,spines=N] | nccl:FILE; all but nccl take ,bw=<bandwidth>,lat=<time>";

Error spec_error(std::string_view spec, std::string message) {
  return invalid_input("bad topology spec '" + std::string(spec) + "': " + std::move(message),
                       "accepted forms: " + std::string(kSpecForms), Location{"--topology", 0});
}

Result<int> parse_positive_int(std::string_view text, std::string_view what, std::string_view spec) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < 1) {
    return spec_error(spec, std::string(what) + " '" + std::string(text) +
                                "' is not a positive whole number");
  }
  return value;
}

// key=value pairs after the positional part; each key at most once, only from `allowed`.
struct SpecArgs {
  std::map<std::string, std::string, std::less<>> values;
  std::optional<std::string_view> get(std::string_view key) const {
    auto it = values.find(key);
    if (it == values.end()) return std::nullopt;
    return std::string_view(it->second);
  }
};

Result<SpecArgs> parse_args(std::span<const std::string_view> parts,
                            const std::vector<std::string>& allowed, std::string_view spec) {
  SpecArgs args;
  for (std::string_view part : parts) {
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return spec_error(spec, "'" + std::string(part) + "' is not key=value");
    }
    const std::string key(trim_blanks(part.substr(0, eq)));
    const std::string value(trim_blanks(part.substr(eq + 1)));
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string message = "unknown key '" + key + "' (accepted: " + join(allowed, ", ") + ")";
      if (std::string dym = did_you_mean(key, allowed); !dym.empty()) message += "; " + dym;
      return spec_error(spec, message);
    }
    if (!args.values.emplace(key, value).second) {
      return spec_error(spec, "key '" + key + "' given twice");
    }
  }
  return args;
}

Result<int> required_int(const SpecArgs& args, std::string_view key, std::string_view spec) {
  std::optional<std::string_view> v = args.get(key);
  if (!v) return spec_error(spec, "missing " + std::string(key) + "=");
  return parse_positive_int(*v, key, spec);
}

// Applies bw= and lat= overrides to `link`.
Status apply_link_overrides(const SpecArgs& args, LinkSpec& link, std::string_view spec) {
  if (std::optional<std::string_view> bw = args.get("bw")) {
    Result<Bandwidth> parsed = parse_bandwidth(*bw);
    if (!parsed) return spec_error(spec, "bw: " + parsed.error().message());
    link.bandwidth = *parsed;
  }
  if (std::optional<std::string_view> lat = args.get("lat")) {
    Result<Time> parsed = parse_time(*lat);
    if (!parsed) return spec_error(spec, "lat: " + parsed.error().message());
    link.latency = *parsed;
  }
  return ok_status();
}

Result<double> parse_oversubscription(std::string_view text, std::string_view spec) {
  // "2" or "2:1".
  std::string_view num = text;
  std::string_view den = "1";
  if (const size_t colon = text.find(':'); colon != std::string_view::npos) {
    num = text.substr(0, colon);
    den = text.substr(colon + 1);
  }
  double a = 0.0;
  double b = 0.0;
  auto r1 = std::from_chars(num.data(), num.data() + num.size(), a);
  auto r2 = std::from_chars(den.data(), den.data() + den.size(), b);
  if (num.empty() || den.empty() || r1.ec != std::errc() || r1.ptr != num.data() + num.size() ||
      r2.ec != std::errc() || r2.ptr != den.data() + den.size() || !(a > 0) || !(b > 0) ||
      !std::isfinite(a / b)) {
    return spec_error(spec, "oversub '" + std::string(text) + "' is not a positive ratio (2 or 2:1)");
  }
  return a / b;
}

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t comma = text.find(',');
    parts.push_back(trim_blanks(text.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return parts;
}

const LinkSpec kDefaultNetworkLink{.bandwidth = Gbps(400), .latency = us(1)};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Builders

Result<Topology> build_torus(const std::vector<int>& dims, LinkSpec link, bool wrap) {
  if (dims.empty()) return invalid_input("a torus needs at least one dimension", "e.g. 8x8");
  int64_t count = 1;
  for (int d : dims) {
    MLSYS_RETURN_IF_ERROR(check_count(d, "torus dimension"));
    count *= d;
    MLSYS_RETURN_IF_ERROR(check_endpoints(count));
  }
  MLSYS_RETURN_IF_ERROR(check_link(link, "torus link"));

  Topology t(std::string(wrap ? "torus:" : "mesh:") + dims_text(dims));
  const int n = static_cast<int>(count);
  for (int r = 0; r < n; ++r) {
    t.add_endpoint(t.add_node(NodeKind::kGpu, "npu" + std::to_string(r), r));
  }
  // stride[i]: rank distance between neighbours along dimension i (row-major, last fastest).
  std::vector<int> stride(dims.size(), 1);
  for (size_t i = dims.size() - 1; i > 0; --i) stride[i - 1] = stride[i] * dims[i];
  for (int r = 0; r < n; ++r) {
    for (size_t i = 0; i < dims.size(); ++i) {
      const int d = dims[i];
      const int c = (r / stride[i]) % d;
      const int base = r - c * stride[i];
      if (c + 1 < d || (wrap && d > 2)) {
        t.add_link(r, base + ((c + 1) % d) * stride[i], link.bandwidth, link.latency, LinkKind::kIci);
      }
      if (c > 0 || (wrap && d > 2)) {
        t.add_link(r, base + ((c + d - 1) % d) * stride[i], link.bandwidth, link.latency,
                   LinkKind::kIci);
      }
    }
  }
  t.set_torus(TorusShape{.dims = dims, .wrap = wrap});
  return t;
}

Result<Topology> build_fat_tree(int k, LinkSpec link) {
  if (k < 2 || k % 2 != 0) {
    return invalid_input("fat-tree k must be an even number >= 2, got " + std::to_string(k),
                         "k is the switch radix: k=4 gives 16 hosts, k=8 gives 128");
  }
  const int64_t hosts = static_cast<int64_t>(k) * k * k / 4;
  MLSYS_RETURN_IF_ERROR(check_endpoints(hosts));
  MLSYS_RETURN_IF_ERROR(check_link(link, "fat-tree link"));

  const int half = k / 2;
  Topology t("fattree:k=" + std::to_string(k));
  const auto bw = link.bandwidth;
  const auto lat = link.latency;
  for (int h = 0; h < static_cast<int>(hosts); ++h) {
    t.add_endpoint(t.add_node(NodeKind::kGpu, "host" + std::to_string(h), h));
  }
  std::vector<NodeId> core;
  for (int c = 0; c < half * half; ++c) {
    core.push_back(t.add_node(NodeKind::kSwitch, "core" + std::to_string(c)));
  }
  for (int p = 0; p < k; ++p) {
    std::vector<NodeId> edge;
    std::vector<NodeId> agg;
    const std::string pod = "pod" + std::to_string(p) + "/";
    for (int e = 0; e < half; ++e) edge.push_back(t.add_node(NodeKind::kSwitch, pod + "edge" + std::to_string(e)));
    for (int a = 0; a < half; ++a) agg.push_back(t.add_node(NodeKind::kSwitch, pod + "agg" + std::to_string(a)));
    for (int e = 0; e < half; ++e) {
      for (int port = 0; port < half; ++port) {
        const NodeId host = (p * half + e) * half + port;
        t.add_duplex(host, edge[static_cast<size_t>(e)], bw, lat, LinkKind::kNetwork);
      }
      for (int a = 0; a < half; ++a) {
        t.add_duplex(edge[static_cast<size_t>(e)], agg[static_cast<size_t>(a)], bw, lat, LinkKind::kNetwork);
      }
    }
    // Aggregation switch a reaches core switches a*k/2 .. a*k/2 + k/2 - 1.
    for (int a = 0; a < half; ++a) {
      for (int m = 0; m < half; ++m) {
        t.add_duplex(agg[static_cast<size_t>(a)], core[static_cast<size_t>(a * half + m)], bw, lat,
                     LinkKind::kNetwork);
      }
    }
  }
  return t;
}

Result<Topology> build_leaf_spine(int hosts_per_leaf, int leaves, int spines, LinkSpec host_link,
                                  LinkSpec uplink, double oversubscription) {
  MLSYS_RETURN_IF_ERROR(check_count(hosts_per_leaf, "hosts per leaf"));
  MLSYS_RETURN_IF_ERROR(check_count(leaves, "leaf count"));
  MLSYS_RETURN_IF_ERROR(check_count(spines, "spine count"));
  MLSYS_RETURN_IF_ERROR(check_endpoints(static_cast<int64_t>(hosts_per_leaf) * leaves));
  if (static_cast<int64_t>(leaves) * spines > kMaxEndpoints) {
    return invalid_input("too many leaf-spine cables (" + std::to_string(leaves) + " x " +
                         std::to_string(spines) + ")");
  }
  MLSYS_RETURN_IF_ERROR(check_link(host_link, "host link"));
  if (!(oversubscription > 0) || !std::isfinite(oversubscription)) {
    return invalid_input("oversubscription must be a positive number", "1 = full bisection, 2 = 2:1");
  }
  if (uplink.latency < Time::zero()) return invalid_input("uplink latency must not be negative");
  if (uplink.bandwidth > Bandwidth()) {
    if (oversubscription != 1.0) {
      return invalid_input("give either an uplink bandwidth or an oversubscription, not both",
                           "set the uplink bandwidth to zero to derive it from the oversubscription");
    }
  } else if (uplink.bandwidth < Bandwidth()) {
    return invalid_input("uplink bandwidth must not be negative");
  } else {
    uplink.bandwidth = host_link.bandwidth * (static_cast<double>(hosts_per_leaf) /
                                              (static_cast<double>(spines) * oversubscription));
  }

  Topology t("leafspine:hosts=" + std::to_string(hosts_per_leaf * leaves) +
             ",leaves=" + std::to_string(leaves) + ",spines=" + std::to_string(spines));
  const int hosts = hosts_per_leaf * leaves;
  for (int h = 0; h < hosts; ++h) {
    t.add_endpoint(t.add_node(NodeKind::kGpu, "host" + std::to_string(h), h));
  }
  std::vector<NodeId> spine_ids;
  for (int s = 0; s < spines; ++s) spine_ids.push_back(t.add_node(NodeKind::kSwitch, "spine" + std::to_string(s)));
  for (int l = 0; l < leaves; ++l) {
    const NodeId leaf = t.add_node(NodeKind::kSwitch, "leaf" + std::to_string(l));
    for (int i = 0; i < hosts_per_leaf; ++i) {
      t.add_duplex(l * hosts_per_leaf + i, leaf, host_link.bandwidth, host_link.latency,
                   LinkKind::kNetwork);
    }
    for (NodeId s : spine_ids) t.add_duplex(leaf, s, uplink.bandwidth, uplink.latency, LinkKind::kNetwork);
  }
  return t;
}

Result<Topology> build_rail_optimized(int nodes, int gpus_per_node, const NodeSpec& node, int spines) {
  if (gpus_per_node == 0) gpus_per_node = node.gpus;
  MLSYS_RETURN_IF_ERROR(check_count(nodes, "node count"));
  MLSYS_RETURN_IF_ERROR(check_count(gpus_per_node, "GPUs per node"));
  if (spines < 0) return invalid_input("spine count must not be negative", "0 picks full bisection");
  if (spines == 0) spines = nodes;
  MLSYS_RETURN_IF_ERROR(check_endpoints(static_cast<int64_t>(nodes) * gpus_per_node));
  if (static_cast<int64_t>(gpus_per_node) * spines > kMaxEndpoints) {
    return invalid_input("too many rail-spine cables (" + std::to_string(gpus_per_node) + " x " +
                         std::to_string(spines) + ")");
  }
  if (!node.nvswitch || node.nics < 1) {
    return invalid_input("node type '" + node.name + "' has no NVSwitch or no NICs",
                         "a rail-optimised cluster needs NVSwitch servers with one NIC per GPU, "
                         "e.g. dgx-h100 or dgx-a100");
  }
  MLSYS_RETURN_IF_ERROR(check_link(node.gpu_link, "GPU link"));
  MLSYS_RETURN_IF_ERROR(check_link(node.nic_link, "NIC link"));
  MLSYS_RETURN_IF_ERROR(check_link(node.pcie, "PCIe link"));

  Topology t("rail:nodes=" + std::to_string(nodes) + ",gpus=" + std::to_string(gpus_per_node) +
             ",node=" + node.name);
  std::vector<NodeId> nics(static_cast<size_t>(nodes) * static_cast<size_t>(gpus_per_node));
  for (int n = 0; n < nodes; ++n) {
    const std::string prefix = "node" + std::to_string(n) + "/";
    const NodeId sw = t.add_node(NodeKind::kNvSwitch, prefix + "nvswitch", n);
    for (int g = 0; g < gpus_per_node; ++g) {
      const NodeId gpu = t.add_node(NodeKind::kGpu, prefix + "gpu" + std::to_string(g), n);
      t.add_endpoint(gpu);
      t.add_duplex(gpu, sw, node.gpu_link.bandwidth, node.gpu_link.latency, node.gpu_link_kind);
      const NodeId nic = t.add_node(NodeKind::kNic, prefix + "nic" + std::to_string(g), n);
      t.add_duplex(gpu, nic, node.pcie.bandwidth, node.pcie.latency, LinkKind::kPcie);
      nics[static_cast<size_t>(n) * static_cast<size_t>(gpus_per_node) + static_cast<size_t>(g)] = nic;
    }
  }
  std::vector<NodeId> spine_ids;
  for (int s = 0; s < spines; ++s) spine_ids.push_back(t.add_node(NodeKind::kSwitch, "spine" + std::to_string(s)));
  const auto bw = node.nic_link.bandwidth;
  const auto lat = node.nic_link.latency;
  for (int g = 0; g < gpus_per_node; ++g) {
    const NodeId leaf = t.add_node(NodeKind::kSwitch, "rail" + std::to_string(g));
    for (int n = 0; n < nodes; ++n) {
      t.add_duplex(nics[static_cast<size_t>(n) * static_cast<size_t>(gpus_per_node) + static_cast<size_t>(g)],
                   leaf, bw, lat, LinkKind::kNetwork);
    }
    for (NodeId s : spine_ids) t.add_duplex(leaf, s, bw, lat, LinkKind::kNetwork);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Spec strings

std::string_view topology_spec_forms() { return kSpecForms; }

Result<Topology> parse_topology_spec(std::string_view spec_in) {
  const std::string_view spec = trim_blanks(spec_in);
  const size_t colon = spec.find(':');
  if (colon == std::string_view::npos) {
    return spec_error(spec, "missing '<kind>:' prefix");
  }
  const std::string kind(trim_blanks(spec.substr(0, colon)));
  const std::string_view body = spec.substr(colon + 1);

  if (kind == "nccl") {
    const std::string path(trim_blanks(body));
    if (path.empty()) return spec_error(spec, "nccl: needs a file path");
    return import_nccl_topology(path);
  }

  const std::vector<std::string_view> parts = split_commas(body);
  const std::vector<std::string> kinds = {"torus", "mesh", "ring", "fattree", "leafspine", "rail", "nccl"};
  if (kind == "torus" || kind == "mesh" || kind == "ring") {
    std::vector<int> dims;
    std::string_view shape = parts.front();
    if (shape.empty() || shape.find('=') != std::string_view::npos) {
      return spec_error(spec, kind + ": needs the shape first, e.g. " +
                                  (kind == "ring" ? std::string("ring:16") : kind + ":8x8"));
    }
    while (true) {
      const size_t x = shape.find('x');
      MLSYS_ASSIGN_OR_RETURN(int d, parse_positive_int(trim_blanks(shape.substr(0, x)), "dimension", spec));
      dims.push_back(d);
      if (x == std::string_view::npos) break;
      shape.remove_prefix(x + 1);
    }
    if (kind == "ring" && dims.size() != 1) {
      return spec_error(spec, "a ring has one dimension; use torus:AxB for more");
    }
    MLSYS_ASSIGN_OR_RETURN(SpecArgs args, parse_args(std::span(parts).subspan(1), {"bw", "lat"}, spec));
    LinkSpec link = kDefaultNetworkLink;
    MLSYS_RETURN_IF_ERROR(apply_link_overrides(args, link, spec));
    Result<Topology> t = build_torus(dims, link, kind != "mesh");
    if (!t) return spec_error(spec, t.error().message());
    return t;
  }
  if (kind == "fattree") {
    MLSYS_ASSIGN_OR_RETURN(SpecArgs args, parse_args(parts, {"k", "bw", "lat"}, spec));
    MLSYS_ASSIGN_OR_RETURN(int k, required_int(args, "k", spec));
    LinkSpec link = kDefaultNetworkLink;
    MLSYS_RETURN_IF_ERROR(apply_link_overrides(args, link, spec));
    Result<Topology> t = build_fat_tree(k, link);
    if (!t) return spec_error(spec, t.error().message());
    return t;
  }
  if (kind == "leafspine") {
    MLSYS_ASSIGN_OR_RETURN(
        SpecArgs args, parse_args(parts, {"hosts", "leaves", "spines", "oversub", "bw", "lat"}, spec));
    MLSYS_ASSIGN_OR_RETURN(int hosts, required_int(args, "hosts", spec));
    MLSYS_ASSIGN_OR_RETURN(int leaves, required_int(args, "leaves", spec));
    MLSYS_ASSIGN_OR_RETURN(int spines, required_int(args, "spines", spec));
    double oversub = 1.0;
    if (std::optional<std::string_view> o = args.get("oversub")) {
      MLSYS_ASSIGN_OR_RETURN(oversub, parse_oversubscription(*o, spec));
    }
    if (hosts % leaves != 0) {
      return spec_error(spec, "hosts=" + std::to_string(hosts) + " is not a multiple of leaves=" +
                                  std::to_string(leaves));
    }
    LinkSpec link = kDefaultNetworkLink;
    MLSYS_RETURN_IF_ERROR(apply_link_overrides(args, link, spec));
    Result<Topology> t = build_leaf_spine(hosts / leaves, leaves, spines, link,
                                          LinkSpec{.bandwidth = Bandwidth(), .latency = link.latency},
                                          oversub);
    if (!t) return spec_error(spec, t.error().message());
    return t;
  }
  if (kind == "rail") {
    MLSYS_ASSIGN_OR_RETURN(SpecArgs args,
                           parse_args(parts, {"nodes", "gpus", "node", "spines", "bw", "lat"}, spec));
    MLSYS_ASSIGN_OR_RETURN(int nodes, required_int(args, "nodes", spec));
    int gpus = 0;
    if (args.get("gpus")) {
      MLSYS_ASSIGN_OR_RETURN(gpus, required_int(args, "gpus", spec));
    }
    int spines = 0;
    if (args.get("spines")) {
      MLSYS_ASSIGN_OR_RETURN(spines, required_int(args, "spines", spec));
    }
    Result<NodeSpec> node = find_node_spec(args.get("node").value_or("dgx-h100"));
    if (!node) return spec_error(spec, "node: " + node.error().message() + " (" + node.error().hint() + ")");
    MLSYS_RETURN_IF_ERROR(apply_link_overrides(args, node->nic_link, spec));
    Result<Topology> t = build_rail_optimized(nodes, gpus, *node, spines);
    if (!t) return spec_error(spec, t.error().message());
    return t;
  }
  std::string message = "unknown kind '" + kind + "'";
  if (std::string dym = did_you_mean(kind, kinds); !dym.empty()) message += "; " + dym;
  return spec_error(spec, message);
}

// ---------------------------------------------------------------------------------------------
// Summary

TopologySummary summarize(const Topology& topology, int max_sources) {
  TopologySummary s;
  s.name = topology.name();
  s.nodes = topology.node_count();
  s.links = topology.link_count();
  s.endpoints = topology.endpoint_count();
  s.torus = topology.torus();

  std::map<NodeKind, int> node_kinds;
  for (const Node& n : topology.nodes()) ++node_kinds[n.kind];
  for (const auto& [kind, count] : node_kinds) s.node_kinds.push_back({kind, count});

  std::map<LinkKind, LinkKindStats> link_kinds;
  for (const Link& l : topology.links()) {
    auto [it, inserted] = link_kinds.try_emplace(
        l.kind, LinkKindStats{l.kind, 0, l.bandwidth, l.bandwidth, l.latency, l.latency});
    LinkKindStats& st = it->second;
    ++st.count;
    st.min_bandwidth = std::min(st.min_bandwidth, l.bandwidth);
    st.max_bandwidth = std::max(st.max_bandwidth, l.bandwidth);
    st.min_latency = std::min(st.min_latency, l.latency);
    st.max_latency = std::max(st.max_latency, l.latency);
  }
  for (const auto& [kind, st] : link_kinds) s.link_kinds.push_back(st);

  const int p = s.endpoints;
  if (p == 0) return s;
  bool first = true;
  for (int r = 0; r < p; ++r) {
    Bandwidth out;
    for (LinkId l : topology.out_links(topology.endpoint(r))) out += topology.link(l).bandwidth;
    if (first || out < s.min_injection) s.min_injection = out;
    first = false;
  }

  const int sources = std::max(1, std::min(p, max_sources));
  std::vector<int> dist(static_cast<size_t>(s.nodes));
  std::deque<NodeId> queue;
  for (int i = 0; i < sources; ++i) {
    const int rank = static_cast<int>(static_cast<int64_t>(i) * p / sources);
    std::fill(dist.begin(), dist.end(), -1);
    const NodeId src = topology.endpoint(rank);
    dist[static_cast<size_t>(src)] = 0;
    queue.assign(1, src);
    while (!queue.empty()) {
      const NodeId cur = queue.front();
      queue.pop_front();
      for (LinkId l : topology.out_links(cur)) {
        const NodeId next = topology.link(l).dst;
        if (dist[static_cast<size_t>(next)] < 0) {
          dist[static_cast<size_t>(next)] = dist[static_cast<size_t>(cur)] + 1;
          queue.push_back(next);
        }
      }
    }
    for (int r = 0; r < p; ++r) {
      const int d = dist[static_cast<size_t>(topology.endpoint(r))];
      if (d < 0) {
        s.endpoints_connected = false;
      } else {
        s.diameter_hops = std::max(s.diameter_hops, d);
      }
    }
  }
  s.diameter_sources = sources;

  if (s.torus && !s.torus->dims.empty()) {
    const std::vector<int>& dims = s.torus->dims;
    const int largest = *std::max_element(dims.begin(), dims.end());
    Bandwidth slowest;
    bool any = false;
    for (const Link& l : topology.links()) {
      if (!any || l.bandwidth < slowest) slowest = l.bandwidth;
      any = true;
    }
    if (largest > 1 && any) {
      // A cut across the largest dimension crosses every ring of that dimension once (mesh, or
      // a size-2 ring) or twice (a wrapped ring of size > 2).
      const int64_t rings = p / largest;
      const int per_ring = s.torus->wrap && largest > 2 ? 2 : 1;
      s.bisection_bandwidth = slowest * static_cast<double>(rings * per_ring);
    }
  }
  return s;
}

}  // namespace mlsys::hw
