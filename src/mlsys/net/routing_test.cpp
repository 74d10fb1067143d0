#include "mlsys/net/routing.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <vector>

#include "mlsys/hw/topology_builders.h"
#include "mlsys/net/internal/test_topologies.h"

namespace mlsys::net {
namespace {

using internal::make_fat_tree;
using internal::make_line;
using internal::make_torus;

// The nodes a route visits, starting with its source.
std::vector<NodeId> visited(const hw::Topology& t, const Route& r) {
  std::vector<NodeId> nodes{r.src};
  for (LinkId l : r.links) nodes.push_back(t.link(l).dst);
  return nodes;
}

int ring_distance(int a, int b, int k) {
  const int d = std::abs(a - b);
  return d < k - d ? d : k - d;
}

TEST(SplitMix64, MatchesTheReferenceFirstOutput) {
  // First output of the reference splitmix64 generator seeded with 0.
  EXPECT_EQ(splitmix64(0), 0xE220A8397B1DCDAFULL);
}

TEST(Router, SingleLinkRouteHasOneHopAndItsLatency) {
  const hw::Topology t = make_line(2, GBps(100), us(2));
  Router router(t);
  Result<const Route*> r = router.route(0, 1);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)->links, std::vector<LinkId>{0});
  EXPECT_EQ((*r)->latency, us(2));
}

TEST(Router, LatencyIsTheSumOverHops) {
  const hw::Topology t = make_line(4, GBps(100), nsec(300));
  Router router(t);
  Result<const Route*> r = router.route(0, 3);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->hops(), 3);
  EXPECT_EQ((*r)->latency, nsec(900));
}

TEST(Router, RouteToSelfIsEmpty) {
  const hw::Topology t = make_line(2, GBps(100), us(1));
  Router router(t);
  Result<const Route*> r = router.route(1, 1);
  ASSERT_TRUE(r);
  EXPECT_TRUE((*r)->links.empty());
  EXPECT_EQ((*r)->latency, Time::zero());
}

TEST(Router, RepeatedQueryReturnsTheInternedRoute) {
  const hw::Topology t = make_fat_tree(4, GBps(50), us(1));
  Router router(t);
  Result<const Route*> a = router.route_ranks(0, 15, 9);
  Result<const Route*> b = router.route_ranks(0, 15, 9);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(router.route_count(), 1);
  EXPECT_EQ(router.distance_tables(), 1);
}

TEST(Router, TorusRouteTakesTheShortWayAroundTheRing) {
  const hw::Topology t = make_torus({8}, GBps(50), us(1));
  Router router(t);
  Result<const Route*> r = router.route_ranks(1, 7);  // 6 hops forward, 2 backward
  ASSERT_TRUE(r);
  EXPECT_EQ(visited(t, **r), (std::vector<NodeId>{1, 0, 7}));
}

TEST(Router, TorusTieGoesThePositiveWay) {
  const hw::Topology t = make_torus({4}, GBps(50), us(1));
  Router router(t);
  Result<const Route*> r = router.route_ranks(3, 1);  // 2 hops either way
  ASSERT_TRUE(r);
  EXPECT_EQ(visited(t, **r), (std::vector<NodeId>{3, 0, 1}));
}

TEST(Router, TorusCorrectsDimensionsInIncreasingOrder) {
  const hw::Topology t = make_torus({4, 4}, GBps(50), us(1));
  Router router(t);
  // Rank = 4 * coord[0] + coord[1]: (0,0) -> (1,1) fixes dimension 0 first, via (1,0) = rank 4.
  Result<const Route*> r = router.route_ranks(0, 5);
  ASSERT_TRUE(r);
  EXPECT_EQ(visited(t, **r), (std::vector<NodeId>{0, 4, 5}));
}

TEST(Router, TorusHopCountIsTheSumOfRingDistances) {
  const std::vector<int> dims = {4, 3, 5};
  const hw::Topology t = make_torus(dims, GBps(50), us(1));
  Router router(t);
  for (int a = 0; a < t.endpoint_count(); ++a) {
    for (int b = 0; b < t.endpoint_count(); ++b) {
      const int expected = ring_distance(a / 15, b / 15, 4) + ring_distance(a / 5 % 3, b / 5 % 3, 3) +
                           ring_distance(a % 5, b % 5, 5);
      Result<const Route*> r = router.route_ranks(a, b);
      ASSERT_TRUE(r);
      EXPECT_EQ((*r)->hops(), expected) << a << " -> " << b;
      EXPECT_EQ((*r)->latency, nsec(1000 * int64_t{expected}));
    }
  }
}

TEST(Router, HwBuilderTorusRoutesByDimensionOrder) {
  Result<hw::Topology> t = hw::build_torus({8, 8}, {.bandwidth = GBps(50), .latency = us(1)});
  ASSERT_TRUE(t) << t.error().to_string();
  Router router(*t);
  Result<const Route*> r = router.route_ranks(0, 4 * 8 + 4);  // (0,0) -> (4,4): 4 + 4 hops
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)->hops(), 8);
  Result<const Route*> wrap = router.route_ranks(0, 7 * 8 + 7);  // (0,0) -> (7,7): 1 + 1 hops
  ASSERT_TRUE(wrap);
  EXPECT_EQ(visited(*t, **wrap), (std::vector<NodeId>{t->endpoint(0), t->endpoint(56), t->endpoint(63)}));
}

TEST(Router, MeshRouteDoesNotWrap) {
  const hw::Topology t = make_torus({5}, GBps(50), us(1), /*wrap=*/false);
  Router router(t);
  Result<const Route*> r = router.route_ranks(0, 4);
  ASSERT_TRUE(r);
  EXPECT_EQ(visited(t, **r), (std::vector<NodeId>{0, 1, 2, 3, 4}));
}

TEST(Router, TorusMissingNeighbourLinkIsAnError) {
  hw::Topology t("broken");
  for (int r = 0; r < 3; ++r) t.add_endpoint(t.add_node(hw::NodeKind::kGpu, "n" + std::to_string(r)));
  t.add_duplex(0, 1, GBps(50), us(1), hw::LinkKind::kIci);
  t.add_duplex(1, 2, GBps(50), us(1), hw::LinkKind::kIci);
  t.set_torus({{3}, true});  // claims a ring, but 2 -> 0 is missing
  Router router(t);
  Result<const Route*> r = router.route_ranks(2, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidInput);
}

TEST(Router, TorusShapeThatDoesNotMatchTheEndpointsIsAnError) {
  hw::Topology t = make_torus({4}, GBps(50), us(1));
  t.set_torus({{2, 3}, true});
  Router router(t);
  Result<const Route*> r = router.route_ranks(0, 1);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("endpoints"), std::string::npos);
}

TEST(Router, FatTreeRouteIsAShortestPath) {
  const hw::Topology t = make_fat_tree(4, GBps(50), us(1));
  Router router(t);
  Result<const Route*> same_edge = router.route_ranks(0, 1);
  Result<const Route*> same_pod = router.route_ranks(0, 2);
  Result<const Route*> other_pod = router.route_ranks(0, 15);
  ASSERT_TRUE(same_edge && same_pod && other_pod);
  EXPECT_EQ((*same_edge)->hops(), 2);
  EXPECT_EQ((*same_pod)->hops(), 4);
  EXPECT_EQ((*other_pod)->hops(), 6);
  EXPECT_EQ(router.distance(t.endpoint(0), t.endpoint(15)), 6);
}

TEST(Router, EcmpIsAFunctionOfSourceDestinationAndKey) {
  const hw::Topology t = make_fat_tree(4, GBps(50), us(1));
  Router first(t);
  Router second(t);
  for (uint64_t key = 0; key < 32; ++key) {
    Result<const Route*> a = first.route_ranks(3, 12, key);
    Result<const Route*> b = second.route_ranks(3, 12, key);
    ASSERT_TRUE(a && b);
    EXPECT_EQ((*a)->links, (*b)->links) << "key " << key;
  }
}

TEST(Router, EcmpKeysSpreadOverAllEqualCostPaths) {
  // Between pods of a k=4 fat-tree there are 2 aggregation x 2 core choices: 4 paths.
  const hw::Topology t = make_fat_tree(4, GBps(50), us(1));
  Router router(t);
  std::set<std::vector<LinkId>> paths;
  for (uint64_t key = 0; key < 64; ++key) {
    Result<const Route*> r = router.route_ranks(0, 15, key);
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)->hops(), 6);
    paths.insert((*r)->links);
  }
  EXPECT_EQ(paths.size(), 4u);
}

TEST(Router, UnreachableDestinationIsAnError) {
  hw::Topology t("one_way");
  t.add_endpoint(t.add_node(hw::NodeKind::kGpu, "a"));
  t.add_endpoint(t.add_node(hw::NodeKind::kGpu, "b"));
  t.add_link(0, 1, GBps(10), us(1), hw::LinkKind::kNetwork);
  Router router(t);
  EXPECT_TRUE(router.route(0, 1));
  Result<const Route*> back = router.route(1, 0);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(router.distance(1, 0), -1);
}

TEST(Router, NodeOrRankOutOfRangeIsAnError) {
  const hw::Topology t = make_line(2, GBps(100), us(1));
  Router router(t);
  EXPECT_FALSE(router.route(0, 2));
  EXPECT_FALSE(router.route(-1, 0));
  EXPECT_FALSE(router.route_ranks(0, 5));
}

}  // namespace
}  // namespace mlsys::net
