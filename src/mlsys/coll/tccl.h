// TCCL-style path search: the best ring (and tree chain) through a GPU server's PCIe / NVLink /
// NIC graph, ranked by predicted allreduce bandwidth under link contention.
//
// What TCCL is (Kim, Ryu, Lee, ASPLOS'24; research notes §4.1). On PCIe-dependent servers (no
// NVLink; GPUs behind PCIe switches and CPU root complexes, two or more sockets) NCCL's rings,
// built from nominal link bandwidths, run well below what the machine can do: several ring edges
// share one switch uplink or the inter-socket link, and some combinations of concurrent transfers
// congest inside the CPU. TCCL profiles the machine (an MPI program measuring sets of concurrent
// transfers, cached by set and NUMA symmetry), runs a best-first search over partial paths ordered
// by measured bandwidth, writes the winners to an XML file and replays them in a fork of NCCL
// 2.18.3 (NCCL_ALGO=TCCL). Its project page reports up to 2.07x over NCCL and MSCCL.
//
// What this file does instead (no GPUs here): the same search over *modelled* contention. Each
// ring edge is routed through the imported NCCL topology the way NCCL's paths run (NVLink when the
// two GPUs share a link or an NVSwitch; otherwise GPU -> switch -> ... -> CPU [-> SMP -> CPU] ->
// ... -> GPU through the lowest common PCIe ancestor; GPU <-> NIC likewise with GPUDirect, or
// through the NIC's CPU memory when the file's <net gdr="0"> rules GPUDirect out).
// Every directed link counts the transfers crossing it, and
//
//     B = min over links of capacity / load          (per-edge bottleneck bandwidth)
//
// Ring allreduce moves 2(R-1)/R of the vector over every edge, so algBw = B * R / (2(R-1)) and
// NCCL's bus bandwidth busBw = algBw * 2(R-1)/R = B (R = ranks = GPUs x nodes). A tree chain
// (NCCL's intra-node tree pattern) streams the whole vector both ways over each edge (reduce up,
// broadcast down, pipelined), so algBw = B and busBw = B * 2(R-1)/R — an ideal bound: NCCL's tuning
// halves a tree's searched bandwidth and caps it per channel; across nodes the chain head
// talks to the NIC with weight 2 (NCCL's double binary tree: a node is interior in one tree,
// leaf in the other). Capacities come from the hw importer: PCIe width x speed code / 80 and SMP
// by CPU vendor/model as NCCL sets them, NVLink count x the catalog's per-link figure for the
// GPU's SM (datasheet 25 GB/s on SM80, where NCCL uses 20), NIC `net speed` when the file has it.
//
// Search: exhaustive for up to 8 GPUs (GPU order fixed to start at the lowest selected GPU, a ring
// and its reverse counted once: 7!/2 = 2520 rings on 8 GPUs), otherwise multi-start greedy +
// 2-opt / or-opt local search (the exhaustive search is its differential-test oracle). Ties on B
// are broken by fewer links at the bottleneck, then less total load/capacity, then GPU order.
// Not modelled: TCCL's measured congestion inside the CPU and bounce-buffer placement, NCCL's
// Intel P2P 6/5 charge on PHB paths (hw does not export the CPU vendor), NVB paths through a
// third GPU, protocol factors (LL/LL128) and multiple channels.
//
//   Result<hw::NcclTopology> t = hw::read_nccl_topology_file("aws-p4d-24xl-topo.xml");
//   Result<PathSearchResult> r = search_paths(*t, {.gpus = {0, 1, 2, 3}, .top_k = 3});
//   r->rings[0].bus_bw;   // best ring's predicted busBw; r->default_ring is NCCL's 0,1,...,n-1
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/hw/nccl_topology.h"

namespace mlsys::coll {

enum class PathKind {
  kRing,   // NCCL ring: every rank sends to the next one
  kChain,  // NCCL intra-node tree pattern: a chain, traffic both ways on every edge
};

enum class PathSearchMethod { kAuto, kExhaustive, kHeuristic };

std::string_view to_string(PathKind kind);
std::string_view to_string(PathSearchMethod method);
/// "auto", "exhaustive" or "heuristic".
Result<PathSearchMethod> parse_path_search_method(std::string_view text);

/// One directed resource a transfer occupies: a topology link, both directions of a GPU's
/// NVSwitch ports (NCCL treats all NVSwitches as one), or a NIC's network port.
struct PathLink {
  std::string src;     // "pcisw0", "cpu1", "gpu3", "nvswitch", "nic2", "net"
  std::string dst;
  std::string kind;    // "pcie", "smp", "nvlink", "network"
  Bandwidth capacity;  // per direction
  int reverse = -1;    // index of the link in the other direction, -1 when none
};

/// One stream of a ring or chain, routed.
struct PathTransfer {
  std::string src;         // "gpu0", "nic1"
  std::string dst;
  std::string type;        // NCCL path type: NVL, PIX, PXB, PHB or SYS
  std::vector<int> links;  // indices into PathModel::links(), in travel order
  int weight = 1;          // full-vector streams it carries
};

/// A ring or chain order and what the contention model predicts for it.
struct PathCandidate {
  PathKind kind = PathKind::kRing;
  std::vector<int> gpus;  // device indices (positions in NcclTopology::gpus), in visiting order
  int nic_in = -1;        // nodes > 1: NIC (index in NcclTopology::nics) where the ring enters the
  int nic_out = -1;       // node, and where it leaves; a chain's head NIC is nic_in; -1 on one node
  Bandwidth bottleneck;   // B: min over links of capacity / load, per stream
  int bottleneck_link = -1;  // index into PathModel::links()
  int bottleneck_load = 0;   // streams crossing that link
  int links_at_bottleneck = 0;
  double load_per_capacity = 0;  // sum over links of load / capacity in s/GB (a tie-break)
  int socket_crossings = 0;      // streams that cross an SMP (inter-socket) link
  Bandwidth alg_bw;              // predicted allreduce algorithm bandwidth (vector bytes / time)
  Bandwidth bus_bw;              // NCCL busBw = alg_bw * 2(R-1)/R
};

/// The routed graph of one selection of GPUs: links, routes, and evaluation of orders.
class PathModel {
 public:
  /// Routes every ordered pair of the selected GPUs (device indices, any order, no repeats) and,
  /// when `nodes` > 1, every GPU <-> NIC pair. Errors (kInvalidInput, located at the file): the
  /// file lists no GPUs, a selection out of range or repeated, fewer than 2 GPUs on one node,
  /// nodes > 1 without NICs, two GPUs that no path joins.
  static Result<PathModel> build(const hw::NcclTopology& topology, std::vector<int> gpus, int nodes = 1);

  /// Selected device indices, ascending.
  const std::vector<int>& gpus() const { return gpus_; }
  int gpu_count() const { return static_cast<int>(gpus_.size()); }
  /// NICs a multi-node ring may use (all NICs in the file when nodes > 1, else 0).
  int nic_count() const { return static_cast<int>(nic_names_.size()); }
  int nodes() const { return nodes_; }
  /// R = GPUs x nodes.
  int ranks() const { return gpu_count() * nodes_; }
  std::span<const PathLink> links() const { return links_; }
  /// True when every link has a reverse of equal capacity, so a ring and its reverse perform
  /// alike (the search then counts them once).
  bool symmetric() const { return symmetric_; }
  /// Notes on what the model assumed for this file ("no NVLink in the file: PCIe only").
  const std::vector<std::string>& notes() const { return notes_; }

  /// Scores a ring (kind kRing) or chain over the selected GPUs, each exactly once. nic_in /
  /// nic_out as in PathCandidate (required when nodes > 1: a ring needs both, a chain nic_in).
  /// Errors: not a permutation of gpus(), NIC out of range or missing.
  Result<PathCandidate> evaluate(PathKind kind, std::span<const int> order, int nic_in = -1,
                                 int nic_out = -1) const;
  /// The routed streams of `candidate`, in order.
  std::vector<PathTransfer> transfers(const PathCandidate& candidate) const;
  /// NCCL's default: GPUs in device order; across nodes, entering through the NIC closest to
  /// the first GPU and leaving through the one closest to the last (fewest links, then index).
  PathCandidate default_candidate(PathKind kind) const;
  /// "pcisw0->cpu0 (pcie 12GB/s)".
  std::string describe_link(int link) const;

  /// Position of device `device` among gpus(), -1 when it is not selected.
  int local_of(int device) const;

 private:
  friend class PathModelBuilder;
  friend class PathSearcher;

  // A routed stream between two ends: local GPU positions 0..n-1, then NICs n..n+m-1.
  struct Route {
    std::vector<int> links;
    std::string type;
    bool crosses_smp = false;
    double cost = 0;  // sum over links of 1 / capacity in s/GB: the greedy start's distance
  };
  struct Stream {
    int from = 0;
    int to = 0;
    int weight = 1;
  };

  PathModel() = default;
  const Route& route(int from, int to) const {
    return routes_[static_cast<size_t>(from) * static_cast<size_t>(ends_) + static_cast<size_t>(to)];
  }
  // The streams of an order of local positions; nic_in/nic_out are local NIC indices (0..m-1).
  void streams(PathKind kind, std::span<const int> order, int nic_in, int nic_out, std::vector<Stream>& out) const;
  int nearest_nic(int gpu, bool to_nic) const;

  std::vector<int> gpus_;
  std::vector<std::string> gpu_names_;
  std::vector<std::string> nic_names_;
  int nodes_ = 1;
  int ends_ = 0;  // GPUs + NICs
  std::vector<PathLink> links_;
  std::vector<double> inverse_capacity_;  // per link, s/GB
  std::vector<Route> routes_;             // ends_ x ends_
  std::vector<std::string> notes_;
  bool symmetric_ = true;
};

struct PathSearchOptions {
  std::vector<int> gpus;  // device indices; empty: every GPU in the file
  int nodes = 1;          // identical nodes the ring spans; > 1 routes it through NICs
  int top_k = 3;          // rings and chains to return, 1..1000
  PathSearchMethod method = PathSearchMethod::kAuto;  // auto: exhaustive when <= 8 GPUs
  uint64_t seed = 0;      // the heuristic's random restarts
};

struct PathSearchResult {
  PathModel model;
  PathSearchMethod method = PathSearchMethod::kAuto;  // the one that ran
  std::vector<PathCandidate> rings;   // best first, at most top_k
  std::vector<PathCandidate> chains;  // best first, at most top_k
  PathCandidate default_ring;         // NCCL's device-order ring
  PathCandidate default_chain;
  int64_t rings_evaluated = 0;
  int64_t chains_evaluated = 0;
  /// Exhaustive search only: rings whose B beats the default ring's; -1 after the heuristic.
  int64_t rings_better_than_default = -1;
};

/// Searches rings and chains. Errors as PathModel::build, plus top_k out of range and an
/// exhaustive search asked for more than 5,000,000 candidates.
Result<PathSearchResult> search_paths(const hw::NcclTopology& topology, const PathSearchOptions& options);

/// Parses "0-7", "0,2,4" or "0-3,6" into ascending device indices below `gpu_count`. Errors
/// (located at --gpus): empty or malformed items, reversed ranges, repeats, indices out of range.
Result<std::vector<int>> parse_gpu_selection(std::string_view spec, int gpu_count);

// ---------------------------------------------------------------------------------------------
// Synthetic NCCL topology files, for tests, golden cases and `mlsys reproduce tccl`.

/// A device in a synthetic PCIe tree.
struct SyntheticPcie {
  enum class Kind { kSwitch, kGpu, kNic };
  Kind kind = Kind::kGpu;
  int generation = 3;                    // PCIe generation of the link to the parent (x16)
  std::vector<SyntheticPcie> children;   // switches only
};

struct SyntheticBox {
  std::string cpu_vendor = "GenuineIntel";  // selects NCCL's SMP bandwidth with cpu_model
  int cpu_model = 85;                       // Skylake: 10 GB/s
  std::vector<std::vector<SyntheticPcie>> sockets;  // devices under each CPU
  /// Device index of each GPU in document order; empty: document order.
  std::vector<int> gpu_dev;
  int64_t nic_mbps = 0;  // `net speed` of every NIC; 0: no <net> element
};

/// `sockets` CPUs x `switches` switches each x (`gpus` GPUs + `nics` NICs) per switch, Gen3.
/// `interleave` numbers the GPUs so that consecutive devices sit under different switches of a
/// socket (gpu 0 and 2 under switch 0, 1 and 3 under switch 1, ...), as BIOS bus numbering
/// often does; otherwise in document order.
SyntheticBox pcie_box(int sockets, int switches, int gpus, int nics = 0, bool interleave = false);

/// A random PCIe tree with `gpus` GPUs over 1-3 sockets, switches nested up to 3 deep, mixed
/// PCIe generations, and a random device numbering, drawn from RngStream(seed, "coll/tccl/box").
SyntheticBox random_pcie_box(uint64_t seed, int gpus);

/// The NCCL topology XML (<system version="1">) of `box`.
std::string synthetic_topology_xml(const SyntheticBox& box);

}  // namespace mlsys::coll
