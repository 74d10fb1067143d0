// TCCL (Kim, Ryu, Lee — ASPLOS'24): on PCIe-dependent multi-socket servers a searched ring beats
// NCCL's. Our search runs on modelled contention (coll/tccl.h), so the checks are the ones the
// model can answer exactly: hand-computed bottlenecks on TCCL-style boxes, searched >= default,
// and the heuristic agreeing with the exhaustive oracle.

#include <cstdio>

#include "mlsys/coll/tccl.h"
#include "mlsys/reproduce/internal/scenarios.h"

namespace mlsys::reproduce {
namespace {

constexpr char kHand[] = "hand-computed from NCCL's link figures";
constexpr char kTcclClaim[] = "TCCL: searched paths are never slower than NCCL's (research notes 4.1)";

double gbps(Bandwidth bw) { return bw / GBps(1); }

Result<coll::PathSearchResult> search(const coll::SyntheticBox& box, const coll::PathSearchOptions& options) {
  MLSYS_ASSIGN_OR_RETURN(hw::NcclTopology t, hw::read_nccl_topology(coll::synthetic_topology_xml(box), "synthetic"));
  return coll::search_paths(t, options);
}

std::string two_decimals(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

Result<ScenarioReport> run_tccl_scenario(const ScenarioOptions& options) {
  ScenarioReport report{.scenario = "tccl",
                        .title = "TCCL ring search on PCIe-dependent servers (modelled contention, no GPUs)"};

  // TCCL's kind of target: 2 sockets x 2 PCIe switches x 2 GPUs, Gen3 x16 (12 GB/s), Skylake QPI
  // (NCCL: 10 GB/s), devices numbered alternately across a socket's switches. NCCL's device-order
  // ring sends two streams over every switch uplink (12/2 = 6 GB/s); keeping each switch's GPUs
  // adjacent leaves only the socket link to limit (10 GB/s).
  MLSYS_ASSIGN_OR_RETURN(coll::PathSearchResult box, search(coll::pcie_box(2, 2, 2, 0, true), {}));
  const double best = gbps(box.rings.front().bus_bw);
  const double nccl = gbps(box.default_ring.bus_bw);
  report.checks.push_back(within("2-socket PCIe box, interleaved devices: best ring busBw", "GB/s", 10.0, best, 1e-9,
                                 std::string(kHand) + ": SMP-bound"));
  report.checks.push_back(within("same box: NCCL default-order ring busBw", "GB/s", 6.0, nccl, 1e-9,
                                 std::string(kHand) + ": 2 streams per switch uplink"));
  report.checks.push_back(at_least("same box: best / default ring busBw", "x", 1.0, best / nccl, kTcclClaim));
  report.checks.push_back(within("same box: rings searched exhaustively (7!/2)", "rings", 2520.0,
                                 static_cast<double>(box.rings_evaluated), 0.0, "combinatorics"));

  // The same shape numbered switch by switch, as the AWS p4d file is: NCCL's order is already
  // optimal, and across two nodes the ring enters and leaves through NICs beside its end GPUs.
  coll::SyntheticBox p4d_like = coll::pcie_box(2, 2, 2, 1, false);
  p4d_like.nic_mbps = 100000;
  MLSYS_ASSIGN_OR_RETURN(coll::PathSearchResult p4d, search(p4d_like, {.nodes = 2}));
  report.checks.push_back(at_least("p4d-shaped box, 2 nodes: best / default ring busBw", "x", 1.0,
                                   p4d.rings.front().bus_bw / p4d.default_ring.bus_bw, kTcclClaim));
  report.checks.push_back(within("p4d-shaped box, 2 nodes: best ring busBw", "GB/s", 10.0,
                                 gbps(p4d.rings.front().bus_bw), 1e-9, std::string(kHand) + ": SMP-bound"));

  // Beyond the exhaustive range: 4 sockets x 2 switches x 2 GPUs (16 GPUs), heuristic search.
  MLSYS_ASSIGN_OR_RETURN(coll::PathSearchResult big, search(coll::pcie_box(4, 2, 2, 0, true), {.seed = options.seed}));
  report.checks.push_back(within("16-GPU 4-socket box: heuristic best ring busBw", "GB/s", 10.0,
                                 gbps(big.rings.front().bus_bw), 1e-9, std::string(kHand) + ": SMP-bound"));

  // Differential: greedy + 2-opt against the exhaustive oracle on random PCIe trees.
  const int trees = options.quick ? 10 : 40;
  int agree = 0;
  for (int k = 1; k <= trees; ++k) {
    const auto seed = static_cast<uint64_t>(k) + options.seed * 1000;
    const coll::SyntheticBox b = coll::random_pcie_box(seed, 3 + k % 6);
    MLSYS_ASSIGN_OR_RETURN(coll::PathSearchResult ex, search(b, {.method = coll::PathSearchMethod::kExhaustive}));
    MLSYS_ASSIGN_OR_RETURN(coll::PathSearchResult he,
                           search(b, {.method = coll::PathSearchMethod::kHeuristic, .seed = seed}));
    agree += ex.rings.front().bottleneck == he.rings.front().bottleneck &&
             ex.chains.front().bottleneck == he.chains.front().bottleneck;
  }
  report.checks.push_back(within("random PCIe trees (3-8 GPUs): heuristic finds the exhaustive optimum", "trees",
                                 trees, agree, 0.0, "exhaustive search (oracle)"));

  report.notes.push_back(
      "TCCL's headline, up to 2.07x over NCCL and MSCCL [project page, verified], was measured on AMD-V100, "
      "AMD-RTX3090 and Intel-V100 clusters against NCCL's own searched rings, on measured effects (congestion "
      "between concurrent transfers inside the CPU, bounce-buffer placement) that this model does not have. Ours, " + two_decimals(best / nccl) +
      "x on the interleaved box, is against NCCL's device-order ring under link contention only: not the same "
      "comparison, so no envelope. TCCL's DL-training speedups (about 1.1-1.3x) are recalled, not checked.");
  report.notes.push_back("on the real AWS p4d, Azure NDv4 and NCv4 files the device-order ring is already optimal "
                         "in this model (mlsys coll paths --nccl-topo FILE shows each)");
  return report;
}

}  // namespace mlsys::reproduce
