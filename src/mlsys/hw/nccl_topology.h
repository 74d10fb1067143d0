// NCCL topology XML import (the NCCL_TOPO_FILE / NCCL_TOPO_DUMP_FILE format) into a Topology.
//
// The PCIe tree is kept as nodes and links: cpu (one per NUMA node, SMP links between every
// pair) -> PCIe switches/bridges -> GPUs and NICs, plus NVLink links between GPUs or to NVSwitch
// nodes. Every GPU and NIC records its PCIe bus id and NUMA node (Node::pci_busid, Node::numa).
//
//   Result<Topology> t = import_nccl_topology("aws-p4d-24xl-topo.xml");
//   t->endpoint_count();                       // 8 GPUs, ranks in PCIe bus-id order
//   t->node(t->endpoint(0)).pci_busid;         // "0000:10:1c.0"
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/hw/topology.h"

namespace mlsys::hw {

/// A GPU found in the file.
struct NcclGpu {
  NodeId node = kNoNode;
  std::string busid;  // lower case, as in the file
  int numa = -1;      // numaid of the owning cpu
  int dev = -1;       // `gpu dev` (CUDA device index); -1 when the file has no gpu element
  int sm = -1;        // compute capability x 10 (80 = Ampere); -1 when unknown
  int rank = -1;      // `gpu rank`; -1 when absent
  bool gdr = false;   // GPUDirect RDMA capable
};

/// A NIC found in the file (a `pci` with a NIC class, or a `nic` element).
struct NcclNic {
  NodeId node = kNoNode;
  std::string busid;  // "" for a `nic` directly under a `cpu`
  int numa = -1;
  std::string name;   // first `net name` ("mlx5_0"), "" when the file has no net element
  int dev = -1;       // first `net dev`
  Bandwidth speed;    // sum of the `net speed` attributes (Mb/s in the file); zero when absent
  bool gdr = false;
};

struct NcclTopology {
  Topology topology;
  std::vector<NcclGpu> gpus;  // in rank order (endpoint i is gpus[i].node)
  std::vector<NcclNic> nics;  // in index order (node "nic<i>")
  /// What the import skipped or assumed ("nvlink from 0001:00:00.0 to itself ignored").
  std::vector<std::string> notes;
};

/// Parses NCCL topology XML text. `file` names the source in errors, which carry file:line:
/// malformed XML, a root other than <system version="1"> (an NCCL graph file, root <graphs>,
/// gets its own message), unknown elements, missing/duplicate bus ids, bad attribute values
/// (class, link_speed, link_width, numaid, sm, dev, count, speed), unresolvable NVLink targets.
///
/// Ordering: GPUs by `gpu rank` when every GPU has one, else by `gpu dev` when every GPU has
/// one, else by PCIe bus id (CUDA's PCI_BUS_ID order). NICs by `net dev` when every NIC has one,
/// else by bus id when all have one, else in document order.
///
/// Bandwidths (per direction): PCIe as NCCL computes it (gen3/4/5 x16 = 12/24/48 GB/s; an empty
/// link_speed means gen3 and width 0 means x16, NCCL's fallbacks); NVLink = count x the per-link
/// figure of the GPU's generation (from `sm`); SMP by CPU vendor/model (catalog constants).
Result<NcclTopology> read_nccl_topology(std::string_view xml, std::string_view file);

/// Reads and parses a file. kNotFound when it does not exist.
Result<NcclTopology> read_nccl_topology_file(const std::string& path);

/// The Topology of read_nccl_topology_file(path).
Result<Topology> import_nccl_topology(const std::string& path);

/// The Topology of read_nccl_topology(xml, name), for tests and fuzzing.
Result<Topology> import_nccl_topology_string(std::string_view xml, std::string_view name = "<string>");

}  // namespace mlsys::hw
