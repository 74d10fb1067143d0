#include "mlsys/net/max_min.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "mlsys/core/check.h"

namespace mlsys::net {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Both solvers must compute a link's share with exactly this expression.
inline double link_share(double remaining, int32_t count) {
  return std::max(0.0, remaining / static_cast<double>(count));
}

}  // namespace

Result<std::vector<Bandwidth>> max_min_fair_rates(std::span<const Bandwidth> link_capacity,
                                                  std::span<const MaxMinFlow> flows) {
  const size_t link_count = link_capacity.size();
  const size_t flow_count = flows.size();
  std::vector<double> remaining(link_count, 0.0);
  std::vector<int32_t> count(link_count, 0);
  std::vector<std::vector<size_t>> users(link_count);  // flows crossing each link, by position
  for (size_t f = 0; f < flow_count; ++f) {
    if (!(flows[f].cap.base() > 0.0)) {
      return invalid_input(
          "flow " + std::to_string(f) + " has rate cap " + std::to_string(flows[f].cap.base()) + " B/s",
          "a rate cap must be positive; use kNoRateCap for none");
    }
    for (hw::LinkId l : flows[f].links) {
      if (l < 0 || static_cast<size_t>(l) >= link_count) {
        return invalid_input(
            "flow " + std::to_string(f) + " crosses link " + std::to_string(l) + ", which does not exist",
            "there are " + std::to_string(link_count) + " links");
      }
      ++count[static_cast<size_t>(l)];
      users[static_cast<size_t>(l)].push_back(f);
    }
  }
  for (size_t l = 0; l < link_count; ++l) {
    if (count[l] == 0) continue;
    const double c = link_capacity[l].base();
    if (!(c > 0.0) || !std::isfinite(c)) {
      return invalid_input("link " + std::to_string(l) + " has capacity " + std::to_string(c) + " B/s",
                           "link capacities must be positive and finite");
    }
    remaining[l] = c;
  }

  std::vector<double> rate(flow_count, kInfinity);
  std::vector<bool> frozen(flow_count, false);
  size_t unfrozen = flow_count;
  auto freeze = [&](size_t f, double share) {
    rate[f] = share;
    frozen[f] = true;
    --unfrozen;
    for (hw::LinkId l : flows[f].links) {
      remaining[static_cast<size_t>(l)] -= share;
      --count[static_cast<size_t>(l)];
    }
  };

  while (unfrozen > 0) {
    // The tightest constraint; scanning links first and by increasing id, then caps by position,
    // with strict comparisons, realises the documented tie order.
    bool found = false;
    bool is_link = false;
    size_t which = 0;
    double best = 0.0;
    for (size_t l = 0; l < link_count; ++l) {
      if (count[l] == 0) continue;
      const double share = link_share(remaining[l], count[l]);
      if (!found || share < best) {
        found = true;
        is_link = true;
        which = l;
        best = share;
      }
    }
    for (size_t f = 0; f < flow_count; ++f) {
      const double cap = flows[f].cap.base();
      if (frozen[f] || !std::isfinite(cap)) continue;
      if (!found || cap < best) {
        found = true;
        is_link = false;
        which = f;
        best = cap;
      }
    }
    if (!found) break;  // only unconstrained flows remain: they keep an infinite rate
    if (!is_link) {
      freeze(which, best);
      continue;
    }
    for (size_t f : users[which]) {
      if (!frozen[f]) freeze(f, best);
    }
  }

  std::vector<Bandwidth> out;
  out.reserve(flow_count);
  for (double r : rate) out.push_back(Bps(r));
  return out;
}

MaxMinSolver::MaxMinSolver(std::vector<Bandwidth> link_capacity) {
  const size_t n = link_capacity.size();
  capacity_.reserve(n);
  for (Bandwidth c : link_capacity) capacity_.push_back(c.base());
  remaining_.assign(n, 0.0);
  count_.assign(n, 0);
  version_.assign(n, 0);
  queued_.assign(n, 0.0);
  local_.assign(n, -1);
}

namespace {
// Heap order: the candidate that the oracle would pick first sits on top.
struct LaterCandidate {
  template <class C>
  bool operator()(const C& a, const C& b) const {
    if (a.share != b.share) return a.share > b.share;
    if (a.kind != b.kind) return a.kind > b.kind;
    return a.id > b.id;
  }
};
}  // namespace

void MaxMinSolver::push_link(hw::LinkId l) {
  const auto i = static_cast<size_t>(l);
  queued_[i] = link_share(remaining_[i], count_[i]);
  heap_.push_back({queued_[i], 0, l, version_[i]});
  std::push_heap(heap_.begin(), heap_.end(), LaterCandidate{});
}

void MaxMinSolver::freeze(std::span<const MaxMinFlow> flows, int32_t f, double share,
                          std::span<Bandwidth> rates) {
  rates[static_cast<size_t>(f)] = Bps(share);
  frozen_[static_cast<size_t>(f)] = 1;
  for (hw::LinkId l : flows[static_cast<size_t>(f)].links) {
    const auto i = static_cast<size_t>(l);
    remaining_[i] -= share;
    --count_[i];
    ++version_[i];
    // Freezing flows at the minimum share s <= remaining / count raises a link's share in exact
    // arithmetic, so its queued entry stays a lower bound and is refreshed only when it surfaces
    // (see solve). Rounding can lower the share by an ulp: then queue the new value now.
    if (count_[i] > 0 && link_share(remaining_[i], count_[i]) < queued_[i]) push_link(l);
  }
}

void MaxMinSolver::solve(std::span<const MaxMinFlow> flows, std::span<Bandwidth> rates) {
  MLSYS_CHECK(rates.size() == flows.size(), "one rate per flow");
  const auto flow_count = static_cast<int32_t>(flows.size());
  const auto link_count = static_cast<hw::LinkId>(capacity_.size());

  touched_.clear();
  for (const MaxMinFlow& flow : flows) {
    MLSYS_CHECK(flow.cap.base() > 0.0, "rate caps must be positive");
    for (hw::LinkId l : flow.links) {
      MLSYS_CHECK(l >= 0 && l < link_count, "link id out of range");
      const auto i = static_cast<size_t>(l);
      if (local_[i] < 0) {
        MLSYS_CHECK(capacity_[i] > 0.0 && std::isfinite(capacity_[i]),
                    "a crossed link's capacity must be positive and finite");
        local_[i] = static_cast<int32_t>(touched_.size());
        touched_.push_back(l);
        remaining_[i] = capacity_[i];
        count_[i] = 0;
      }
      ++count_[i];
    }
  }
  // Users of each touched link, in flow order (CSR).
  const size_t touched = touched_.size();
  offsets_.assign(touched + 1, 0);
  for (const MaxMinFlow& flow : flows) {
    for (hw::LinkId l : flow.links) ++offsets_[static_cast<size_t>(local_[static_cast<size_t>(l)]) + 1];
  }
  for (size_t i = 0; i < touched; ++i) offsets_[i + 1] += offsets_[i];
  users_.resize(static_cast<size_t>(offsets_[touched]));
  fill_.assign(offsets_.begin(), offsets_.end() - 1);
  for (int32_t f = 0; f < flow_count; ++f) {
    for (hw::LinkId l : flows[static_cast<size_t>(f)].links) {
      users_[static_cast<size_t>(fill_[static_cast<size_t>(local_[static_cast<size_t>(l)])]++)] = f;
    }
  }

  frozen_.assign(flows.size(), 0);
  heap_.clear();
  for (hw::LinkId l : touched_) {
    const auto i = static_cast<size_t>(l);
    queued_[i] = link_share(remaining_[i], count_[i]);
    heap_.push_back({queued_[i], 0, l, version_[i]});
  }
  for (int32_t f = 0; f < flow_count; ++f) {
    rates[static_cast<size_t>(f)] = Bps(kInfinity);
    const double cap = flows[static_cast<size_t>(f)].cap.base();
    if (std::isfinite(cap)) heap_.push_back({cap, 1, f, 0});
  }
  std::make_heap(heap_.begin(), heap_.end(), LaterCandidate{});  // O(n), not n pushes

  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), LaterCandidate{});
    const Candidate c = heap_.back();
    heap_.pop_back();
    if (c.kind == 1) {
      if (frozen_[static_cast<size_t>(c.id)]) continue;
      freeze(flows, c.id, c.share, rates);
    } else {
      const auto i = static_cast<size_t>(c.id);
      if (count_[i] == 0) continue;
      if (c.version != version_[i]) {
        // Every link with unfrozen flows has an entry whose key is at most its current share, so
        // an up-to-date entry that surfaces is the exact minimum in the oracle's order; an
        // out-of-date one is re-queued with the current share.
        push_link(c.id);
        continue;
      }
      const auto local = static_cast<size_t>(local_[i]);
      for (int32_t u = offsets_[local]; u < offsets_[local + 1]; ++u) {
        const int32_t f = users_[static_cast<size_t>(u)];
        if (!frozen_[static_cast<size_t>(f)]) freeze(flows, f, c.share, rates);
      }
    }
  }

  for (hw::LinkId l : touched_) local_[static_cast<size_t>(l)] = -1;
}

}  // namespace mlsys::net
