#include "mlsys/train/comm.h"

#include <algorithm>

#include "mlsys/coll/algorithms.h"
#include "mlsys/core/check.h"
#include "mlsys/hw/topology_builders.h"

namespace mlsys::train {
namespace {

// Ranks beyond which the ring on a crossbar is timed in closed form: coll's analytic model gives
// exactly (n-1)/n x bytes / bandwidth per pass there (cost_model.h), and building a 12,288-host
// crossbar per planner query would dominate the grid search. comm_test checks the two agree.
constexpr int64_t kMaxModelledRanks = 512;

}  // namespace

Time CommModel::flat(coll::Collective collective, int64_t ranks, Tier tier, Bytes bytes) const {
  if (ranks <= 1 || bytes.count() <= 0) return Time::zero();
  const bool nvl = tier == Tier::kNvLink;
  const Bandwidth bw = (nvl ? cluster_.intra_node : cluster_.inter_node) *
                       (nvl ? cluster_.intra_efficiency : cluster_.inter_efficiency);
  const Time latency = nvl ? cluster_.intra_latency : cluster_.inter_latency;
  if (ranks > kMaxModelledRanks) {
    const double n = static_cast<double>(ranks);
    double passes = (n - 1) / n;  // reduce-scatter, all-gather, all-to-all (pairwise)
    if (collective == coll::Collective::kAllreduce) passes *= 2;
    return latency + from_seconds(passes * static_cast<double>(bytes.count()) / bw.base());
  }
  const auto key = std::tuple{static_cast<int>(collective), ranks, static_cast<int>(tier)};
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    const int n = static_cast<int>(ranks);
    const char* name = collective == coll::Collective::kAlltoall ? "pairwise" : "ring";
    auto algo = coll::make_algorithm(name, {.collective = collective, .ranks = n});
    MLSYS_CHECK(algo.ok(), "ring/pairwise exist for every rank count");
    auto topo = hw::build_leaf_spine(n, 1, 1, {.bandwidth = bw, .latency = Time::zero()},
                                     {.bandwidth = Bps(0), .latency = Time::zero()});
    MLSYS_CHECK(topo.ok(), "a one-switch crossbar of <= 512 hosts is always valid");
    auto patterns = coll::StepPatterns::compile(**algo);
    MLSYS_CHECK(patterns.ok(), "ring and pairwise schedules are step-aligned");
    auto model = coll::AnalyticModel::build(*patterns, *topo);
    MLSYS_CHECK(model.ok(), "a crossbar routes every pair");
    it = cache_.emplace(key, std::make_shared<const coll::AnalyticModel>(std::move(*model))).first;
  }
  return latency + it->second->time(bytes).time;
}

Time CommModel::collective(coll::Collective collective, Group group, Bytes bytes) const {
  const int64_t n = group.ranks;
  if (n <= 1) return Time::zero();
  const int64_t in_node = std::clamp<int64_t>(group.per_node, 1, n);
  const int64_t nodes = n / in_node;
  if (nodes <= 1) return flat(collective, n, Tier::kNvLink, bytes);
  if (in_node == 1) return flat(collective, n, Tier::kNic, bytes);
  // Hierarchical: each of the in_node GPUs carries 1/in_node of the data across nodes on its
  // own NIC (rail-optimised), after a reduce-scatter inside the node.
  const Bytes share = bytes / in_node;
  switch (collective) {
    case coll::Collective::kAllreduce:
      return flat(coll::Collective::kReduceScatter, in_node, Tier::kNvLink, bytes) +
             flat(coll::Collective::kAllreduce, nodes, Tier::kNic, share) +
             flat(coll::Collective::kAllgather, in_node, Tier::kNvLink, bytes);
    case coll::Collective::kReduceScatter:
    case coll::Collective::kAllgather:
      return flat(collective, in_node, Tier::kNvLink, bytes) + flat(collective, nodes, Tier::kNic, share);
    case coll::Collective::kAlltoall: {
      // The share bound for other nodes leaves on the NICs; the rest stays on NVLink.
      const double remote = static_cast<double>(n - in_node) / static_cast<double>(n - 1);
      return std::max(flat(collective, in_node, Tier::kNvLink, bytes * (1.0 - remote)),
                      flat(collective, n, Tier::kNic, bytes * remote));
    }
  }
  return Time::zero();
}

Time CommModel::p2p(Tier tier, Bytes bytes) const {
  if (bytes.count() <= 0) return Time::zero();
  const bool nvl = tier == Tier::kNvLink;
  const Bandwidth bw = (nvl ? cluster_.intra_node : cluster_.inter_node) *
                       (nvl ? cluster_.intra_efficiency : cluster_.inter_efficiency);
  return (nvl ? cluster_.intra_latency : cluster_.inter_latency) + bytes / bw;
}

}  // namespace mlsys::train
