#include "mlsys/hw/nccl_topology.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <set>

#include <pugixml.hpp>

#include "mlsys/core/file_io.h"
#include "mlsys/core/strings.h"
#include "mlsys/hw/catalog.h"

namespace mlsys::hw {
namespace {

// Deeper PCIe nesting than any real machine; bounds recursion on hostile input.
constexpr int kMaxPciDepth = 64;
constexpr int kMaxNvLinkCount = 64;
const Time kSmpHop = nsec(200);

enum class DevKind { kBridge, kGpu, kNic, kNvSwitch, kOther };

struct NvLinkDecl {
  std::string target;
  int count = 0;
  std::optional<uint32_t> tclass;
  int line = 0;
};

struct CpuDecl {
  int numaid = -1;
  std::string vendor;
  int model = -1;
  int line = 0;
};

struct Device {
  DevKind kind = DevKind::kOther;
  std::string busid;  // lower case; "" for a bare nic
  int cpu = 0;        // index into cpus
  int parent = -1;    // index into devices; -1: attached to the cpu
  Bandwidth pcie_bw;
  int line = 0;
  int children = 0;
  // gpu element
  bool has_gpu = false;
  int dev = -1;
  int sm = -1;
  int rank = -1;
  bool gdr = false;
  std::vector<NvLinkDecl> nvlinks;
  // nic/net elements
  std::string net_name;
  int net_dev = -1;
  double speed_mbps = 0.0;
  bool net_gdr = false;
  bool has_net = false;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view file) : text_(text), file_(file) {
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') newlines_.push_back(i);
    }
  }

  Result<NcclTopology> run();

 private:
  int line_of(ptrdiff_t offset) const {
    if (offset < 0) return 0;
    return static_cast<int>(std::upper_bound(newlines_.begin(), newlines_.end(),
                                             static_cast<size_t>(offset)) -
                            newlines_.begin()) +
           1;
  }
  int line_of(const pugi::xml_node& node) const { return line_of(node.offset_debug()); }
  Location at(const pugi::xml_node& node) const { return Location{file_, line_of(node)}; }
  Location at_line(int line) const { return Location{file_, line}; }

  Error bad(const pugi::xml_node& node, std::string message, std::string hint = {}) const {
    return invalid_input(std::move(message), std::move(hint), at(node));
  }

  // Attribute helpers. A missing attribute is nullopt; a present but malformed one an error.
  Result<std::optional<int64_t>> int_attr(const pugi::xml_node& node, const char* name,
                                          int64_t min, int64_t max) const;
  Result<std::optional<uint32_t>> hex_attr(const pugi::xml_node& node, const char* name) const;
  Result<Bandwidth> pcie_attrs(const pugi::xml_node& node) const;

  Status walk_cpu(const pugi::xml_node& node);
  Status walk_pci(const pugi::xml_node& node, int cpu, int parent, int depth);
  Status read_gpu(const pugi::xml_node& node, Device& dev);
  Status read_nic(const pugi::xml_node& node, Device& dev);
  Status unknown_child(const pugi::xml_node& parent, const pugi::xml_node& child,
                       std::string_view accepted) const;

  Result<NcclTopology> build();

  std::string_view text_;
  std::string file_;
  std::vector<size_t> newlines_;
  std::vector<CpuDecl> cpus_;
  std::vector<Device> devices_;
  std::map<std::string, int> bus_line_;  // bus id -> line of its <pci>
  std::vector<std::string> notes_;
};

Status Parser::unknown_child(const pugi::xml_node& parent, const pugi::xml_node& child,
                             std::string_view accepted) const {
  return bad(child, "unexpected <" + std::string(child.name()) + "> inside <" + parent.name() + ">",
             "<" + std::string(parent.name()) + "> may contain " + std::string(accepted));
}

Result<std::optional<int64_t>> Parser::int_attr(const pugi::xml_node& node, const char* name,
                                                int64_t min, int64_t max) const {
  const pugi::xml_attribute attr = node.attribute(name);
  if (!attr) return std::optional<int64_t>{};
  const std::string_view text = trim_blanks(attr.value());
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < min ||
      value > max) {
    return bad(node, "bad " + std::string(name) + "=\"" + attr.value() + "\" on <" + node.name() + ">",
               "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return std::optional<int64_t>{value};
}

Result<std::optional<uint32_t>> Parser::hex_attr(const pugi::xml_node& node, const char* name) const {
  const pugi::xml_attribute attr = node.attribute(name);
  if (!attr) return std::optional<uint32_t>{};
  std::string_view text = trim_blanks(attr.value());
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  uint32_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return bad(node, "bad " + std::string(name) + "=\"" + attr.value() + "\" on <" + node.name() + ">",
               "expected a hexadecimal PCI class such as 0x060400");
  }
  return std::optional<uint32_t>{value};
}

Result<Bandwidth> Parser::pcie_attrs(const pugi::xml_node& node) const {
  int generation = 3;  // NCCL's fallback when the speed is missing or empty
  const std::string_view speed = trim_blanks(node.attribute("link_speed").value());
  if (!speed.empty()) {
    // "16 GT/s" or "32.0 GT/s PCIe"
    double gts = 0.0;
    auto [ptr, ec] = std::from_chars(speed.data(), speed.data() + speed.size(), gts);
    std::string_view rest = ec == std::errc() ? trim_blanks(speed.substr(static_cast<size_t>(ptr - speed.data())))
                                              : std::string_view();
    if (rest.starts_with("GT/s")) rest = trim_blanks(rest.substr(4));
    else rest = "?";
    constexpr std::array<double, 6> kRates = {2.5, 5, 8, 16, 32, 64};
    const auto it = std::find(kRates.begin(), kRates.end(), gts);
    if (ec != std::errc() || !(rest.empty() || rest == "PCIe") || it == kRates.end()) {
      return bad(node, "bad link_speed=\"" + std::string(speed) + "\" on <pci>",
                 "expected a PCIe rate such as \"16 GT/s\" or \"32.0 GT/s PCIe\" (2.5, 5, 8, 16, 32 "
                 "or 64 GT/s)");
    }
    generation = static_cast<int>(it - kRates.begin()) + 1;
  }
  MLSYS_ASSIGN_OR_RETURN(std::optional<int64_t> width, int_attr(node, "link_width", 0, 32));
  const int lanes = width.value_or(0) == 0 ? 16 : static_cast<int>(*width);  // NCCL: 0 means x16
  Result<Bandwidth> bw = pcie_bandwidth(generation, lanes);
  if (!bw) return bw.error().at(at(node));
  return bw;
}

Status Parser::walk_cpu(const pugi::xml_node& node) {
  CpuDecl cpu;
  cpu.line = line_of(node);
  MLSYS_ASSIGN_OR_RETURN(std::optional<int64_t> numaid, int_attr(node, "numaid", -1, 1 << 20));
  if (!numaid) return bad(node, "<cpu> without numaid", "every <cpu> needs numaid=\"N\"");
  cpu.numaid = static_cast<int>(*numaid);
  for (const CpuDecl& other : cpus_) {
    if (cpu.numaid >= 0 && other.numaid == cpu.numaid) {
      return bad(node, "two <cpu> elements with numaid " + std::to_string(cpu.numaid),
                 "the first is on line " + std::to_string(other.line));
    }
  }
  cpu.vendor = node.attribute("vendor").value();
  MLSYS_ASSIGN_OR_RETURN(std::optional<int64_t> model, int_attr(node, "modelid", 0, 1 << 20));
  cpu.model = static_cast<int>(model.value_or(-1));
  MLSYS_RETURN_IF_ERROR(int_attr(node, "familyid", 0, 1 << 20));
  cpus_.push_back(cpu);
  const int index = static_cast<int>(cpus_.size()) - 1;

  for (const pugi::xml_node& child : node.children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = child.name();
    if (name == "pci") {
      MLSYS_RETURN_IF_ERROR(walk_pci(child, index, -1, 1));
    } else if (name == "nic") {
      // A NIC without a PCIe location (virtual NICs): hung off the CPU at the default PCIe rate.
      Device nic;
      nic.kind = DevKind::kNic;
      nic.cpu = index;
      nic.line = line_of(child);
      nic.pcie_bw = *pcie_bandwidth(3, 16);
      MLSYS_RETURN_IF_ERROR(read_nic(child, nic));
      devices_.push_back(std::move(nic));
    } else {
      MLSYS_RETURN_IF_ERROR(unknown_child(node, child, "<pci> and <nic>"));
    }
  }
  return ok_status();
}

Status Parser::walk_pci(const pugi::xml_node& node, int cpu, int parent, int depth) {
  if (depth > kMaxPciDepth) {
    return bad(node, "PCIe tree nested deeper than " + std::to_string(kMaxPciDepth) + " levels");
  }
  Device d;
  d.cpu = cpu;
  d.parent = parent;
  d.line = line_of(node);
  d.busid = lower(trim_blanks(node.attribute("busid").value()));
  if (d.busid.empty()) return bad(node, "<pci> without busid", "every <pci> needs busid=\"0000:00:00.0\"");
  if (auto [it, inserted] = bus_line_.emplace(d.busid, d.line); !inserted) {
    return bad(node, "bus id " + d.busid + " appears twice",
               "the first is on line " + std::to_string(it->second));
  }
  MLSYS_ASSIGN_OR_RETURN(std::optional<uint32_t> cls, hex_attr(node, "class"));
  if (!cls) {
    d.kind = DevKind::kBridge;  // VM files list bridges by bus id only
  } else {
    switch (*cls) {
      case 0x060400: d.kind = DevKind::kBridge; break;
      case 0x030000:
      case 0x030200: d.kind = DevKind::kGpu; break;
      case 0x020000:
      case 0x020700: d.kind = DevKind::kNic; break;
      case 0x068000: d.kind = DevKind::kNvSwitch; break;
      default: d.kind = DevKind::kOther; break;
    }
  }
  MLSYS_ASSIGN_OR_RETURN(d.pcie_bw, pcie_attrs(node));
  devices_.push_back(d);
  const int index = static_cast<int>(devices_.size()) - 1;
  if (parent >= 0) ++devices_[static_cast<size_t>(parent)].children;

  for (const pugi::xml_node& child : node.children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = child.name();
    Device& self = devices_[static_cast<size_t>(index)];
    if (name == "pci") {
      if (self.kind == DevKind::kGpu || self.kind == DevKind::kNic || self.kind == DevKind::kNvSwitch) {
        return bad(child, "<pci> nested inside the " +
                              std::string(self.kind == DevKind::kGpu ? "GPU" : self.kind == DevKind::kNic ? "NIC" : "NVSwitch") +
                              " " + self.busid,
                   "only bridges/switches (class 0x060400) hold other PCIe devices");
      }
      MLSYS_RETURN_IF_ERROR(walk_pci(child, cpu, index, depth + 1));
    } else if (name == "gpu") {
      if (self.kind != DevKind::kGpu && self.kind != DevKind::kOther && cls) {
        return bad(child, "<gpu> inside <pci busid=\"" + self.busid + "\"> whose class is not a GPU",
                   "GPUs have class 0x030200 or 0x030000");
      }
      if (self.has_gpu) return bad(child, "second <gpu> inside one <pci>");
      if (self.children > 0) return bad(child, "<gpu> inside a <pci> that also holds other devices");
      self.kind = DevKind::kGpu;
      MLSYS_RETURN_IF_ERROR(read_gpu(child, self));
    } else if (name == "nic") {
      if (self.kind == DevKind::kGpu || self.kind == DevKind::kNvSwitch) {
        return bad(child, "<nic> inside the GPU/NVSwitch " + self.busid);
      }
      if (self.kind == DevKind::kBridge) {
        // A NIC listed under a bridge without its own <pci>: a separate device behind it.
        Device nic;
        nic.kind = DevKind::kNic;
        nic.cpu = cpu;
        nic.parent = index;
        nic.line = line_of(child);
        nic.pcie_bw = self.pcie_bw;
        ++self.children;
        MLSYS_RETURN_IF_ERROR(read_nic(child, nic));
        devices_.push_back(std::move(nic));
      } else {
        if (self.has_net) return bad(child, "second <nic> inside one <pci>");
        self.kind = DevKind::kNic;
        MLSYS_RETURN_IF_ERROR(read_nic(child, self));
      }
    } else if (name == "pcilink") {
      // PCIe links between switches (NCCL >= 2.24, used for PXB detection): not modelled.
    } else {
      MLSYS_RETURN_IF_ERROR(unknown_child(node, child, "<pci>, <gpu>, <nic> and <pcilink>"));
    }
  }
  return ok_status();
}

Status Parser::read_gpu(const pugi::xml_node& node, Device& d) {
  d.has_gpu = true;
  MLSYS_ASSIGN_OR_RETURN(std::optional<int64_t> dev, int_attr(node, "dev", 0, 1 << 20));
  MLSYS_ASSIGN_OR_RETURN(std::optional<int64_t> sm, int_attr(node, "sm", 0, 10000));
  MLSYS_ASSIGN_OR_RETURN(std::optional<int64_t> rank, int_attr(node, "rank", 0, 1 << 30));
  MLSYS_ASSIGN_OR_RETURN(std::optional<int64_t> gdr, int_attr(node, "gdr", 0, 1));
  d.dev = static_cast<int>(dev.value_or(-1));
  d.sm = static_cast<int>(sm.value_or(-1));
  d.rank = static_cast<int>(rank.value_or(-1));
  d.gdr = gdr.value_or(0) == 1;
  for (const pugi::xml_node& child : node.children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = child.name();
    if (name == "nvlink") {
      NvLinkDecl link;
      link.line = line_of(child);
      link.target = lower(trim_blanks(child.attribute("target").value()));
      if (link.target.empty()) return bad(child, "<nvlink> without target", "target=\"<bus id>\"");
      MLSYS_ASSIGN_OR_RETURN(std::optional<int64_t> count, int_attr(child, "count", 1, kMaxNvLinkCount));
      link.count = static_cast<int>(count.value_or(1));
      MLSYS_ASSIGN_OR_RETURN(link.tclass, hex_attr(child, "tclass"));
      if (d.sm < 0) {
        return bad(child, "<nvlink> under a <gpu> without sm",
                   "the NVLink generation (and bandwidth) follows from sm=\"80\" etc.");
      }
      d.nvlinks.push_back(std::move(link));
    } else if (name == "c2c") {
      notes_.push_back("GPU " + d.busid + ": <c2c> (GPU-CPU chip-to-chip link) not modelled");
    } else {
      MLSYS_RETURN_IF_ERROR(unknown_child(node, child, "<nvlink> and <c2c>"));
    }
  }
  return ok_status();
}

Status Parser::read_nic(const pugi::xml_node& node, Device& d) {
  d.has_net = true;
  for (const pugi::xml_node& child : node.children()) {
    if (child.type() != pugi::node_element) continue;
    if (std::string_view(child.name()) != "net") {
      MLSYS_RETURN_IF_ERROR(unknown_child(node, child, "<net>"));
    }
    MLSYS_ASSIGN_OR_RETURN(std::optional<int64_t> dev, int_attr(child, "dev", 0, 1 << 20));
    MLSYS_ASSIGN_OR_RETURN(std::optional<int64_t> speed, int_attr(child, "speed", 0, int64_t{1} << 40));
    MLSYS_ASSIGN_OR_RETURN(std::optional<int64_t> gdr, int_attr(child, "gdr", 0, 1));
    if (d.net_dev < 0 && dev) {
      d.net_dev = static_cast<int>(*dev);
      d.net_name = child.attribute("name").value();
    }
    d.speed_mbps += static_cast<double>(speed.value_or(0));
    d.net_gdr = d.net_gdr || gdr.value_or(0) == 1;
  }
  return ok_status();
}

// Inter-socket bandwidth per NCCL's constants (src/graph/topo.h): see data/hw/SOURCES.md.
Bandwidth smp_bandwidth(const CpuDecl& cpu) {
  if (cpu.vendor == "AuthenticAMD") return GBps(16);
  if (cpu.vendor == "GenuineIntel") {
    switch (cpu.model) {
      case 79: return GBps(6);    // Broadwell
      case 143: return GBps(22);  // Sapphire Rapids
      case 207: return GBps(40);  // Emerald Rapids
      default: return GBps(10);   // Skylake / Cascade Lake QPI (model 85) and unknown
    }
  }
  return GBps(10);
}

Result<NcclTopology> Parser::run() {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed =
      doc.load_buffer(text_.data(), text_.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    return invalid_input(std::string("malformed XML: ") + parsed.description(),
                         "the file must be NCCL topology XML (root <system version=\"1\">)",
                         at_line(line_of(parsed.offset)));
  }
  pugi::xml_node root;
  for (const pugi::xml_node& child : doc.children()) {
    if (child.type() != pugi::node_element) continue;
    if (root) return bad(child, "more than one root element", "an NCCL topology has one <system>");
    root = child;
  }
  if (!root) return invalid_input("no root element", "expected <system version=\"1\">", at_line(1));
  const std::string_view root_name = root.name();
  if (root_name == "graphs") {
    return Error(ErrorCode::kUnsupported,
                 "this is an NCCL graph file (NCCL_GRAPH_FILE), not a topology file",
                 "pass the NCCL_TOPO_FILE XML, whose root is <system version=\"1\">", at(root));
  }
  if (root_name != "system") {
    return bad(root, "root element is <" + std::string(root_name) + ">, expected <system>",
               "an NCCL topology file starts with <system version=\"1\">");
  }
  MLSYS_ASSIGN_OR_RETURN(std::optional<int64_t> version, int_attr(root, "version", 0, 1 << 20));
  if (!version) return bad(root, "<system> without version", "NCCL topology files have version=\"1\"");
  if (*version != 1) {
    return Error(ErrorCode::kUnsupported,
                 "unsupported NCCL topology version " + std::to_string(*version),
                 "mlsys reads version 1 (NCCL_TOPO_XML_VERSION)", at(root));
  }
  for (const pugi::xml_node& child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    if (std::string_view(child.name()) != "cpu") {
      MLSYS_RETURN_IF_ERROR(unknown_child(root, child, "<cpu>"));
    }
    MLSYS_RETURN_IF_ERROR(walk_cpu(child));
  }
  if (cpus_.empty()) return bad(root, "<system> has no <cpu>", "list one <cpu numaid=\"N\"> per NUMA node");
  return build();
}

Result<NcclTopology> Parser::build() {
  NcclTopology out{.topology = Topology(file_), .gpus = {}, .nics = {}, .notes = std::move(notes_)};
  Topology& t = out.topology;

  // Ordering of GPUs and NICs (see the header).
  std::vector<int> gpu_idx;
  std::vector<int> nic_idx;
  for (int i = 0; i < static_cast<int>(devices_.size()); ++i) {
    const Device& d = devices_[static_cast<size_t>(i)];
    if (d.kind == DevKind::kGpu) gpu_idx.push_back(i);
    if (d.kind == DevKind::kNic) nic_idx.push_back(i);
  }
  auto dev_of = [&](int i) -> const Device& { return devices_[static_cast<size_t>(i)]; };
  const bool all_rank = !gpu_idx.empty() && std::all_of(gpu_idx.begin(), gpu_idx.end(),
                                                        [&](int i) { return dev_of(i).rank >= 0; });
  const bool all_dev = !gpu_idx.empty() && std::all_of(gpu_idx.begin(), gpu_idx.end(),
                                                       [&](int i) { return dev_of(i).dev >= 0; });
  auto sort_unique = [&](std::vector<int>& idx, auto key, std::string_view what) -> Status {
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return key(dev_of(a)) < key(dev_of(b)); });
    for (size_t i = 1; i < idx.size(); ++i) {
      if (key(dev_of(idx[i])) == key(dev_of(idx[i - 1]))) {
        return invalid_input("two devices with the same " + std::string(what),
                             "the other is on line " + std::to_string(dev_of(idx[i - 1]).line),
                             at_line(dev_of(idx[i]).line));
      }
    }
    return ok_status();
  };
  if (all_rank) {
    MLSYS_RETURN_IF_ERROR(sort_unique(gpu_idx, [](const Device& d) { return d.rank; }, "gpu rank"));
  } else if (all_dev) {
    MLSYS_RETURN_IF_ERROR(sort_unique(gpu_idx, [](const Device& d) { return d.dev; }, "gpu dev"));
  } else {
    MLSYS_RETURN_IF_ERROR(sort_unique(gpu_idx, [](const Device& d) { return d.busid; }, "bus id"));
  }
  const bool nic_all_dev = !nic_idx.empty() && std::all_of(nic_idx.begin(), nic_idx.end(),
                                                           [&](int i) { return dev_of(i).net_dev >= 0; });
  const bool nic_all_bus = !nic_idx.empty() && std::all_of(nic_idx.begin(), nic_idx.end(),
                                                           [&](int i) { return !dev_of(i).busid.empty(); });
  if (nic_all_dev) {
    MLSYS_RETURN_IF_ERROR(sort_unique(nic_idx, [](const Device& d) { return d.net_dev; }, "net dev"));
  } else if (nic_all_bus) {
    MLSYS_RETURN_IF_ERROR(sort_unique(nic_idx, [](const Device& d) { return d.busid; }, "bus id"));
  }
  std::vector<std::string> names(devices_.size());
  for (size_t k = 0; k < gpu_idx.size(); ++k) names[static_cast<size_t>(gpu_idx[k])] = "gpu" + std::to_string(k);
  for (size_t k = 0; k < nic_idx.size(); ++k) names[static_cast<size_t>(nic_idx[k])] = "nic" + std::to_string(k);

  // Nodes: cpus, then devices in document order (parents before children).
  std::vector<NodeId> cpu_node;
  for (size_t c = 0; c < cpus_.size(); ++c) {
    const NodeId id = t.add_node(NodeKind::kCpu, "cpu" + std::to_string(c), 0);
    t.set_pci(id, "", cpus_[c].numaid);
    cpu_node.push_back(id);
  }
  for (size_t a = 0; a < cpus_.size(); ++a) {
    for (size_t b = a + 1; b < cpus_.size(); ++b) {
      const Bandwidth bw = std::min(smp_bandwidth(cpus_[a]), smp_bandwidth(cpus_[b]));
      t.add_duplex(cpu_node[a], cpu_node[b], bw, kSmpHop, LinkKind::kSmp);
    }
  }
  const Time pcie_hop = find_interconnect("pcie4")->latency;
  std::vector<NodeId> dev_node(devices_.size(), kNoNode);
  int bridges = 0;
  int switches = 0;
  for (size_t i = 0; i < devices_.size(); ++i) {
    const Device& d = devices_[i];
    std::string name;
    NodeKind kind = NodeKind::kPcieSwitch;
    switch (d.kind) {
      case DevKind::kGpu: kind = NodeKind::kGpu; name = names[i]; break;
      case DevKind::kNic: kind = NodeKind::kNic; name = names[i]; break;
      case DevKind::kNvSwitch: kind = NodeKind::kNvSwitch; name = "nvswitch" + std::to_string(switches++); break;
      case DevKind::kBridge: name = "pcisw" + std::to_string(bridges++); break;
      case DevKind::kOther:
        if (d.children == 0) {
          out.notes.push_back("PCIe device " + d.busid + " of a class mlsys does not model skipped");
          continue;
        }
        name = "pcisw" + std::to_string(bridges++);
        break;
    }
    const NodeId id = t.add_node(kind, name, 0);
    t.set_pci(id, d.busid, cpus_[static_cast<size_t>(d.cpu)].numaid);
    dev_node[i] = id;
    const NodeId up = d.parent < 0 ? cpu_node[static_cast<size_t>(d.cpu)] : dev_node[static_cast<size_t>(d.parent)];
    t.add_duplex(up, id, d.pcie_bw, pcie_hop, LinkKind::kPcie);
  }

  // NVLinks: accumulate per directed pair, then add missing reverse directions.
  std::map<std::string, int> by_bus;
  for (size_t i = 0; i < devices_.size(); ++i) {
    if (!devices_[i].busid.empty() && dev_node[i] != kNoNode) by_bus.emplace(devices_[i].busid, static_cast<int>(i));
  }
  std::map<std::pair<NodeId, NodeId>, Bandwidth> nvlink_bw;
  std::map<std::string, NodeId> extra_switches;
  Time nvlink_hop;
  for (size_t i = 0; i < devices_.size(); ++i) {
    const Device& d = devices_[i];
    if (d.kind != DevKind::kGpu) continue;
    for (const NvLinkDecl& link : d.nvlinks) {
      Result<InterconnectSpec> gen = nvlink_for_sm(d.sm);
      if (!gen) return gen.error().at(at_line(link.line));
      nvlink_hop = gen->latency;
      const Bandwidth bw = gen->per_link * static_cast<double>(link.count);
      if (link.target == d.busid) {
        out.notes.push_back("nvlink from " + d.busid + " to itself ignored");
        continue;
      }
      NodeId target = kNoNode;
      if (auto it = by_bus.find(link.target); it != by_bus.end()) {
        const Device& other = devices_[static_cast<size_t>(it->second)];
        if (other.kind == DevKind::kGpu || other.kind == DevKind::kNvSwitch) {
          target = dev_node[static_cast<size_t>(it->second)];
        } else {
          out.notes.push_back("nvlink from " + d.busid + " to non-GPU device " + link.target + " ignored");
          continue;
        }
      } else if (link.tclass == 0x068000u) {
        auto [sw, inserted] = extra_switches.emplace(link.target, kNoNode);
        if (inserted) {
          sw->second = t.add_node(NodeKind::kNvSwitch, "nvswitch" + std::to_string(switches++), 0);
          t.set_pci(sw->second, link.target, -1);
        }
        target = sw->second;
      } else if (!link.tclass || link.tclass == 0x030200u || link.tclass == 0x030000u) {
        return invalid_input("nvlink target " + link.target + " is not a GPU or NVSwitch in this file",
                             "targets are bus ids of <pci> GPUs, or NVSwitches with tclass=\"0x068000\"",
                             at_line(link.line));
      } else {
        out.notes.push_back("nvlink from " + d.busid + " to " + link.target + " (tclass not a GPU or "
                            "NVSwitch, e.g. a CPU) ignored");
        continue;
      }
      nvlink_bw[{dev_node[i], target}] += bw;
    }
  }
  for (const auto& [pair, bw] : nvlink_bw) {
    t.add_link(pair.first, pair.second, bw, nvlink_hop, LinkKind::kNvLink);
  }
  for (const auto& [pair, bw] : nvlink_bw) {
    if (nvlink_bw.contains({pair.second, pair.first})) continue;
    if (t.node(pair.second).kind == NodeKind::kGpu) {
      out.notes.push_back("nvlink " + t.node(pair.first).name + " -> " + t.node(pair.second).name +
                          " listed one way only: reverse direction added");
    }
    t.add_link(pair.second, pair.first, bw, nvlink_hop, LinkKind::kNvLink);
  }

  for (int i : gpu_idx) {
    const Device& d = dev_of(i);
    const NodeId id = dev_node[static_cast<size_t>(i)];
    t.add_endpoint(id);
    out.gpus.push_back(NcclGpu{.node = id, .busid = d.busid, .numa = t.node(id).numa, .dev = d.dev,
                               .sm = d.sm, .rank = d.rank, .gdr = d.gdr});
  }
  for (int i : nic_idx) {
    const Device& d = dev_of(i);
    const NodeId id = dev_node[static_cast<size_t>(i)];
    out.nics.push_back(NcclNic{.node = id, .busid = d.busid, .numa = t.node(id).numa,
                               .name = d.net_name, .dev = d.net_dev, .speed = Mbps(d.speed_mbps),
                               .gdr = d.net_gdr});
  }
  return out;
}

}  // namespace

Result<NcclTopology> read_nccl_topology(std::string_view xml, std::string_view file) {
  Parser parser(xml, file);
  return parser.run();
}

Result<NcclTopology> read_nccl_topology_file(const std::string& path) {
  MLSYS_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return read_nccl_topology(text, path);
}

Result<Topology> import_nccl_topology(const std::string& path) {
  MLSYS_ASSIGN_OR_RETURN(NcclTopology t, read_nccl_topology_file(path));
  return std::move(t.topology);
}

Result<Topology> import_nccl_topology_string(std::string_view xml, std::string_view name) {
  MLSYS_ASSIGN_OR_RETURN(NcclTopology t, read_nccl_topology(xml, name));
  return std::move(t.topology);
}

}  // namespace mlsys::hw
