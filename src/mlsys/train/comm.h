// Communication times of a training plan's collectives, from coll/'s analytic cost model on the
// cluster's two tiers (NVLink inside a node, NICs across nodes).
//
//   CommModel comm(cluster);
//   Time ar = comm.collective(coll::Collective::kAllreduce, {.ranks = 8}, MiB(96));  // TP, NVLink
//   Time dp = comm.collective(coll::Collective::kReduceScatter, {.ranks = 192, .per_node = 1}, GiB(1));
//
// Each tier is a crossbar (one switch) of `ranks` endpoints whose links run at the tier's
// bandwidth x achieved efficiency (data/train/network.csv); the collective is coll/'s ring
// (pairwise exchange for all-to-all) timed by coll::AnalyticModel, plus the tier's per-collective
// latency once. A group spanning nodes is hierarchical (NCCL-style): reduce-scatter inside the
// node, the 1/k share across nodes, all-gather inside the node.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <tuple>

#include "mlsys/coll/cost_model.h"
#include "mlsys/coll/schedule.h"
#include "mlsys/core/units.h"
#include "mlsys/train/plan.h"

namespace mlsys::train {

enum class Tier { kNvLink, kNic };

/// Where a communicator's ranks sit: `ranks` in total, `per_node` of them in each node
/// (per_node >= ranks: all in one node, NVLink only).
struct Group {
  int64_t ranks = 1;
  int64_t per_node = 1;
};

class CommModel {
 public:
  explicit CommModel(const Cluster& cluster) : cluster_(cluster) {}

  /// Time of `collective` over `group` on a vector of `bytes` (all-reduce, reduce-scatter and
  /// all-gather: the full vector; all-to-all: what one rank sends in total). Zero for one rank.
  Time collective(coll::Collective collective, Group group, Bytes bytes) const;
  /// One point-to-point message on `tier`.
  Time p2p(Tier tier, Bytes bytes) const;

  const Cluster& cluster() const { return cluster_; }

 private:
  // Flat (single-tier) time from the cached coll model.
  Time flat(coll::Collective collective, int64_t ranks, Tier tier, Bytes bytes) const;

  Cluster cluster_;
  mutable std::map<std::tuple<int, int64_t, int>, std::shared_ptr<const coll::AnalyticModel>> cache_;
};

}  // namespace mlsys::train
