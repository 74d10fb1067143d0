// Synthetic NCCL topology files: regular PCIe boxes like TCCL's targets, and random PCIe trees
// for the heuristic-vs-exhaustive differential tests.

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "mlsys/coll/tccl.h"
#include "mlsys/core/check.h"
#include "mlsys/core/rng.h"

namespace mlsys::coll {
namespace {

using Kind = SyntheticPcie::Kind;

constexpr int kMaxSwitchDepth = 3;

const char* link_speed(int generation) {
  switch (generation) {
    case 1: return "2.5 GT/s";
    case 2: return "5 GT/s";
    case 4: return "16 GT/s";
    case 5: return "32 GT/s";
    default: return "8 GT/s";
  }
}

class XmlEmitter {
 public:
  explicit XmlEmitter(const SyntheticBox& box) : box_(box) {}

  std::string run() {
    out_ = "<system version=\"1\">\n";
    for (size_t s = 0; s < box_.sockets.size(); ++s) {
      const bool amd = box_.cpu_vendor == "AuthenticAMD";
      out_ += "  <cpu numaid=\"" + std::to_string(s) + "\" arch=\"x86_64\" vendor=\"" + box_.cpu_vendor +
              "\" familyid=\"" + (amd ? "23" : "6") + "\" modelid=\"" + std::to_string(box_.cpu_model) + "\">\n";
      for (const SyntheticPcie& d : box_.sockets[s]) device(d, 2);
      out_ += "  </cpu>\n";
    }
    out_ += "</system>\n";
    return out_;
  }

 private:
  std::string busid() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04x:%02x:00.0", next_bus_ / 256, next_bus_ % 256);
    ++next_bus_;
    return buf;
  }

  void device(const SyntheticPcie& d, int indent) {
    const std::string pad(static_cast<size_t>(indent) * 2, ' ');
    const char* cls = d.kind == Kind::kSwitch ? "0x060400" : d.kind == Kind::kGpu ? "0x030200" : "0x020700";
    out_ += pad + "<pci busid=\"" + busid() + "\" class=\"" + cls + "\" link_speed=\"" + link_speed(d.generation) +
            "\" link_width=\"16\"";
    if (d.kind == Kind::kSwitch) {
      out_ += ">\n";
      for (const SyntheticPcie& c : d.children) device(c, indent + 1);
    } else if (d.kind == Kind::kGpu) {
      const int doc = gpus_++;
      const int dev = box_.gpu_dev.empty() ? doc : box_.gpu_dev[static_cast<size_t>(doc)];
      out_ += ">\n" + pad + "  <gpu dev=\"" + std::to_string(dev) + "\" sm=\"80\" gdr=\"1\"/>\n";
    } else {
      out_ += ">\n" + pad + "  <nic>\n" + pad + "    <net name=\"mlx5_" + std::to_string(nics_) + "\" dev=\"" +
              std::to_string(nics_) + "\"";
      if (box_.nic_mbps > 0) out_ += " speed=\"" + std::to_string(box_.nic_mbps) + "\"";
      out_ += " port=\"1\" gdr=\"1\"/>\n" + pad + "  </nic>\n";
      ++nics_;
    }
    out_ += pad + "</pci>\n";
  }

  const SyntheticBox& box_;
  std::string out_;
  int next_bus_ = 1;
  int gpus_ = 0;
  int nics_ = 0;
};

// A flat tree (parent indices) while drawing, nested at the end.
struct FlatDevice {
  Kind kind = Kind::kGpu;
  int socket = 0;
  int parent = -1;  // -1: under the socket's CPU
  int depth = 1;
  int generation = 3;
};

std::vector<SyntheticPcie> nest(const std::vector<FlatDevice>& flat, int socket, int parent) {
  std::vector<SyntheticPcie> out;
  for (int i = 0; i < static_cast<int>(flat.size()); ++i) {
    const FlatDevice& f = flat[static_cast<size_t>(i)];
    if (f.socket != socket || f.parent != parent) continue;
    SyntheticPcie d{.kind = f.kind, .generation = f.generation, .children = {}};
    if (f.kind == Kind::kSwitch) d.children = nest(flat, socket, i);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

SyntheticBox pcie_box(int sockets, int switches, int gpus, int nics, bool interleave) {
  MLSYS_CHECK(sockets >= 1 && switches >= 1 && gpus >= 0 && nics >= 0, "pcie_box shape");
  SyntheticBox box;
  for (int s = 0; s < sockets; ++s) {
    std::vector<SyntheticPcie> socket;
    for (int w = 0; w < switches; ++w) {
      SyntheticPcie sw{.kind = Kind::kSwitch, .generation = 3, .children = {}};
      for (int g = 0; g < gpus; ++g) {
        sw.children.push_back({.kind = Kind::kGpu, .generation = 3, .children = {}});
        box.gpu_dev.push_back(interleave ? (s * switches * gpus) + g * switches + w : static_cast<int>(box.gpu_dev.size()));
      }
      for (int k = 0; k < nics; ++k) sw.children.push_back({.kind = Kind::kNic, .generation = 3, .children = {}});
      socket.push_back(std::move(sw));
    }
    box.sockets.push_back(std::move(socket));
  }
  return box;
}

SyntheticBox random_pcie_box(uint64_t seed, int gpus) {
  MLSYS_CHECK(gpus >= 1, "random_pcie_box needs a GPU");
  RngStream rng(seed, "coll/tccl/box");
  SyntheticBox box;
  const int sockets = static_cast<int>(rng.uniform_int(1, 3));
  switch (rng.uniform_int(0, 2)) {
    case 0: box.cpu_vendor = "GenuineIntel"; box.cpu_model = 85; break;
    case 1: box.cpu_vendor = "GenuineIntel"; box.cpu_model = 143; break;
    default: box.cpu_vendor = "AuthenticAMD"; box.cpu_model = 49; break;
  }
  std::vector<FlatDevice> flat;
  for (int s = 0; s < sockets; ++s) {
    const int top = static_cast<int>(rng.uniform_int(0, 2));
    for (int k = 0; k < top; ++k) {
      flat.push_back({.kind = Kind::kSwitch, .socket = s, .parent = -1, .depth = 1,
                      .generation = static_cast<int>(rng.uniform_int(3, 4))});
      const int self = static_cast<int>(flat.size()) - 1;
      const int below = rng.uniform() < 0.5 ? static_cast<int>(rng.uniform_int(1, 2)) : 0;
      for (int j = 0; j < below; ++j) {
        flat.push_back({.kind = Kind::kSwitch, .socket = s, .parent = self, .depth = 2,
                        .generation = static_cast<int>(rng.uniform_int(3, 4))});
        if (rng.uniform() < 0.3) {
          flat.push_back({.kind = Kind::kSwitch, .socket = s, .parent = static_cast<int>(flat.size()) - 1,
                          .depth = kMaxSwitchDepth, .generation = static_cast<int>(rng.uniform_int(3, 4))});
        }
      }
    }
  }
  auto place = [&](Kind kind) {
    const int s = static_cast<int>(rng.uniform_int(0, sockets - 1));
    std::vector<int> holders = {-1};
    for (int i = 0; i < static_cast<int>(flat.size()); ++i) {
      if (flat[static_cast<size_t>(i)].kind == Kind::kSwitch && flat[static_cast<size_t>(i)].socket == s) holders.push_back(i);
    }
    const int parent = holders[static_cast<size_t>(rng.uniform_int(0, static_cast<int64_t>(holders.size()) - 1))];
    const int depth = parent < 0 ? 1 : flat[static_cast<size_t>(parent)].depth + 1;
    flat.push_back({.kind = kind, .socket = s, .parent = parent, .depth = depth,
                    .generation = static_cast<int>(rng.uniform_int(3, 4))});
  };
  for (int g = 0; g < gpus; ++g) place(Kind::kGpu);
  const int nics = static_cast<int>(rng.uniform_int(1, 2));
  for (int k = 0; k < nics; ++k) place(Kind::kNic);
  box.nic_mbps = rng.uniform() < 0.5 ? 100000 : 0;
  for (int s = 0; s < sockets; ++s) box.sockets.push_back(nest(flat, s, -1));
  // Device numbering in document order would favour the default ring; shuffle it.
  box.gpu_dev.resize(static_cast<size_t>(gpus));
  std::iota(box.gpu_dev.begin(), box.gpu_dev.end(), 0);
  for (int i = gpus - 1; i > 0; --i) {
    std::swap(box.gpu_dev[static_cast<size_t>(i)], box.gpu_dev[static_cast<size_t>(rng.uniform_int(0, i))]);
  }
  return box;
}

std::string synthetic_topology_xml(const SyntheticBox& box) { return XmlEmitter(box).run(); }

}  // namespace mlsys::coll
