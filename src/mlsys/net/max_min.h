// Max-min fair rate allocation by progressive filling (water-filling).
//
// `max_min_fair_rates` is the plain full-recompute solver, kept simple as the oracle that the fast
// `MaxMinSolver` (used by FlowNetwork's lazy mode) is tested against bit for bit.
//
//   std::vector<Bandwidth> caps = {GBps(100), GBps(50)};
//   std::vector<LinkId> path = {0, 1};
//   auto rates = max_min_fair_rates(caps, std::vector<MaxMinFlow>{{path}});  // {50 GB/s}
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/hw/topology.h"

namespace mlsys::net {

/// A rate cap that never binds.
inline constexpr Bandwidth kNoRateCap = Bps(std::numeric_limits<double>::infinity());

/// One flow of a max-min problem.
struct MaxMinFlow {
  /// Directed links the flow crosses; a link listed twice carries the flow twice (uses 2x its rate).
  std::span<const hw::LinkId> links;
  /// Upper bound on the flow's rate (e.g. a NIC or protocol limit); kNoRateCap for none.
  Bandwidth cap = kNoRateCap;
};

/// The max-min fair allocation: no flow's rate can grow without shrinking the rate of a flow that
/// is no faster. Progressive filling: repeatedly take the tightest constraint -- the link with the
/// least remaining capacity per unfrozen flow crossing it, or the smallest unfrozen cap -- freeze
/// its flows at that share and subtract it from every link they cross.
///
/// Ties are taken in a fixed order (share, then links before caps, then link id / flow position),
/// and shares are clamped at zero, so results are reproducible to the bit. A flow with no links
/// and no cap gets an infinite rate. Rates are in the returned order of `flows`.
/// Errors: a link id outside [0, link_capacity.size()), a crossed link whose capacity is not
/// positive and finite, a cap that is not positive.
Result<std::vector<Bandwidth>> max_min_fair_rates(std::span<const Bandwidth> link_capacity,
                                                  std::span<const MaxMinFlow> flows);

/// The fast solver: the same allocation as max_min_fair_rates, bit for bit (it performs the same
/// floating-point operations in the same order), in O((P + L) log L) for flows with P link
/// crossings in total touching L distinct links -- independent of the network size, so solving one
/// connected component of a large network costs only that component. Keeps its workspace between
/// calls: no allocation once warm.
class MaxMinSolver {
 public:
  /// `link_capacity[l]` is link l's capacity; those of crossed links must be positive and finite.
  explicit MaxMinSolver(std::vector<Bandwidth> link_capacity);

  /// Writes each flow's rate into `rates` (same size and order as `flows`). Input is trusted
  /// (it comes from validated routes): violations are MLSYS_CHECK failures.
  void solve(std::span<const MaxMinFlow> flows, std::span<Bandwidth> rates);

  int link_count() const { return static_cast<int>(capacity_.size()); }

 private:
  struct Candidate {
    double share;
    int32_t kind;      // 0: a link, 1: a flow's cap (links win ties, as in the oracle)
    int32_t id;        // link id or flow position
    uint32_t version;  // links only: stale when it differs from version_[id]
  };
  void freeze(std::span<const MaxMinFlow> flows, int32_t f, double share, std::span<Bandwidth> rates);
  void push_link(hw::LinkId l);

  std::vector<double> capacity_;
  // Per-link workspace, valid for links in touched_ only.
  std::vector<double> remaining_;
  std::vector<int32_t> count_;
  std::vector<uint32_t> version_;  // bumped on every change of remaining_ / count_
  std::vector<double> queued_;     // share of the link's newest heap entry
  std::vector<int32_t> local_;     // index into touched_, -1 when untouched
  std::vector<hw::LinkId> touched_;
  std::vector<int32_t> offsets_;  // CSR: flows crossing touched_[i] are users_[offsets_[i]..]
  std::vector<int32_t> users_;
  std::vector<int32_t> fill_;
  std::vector<uint8_t> frozen_;
  std::vector<Candidate> heap_;
};

}  // namespace mlsys::net
