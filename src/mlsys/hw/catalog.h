// Hardware catalog: GPU/accelerator specs, interconnect (link) types and server node types.
//
// GPUs come from data/hw/gpu_specs.csv (compiled in; see data/hw/SOURCES.md for every number's
// source); link and node types are constants in catalog.cpp with their sources beside them.
//
//   Result<GpuSpec> h100 = find_gpu("h100");                 // by name or alias, any case
//   Time t = TFLOP(10) / *h100->peak(Precision::kBf16);      // ~10.1 ms
//   Result<NodeSpec> node = find_node_spec("dgx-h100");      // 8 GPUs, NVSwitch, 8x400G NICs
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/hw/topology.h"

namespace mlsys::hw {

// ---------------------------------------------------------------------------------------------
// GPUs and other accelerators.

enum class Precision { kFp32, kTf32, kBf16, kFp16, kFp8 };

std::string_view to_string(Precision precision);
/// "fp32", "tf32", "bf16", "fp16", "fp8" (any case). Errors list the accepted names.
Result<Precision> parse_precision(std::string_view text);

struct GpuSpec {
  std::string name;                  // canonical, e.g. "H100-SXM5-80GB"
  std::vector<std::string> aliases;  // short names, e.g. "h100", "h100-sxm"
  FlopRate bf16_dense;               // peak dense bf16 (= fp16) tensor rate, no 2:4 sparsity
  std::optional<FlopRate> fp8_dense;   // absent: no fp8 tensor cores
  std::optional<FlopRate> tf32_dense;  // absent: no tf32
  std::optional<FlopRate> fp32;        // non-tensor fp32; absent: not published
  Bytes hbm_capacity;
  std::string hbm_type;              // "HBM3"
  Bandwidth hbm_bandwidth;
  Bandwidth nvlink_bandwidth;        // per direction, per GPU, all links together; zero: no NVLink
  int nvlink_generation = 0;         // 0: no NVLink
  Bandwidth nic_bandwidth;           // per GPU in the standard node; zero: not stated
  double tdp_watts = 0.0;
  std::string source;                // where the row's numbers come from

  /// Peak dense rate at `precision` (fp16 is the bf16 figure), or nullopt when unsupported.
  std::optional<FlopRate> peak(Precision precision) const;
};

/// A set of GPU specs with lookup by name or alias (ASCII case-insensitive).
class GpuCatalog {
 public:
  /// The catalog shipped with mlsys: data/hw/gpu_specs.csv as it was at build time.
  static const GpuCatalog& builtin();

  /// Parses the gpu_specs.csv format (comment lines start with '#', then a header row naming at
  /// least gpu, bf16_dense_tflops, hbm_GB, hbm_TBps; unknown columns are ignored). `file` names
  /// the source in errors, which carry its line number.
  static Result<GpuCatalog> parse_csv(std::string_view text, std::string_view file);

  /// Adds a spec. Errors: empty name, non-positive bf16 rate / HBM capacity / HBM bandwidth, or a
  /// name/alias that an existing entry already uses.
  Status add(GpuSpec spec);

  /// The spec whose name or alias equals `name` (case-insensitive). kNotFound lists the known
  /// names and suggests the closest one: "unknown GPU 'h10' (known: ...; did you mean 'h100'?)".
  Result<GpuSpec> find(std::string_view name) const;

  std::span<const GpuSpec> gpus() const { return gpus_; }

 private:
  std::vector<GpuSpec> gpus_;
};

/// Reads a catalog from a gpu_specs.csv file. kNotFound if missing; located errors otherwise.
Result<GpuCatalog> load_gpu_catalog(const std::string& path);

/// Looks `name` up in GpuCatalog::builtin().
Result<GpuSpec> find_gpu(std::string_view name);

/// User GPUs in YAML, returned added to `base` (the shipped catalog by default):
///
///   gpus:
///     - name: MI300X                 # required, unique with the aliases across base and file
///       aliases: [mi300x, mi300]
///       bf16_dense: 1307TFLOPS       # required; rates, sizes and bandwidths need units
///       fp8_dense: 2615TFLOPS        # optional, like tf32_dense and fp32
///       hbm_capacity: 192GiB         # required
///       hbm_bandwidth: 5.3TBps       # required
///       hbm_type: HBM3
///       nvlink_bandwidth: 448GBps    # per direction, all links; nvlink_generation: 4
///       nic_bandwidth: 400Gbps
///       tdp_watts: 750
///       source: "vendor datasheet"
///
/// Errors carry file:line: unknown keys (with "did you mean"), numbers without units, missing
/// required keys, names that clash with the base catalog.
Result<GpuCatalog> parse_gpu_specs_yaml(std::string_view text, std::string_view file,
                                        const GpuCatalog& base = GpuCatalog::builtin());
Result<GpuCatalog> load_gpu_specs_yaml(const std::string& path,
                                       const GpuCatalog& base = GpuCatalog::builtin());

// ---------------------------------------------------------------------------------------------
// Interconnects: one entry per link technology.

struct InterconnectSpec {
  std::string name;           // "nvlink3", "pcie4", "ib-ndr", "eth-400g", "tpuv4-ici"
  LinkKind kind = LinkKind::kNetwork;
  Bandwidth per_link;         // per direction: one NVLink link, one PCIe x16 slot, one NIC port
  int links_per_device = 1;   // NVLink links per GPU (6/12/18), ICI links per chip (6), else 1
  std::optional<Bandwidth> nccl_per_link;  // NCCL's effective per-link figure where it differs
  Time latency;               // per hop; a modelling default, not a measurement
  std::string source;

  /// Per direction, all of one device's links together (A100: 12 x 25 GB/s = 300 GB/s).
  Bandwidth per_device() const { return per_link * static_cast<double>(links_per_device); }
  /// One link of this kind.
  LinkSpec link() const { return {.bandwidth = per_link, .latency = latency}; }
};

std::span<const InterconnectSpec> interconnects();
/// By name (case-insensitive); kNotFound lists the known names with a "did you mean".
Result<InterconnectSpec> find_interconnect(std::string_view name);

/// The NVLink generation of a GPU with CUDA compute capability `sm` (70 for sm_70): per-link
/// bandwidth as NVIDIA specifies it. Errors for sm < 60 (no NVLink before Pascal).
Result<InterconnectSpec> nvlink_for_sm(int sm);

/// PCIe bandwidth per direction as NCCL computes it: width x speed-code / 80 GB/s with codes
/// 15/30/60/120/240/480 for generations 1..6 (gen3 x16 = 12 GB/s, gen4 = 24, gen5 = 48).
/// Errors: gen outside 1..6, width outside 1..32.
Result<Bandwidth> pcie_bandwidth(int generation, int width);

// ---------------------------------------------------------------------------------------------
// Server node types.

struct NodeSpec {
  std::string name;                  // "dgx-h100"
  std::vector<std::string> aliases;  // "hgx-h100", "h100-node"
  std::string gpu;                   // a GpuCatalog name
  int gpus = 8;
  bool nvswitch = true;              // GPUs on one NVSwitch crossbar; false: direct chip links
  LinkKind gpu_link_kind = LinkKind::kNvLink;
  LinkSpec gpu_link;  // NVSwitch nodes: one GPU's NVLinks to the switch; else one chip-chip link
  int nics = 8;       // network ports per node (0: not modelled)
  LinkSpec nic_link;  // one NIC's network port
  LinkSpec pcie;      // GPU <-> NIC / host PCIe, per direction
  std::string source;
};

std::span<const NodeSpec> node_specs();
/// By name or alias (case-insensitive); kNotFound lists the known names with a "did you mean".
Result<NodeSpec> find_node_spec(std::string_view name);

}  // namespace mlsys::hw
