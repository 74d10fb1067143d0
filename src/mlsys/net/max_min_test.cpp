#include "mlsys/net/max_min.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "mlsys/core/rng.h"

namespace mlsys::net {
namespace {

using Path = std::vector<hw::LinkId>;

std::vector<Bandwidth> solve_or_die(const std::vector<Bandwidth>& caps,
                                    const std::vector<MaxMinFlow>& flows) {
  Result<std::vector<Bandwidth>> r = max_min_fair_rates(caps, flows);
  EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
  return r ? *r : std::vector<Bandwidth>(flows.size());
}

TEST(MaxMin, LoneFlowGetsItsNarrowestLink) {
  const std::vector<Bandwidth> caps = {GBps(100), GBps(40), GBps(70)};
  const Path p = {0, 1, 2};
  const auto rates = solve_or_die(caps, {{p}});
  EXPECT_EQ(rates[0], GBps(40));
}

TEST(MaxMin, EqualFlowsSplitALinkEvenly) {
  const std::vector<Bandwidth> caps = {GBps(90)};
  const Path p = {0};
  const auto rates = solve_or_die(caps, {{p}, {p}, {p}});
  for (Bandwidth r : rates) EXPECT_DOUBLE_EQ(r.base(), GBps(30).base());
}

TEST(MaxMin, ParkingLotGivesEveryFlowHalf) {
  const std::vector<Bandwidth> caps(4, GBps(100));
  const Path long_path = {0, 1, 2, 3};
  const Path s0 = {0}, s1 = {1}, s2 = {2}, s3 = {3};
  const auto rates = solve_or_die(caps, {{long_path}, {s0}, {s1}, {s2}, {s3}});
  for (Bandwidth r : rates) EXPECT_EQ(r, GBps(50));
}

TEST(MaxMin, LeftoverCapacityGoesToUnconstrainedFlows) {
  // Link 1 (4 GB/s) is the bottleneck of flows A and C: 2 each. B takes the rest of link 0.
  const std::vector<Bandwidth> caps = {GBps(10), GBps(4)};
  const Path a = {0, 1}, b = {0}, c = {1};
  const auto rates = solve_or_die(caps, {{a}, {b}, {c}});
  EXPECT_EQ(rates[0], GBps(2));
  EXPECT_EQ(rates[1], GBps(8));
  EXPECT_EQ(rates[2], GBps(2));
}

TEST(MaxMin, RateCapBindsAndFreesCapacityForOthers) {
  const std::vector<Bandwidth> caps = {GBps(10)};
  const Path p = {0};
  const auto rates = solve_or_die(caps, {{p, GBps(1)}, {p}, {p}});
  EXPECT_EQ(rates[0], GBps(1));
  EXPECT_EQ(rates[1], GBps(4.5));
  EXPECT_EQ(rates[2], GBps(4.5));
}

TEST(MaxMin, LinkListedTwiceCarriesTheFlowTwice) {
  const std::vector<Bandwidth> caps = {GBps(10)};
  const Path loop = {0, 0};
  const auto rates = solve_or_die(caps, {{loop}});
  EXPECT_EQ(rates[0], GBps(5));
}

TEST(MaxMin, FlowWithoutLinksIsLimitedOnlyByItsCap) {
  const std::vector<Bandwidth> caps = {GBps(10)};
  const auto rates = solve_or_die(caps, {{{}}, {{}, GBps(3)}});
  EXPECT_TRUE(std::isinf(rates[0].base()));
  EXPECT_EQ(rates[1], GBps(3));
}

TEST(MaxMin, UnknownLinkIsAnError) {
  const std::vector<Bandwidth> caps = {GBps(10)};
  const Path p = {0, 1};
  Result<std::vector<Bandwidth>> r = max_min_fair_rates(caps, std::vector<MaxMinFlow>{{p}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidInput);
}

TEST(MaxMin, NonPositiveCapIsAnError) {
  const std::vector<Bandwidth> caps = {GBps(10)};
  const Path p = {0};
  EXPECT_FALSE(max_min_fair_rates(caps, std::vector<MaxMinFlow>{{p, Bps(0)}}));
  EXPECT_FALSE(max_min_fair_rates(caps, std::vector<MaxMinFlow>{{p, Bps(-1)}}));
}

TEST(MaxMin, ZeroCapacityLinkIsAnErrorWhenCrossed) {
  const std::vector<Bandwidth> caps = {GBps(10), Bps(0)};
  const Path ok = {0}, bad = {1};
  EXPECT_TRUE(max_min_fair_rates(caps, std::vector<MaxMinFlow>{{ok}}));
  EXPECT_FALSE(max_min_fair_rates(caps, std::vector<MaxMinFlow>{{bad}}));
}

// Random problem: `links` links of mixed capacity, `flows` flows over 1..6 random links, some
// capped; capacities drawn from few values so that ties (the hard case for bitwise agreement)
// are common.
struct RandomProblem {
  std::vector<Bandwidth> caps;
  std::vector<Path> paths;
  std::vector<MaxMinFlow> flows;
};

RandomProblem random_problem(RngStream& rng, int links, int flows) {
  RandomProblem p;
  for (int l = 0; l < links; ++l) p.caps.push_back(GBps(static_cast<double>(25 * rng.uniform_int(1, 4))));
  for (int f = 0; f < flows; ++f) {
    Path path;
    const int64_t hops = rng.uniform_int(1, 6);
    for (int64_t h = 0; h < hops; ++h) path.push_back(static_cast<hw::LinkId>(rng.uniform_int(0, links - 1)));
    p.paths.push_back(std::move(path));
  }
  for (int f = 0; f < flows; ++f) {
    const Bandwidth cap = rng.uniform() < 0.2 ? GBps(rng.uniform(1, 60)) : kNoRateCap;
    p.flows.push_back({p.paths[static_cast<size_t>(f)], cap});
  }
  return p;
}

TEST(MaxMin, OracleAllocationIsFeasibleAndEveryFlowHasABottleneck) {
  RngStream rng(1, "net/max_min_property");
  for (int trial = 0; trial < 50; ++trial) {
    const RandomProblem p = random_problem(rng, 12, 30);
    const auto rates = solve_or_die(p.caps, p.flows);
    std::vector<double> load(p.caps.size(), 0.0);
    for (size_t f = 0; f < p.flows.size(); ++f) {
      for (hw::LinkId l : p.paths[f]) load[static_cast<size_t>(l)] += rates[f].base();
    }
    for (size_t l = 0; l < load.size(); ++l) EXPECT_LE(load[l], p.caps[l].base() * (1 + 1e-9));
    // Max-min: each flow is at its cap, or crosses a saturated link on which no flow is faster.
    for (size_t f = 0; f < p.flows.size(); ++f) {
      const double r = rates[f].base();
      bool bottlenecked = std::abs(r - p.flows[f].cap.base()) <= 1e-6 * r;
      for (hw::LinkId l : p.paths[f]) {
        const auto li = static_cast<size_t>(l);
        if (load[li] < p.caps[li].base() * (1 - 1e-9)) continue;
        bool fastest = true;
        for (size_t g = 0; g < p.flows.size(); ++g) {
          const Path& q = p.paths[g];
          if (std::find(q.begin(), q.end(), l) != q.end() && rates[g].base() > r * (1 + 1e-9))
            fastest = false;
        }
        bottlenecked = bottlenecked || fastest;
      }
      EXPECT_TRUE(bottlenecked) << "trial " << trial << " flow " << f;
    }
  }
}

TEST(MaxMin, FastSolverMatchesTheOracleBitForBit) {
  RngStream rng(7, "net/max_min_differential");
  for (int trial = 0; trial < 200; ++trial) {
    const int links = static_cast<int>(rng.uniform_int(1, 40));
    const int flows = static_cast<int>(rng.uniform_int(1, 120));
    const RandomProblem p = random_problem(rng, links, flows);
    const auto oracle = solve_or_die(p.caps, p.flows);
    MaxMinSolver solver(p.caps);
    std::vector<Bandwidth> fast(p.flows.size());
    solver.solve(p.flows, fast);
    for (size_t f = 0; f < fast.size(); ++f) {
      ASSERT_EQ(fast[f].base(), oracle[f].base()) << "trial " << trial << " flow " << f;
    }
  }
}

TEST(MaxMin, FastSolverReusedAcrossCallsForgetsEarlierProblems) {
  const std::vector<Bandwidth> caps = {GBps(10), GBps(20)};
  MaxMinSolver solver(caps);
  const Path p0 = {0}, p1 = {1};
  std::vector<Bandwidth> rates(2);
  solver.solve(std::vector<MaxMinFlow>{{p0}, {p0}}, rates);
  EXPECT_EQ(rates[0], GBps(5));
  std::vector<Bandwidth> one(1);
  solver.solve(std::vector<MaxMinFlow>{{p0}}, one);
  EXPECT_EQ(one[0], GBps(10));
  solver.solve(std::vector<MaxMinFlow>{{p1}}, one);
  EXPECT_EQ(one[0], GBps(20));
}

}  // namespace
}  // namespace mlsys::net
