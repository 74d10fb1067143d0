#include "mlsys/hw/topology.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>

#include "mlsys/core/check.h"
#include "mlsys/hw/topology_builders.h"

namespace mlsys::hw {
namespace {

using ::testing::HasSubstr;

constexpr double kEps = 1e-6;
const LinkSpec kLink{.bandwidth = Gbps(400), .latency = us(1)};

Topology must(Result<Topology> r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? std::move(*r) : Topology();
}

int out_degree(const Topology& t, NodeId n) { return static_cast<int>(t.out_links(n).size()); }

std::vector<NodeId> neighbours(const Topology& t, NodeId n) {
  std::vector<NodeId> out;
  for (LinkId l : t.out_links(n)) out.push_back(t.link(l).dst);
  return out;
}

// Hop distance by BFS over directed links; -1 when unreachable.
int hops(const Topology& t, NodeId src, NodeId dst) {
  std::vector<int> dist(static_cast<size_t>(t.node_count()), -1);
  std::deque<NodeId> q{src};
  dist[static_cast<size_t>(src)] = 0;
  while (!q.empty()) {
    NodeId cur = q.front();
    q.pop_front();
    for (NodeId next : neighbours(t, cur)) {
      if (dist[static_cast<size_t>(next)] < 0) {
        dist[static_cast<size_t>(next)] = dist[static_cast<size_t>(cur)] + 1;
        q.push_back(next);
      }
    }
  }
  return dist[static_cast<size_t>(dst)];
}

int count_kind(const Topology& t, NodeKind kind) {
  return static_cast<int>(t.nodes_of_kind(kind).size());
}

// --- Topology ---------------------------------------------------------------------------------

TEST(Topology, FindsNodesAndLinksByName) {
  Topology t("t");
  NodeId a = t.add_node(NodeKind::kGpu, "a", 0);
  NodeId b = t.add_node(NodeKind::kSwitch, "b");
  t.add_duplex(a, b, GBps(10), us(1), LinkKind::kNetwork);
  EXPECT_EQ(t.find("b"), b);
  EXPECT_FALSE(t.find("c").has_value());
  ASSERT_TRUE(t.find_link(b, a).has_value());
  EXPECT_EQ(t.link(*t.find_link(b, a)).src, b);
  EXPECT_FALSE(t.find_link(a, a).has_value());
  EXPECT_EQ(t.link_count(), 2);
}

TEST(Topology, EndpointsGetRanksInOrder) {
  Topology t;
  NodeId a = t.add_node(NodeKind::kGpu, "a");
  NodeId b = t.add_node(NodeKind::kGpu, "b");
  t.add_endpoint(b);
  t.add_endpoint(a);
  EXPECT_EQ(t.endpoint(0), b);
  EXPECT_EQ(t.node(a).rank, 1);
}

TEST(Topology, DuplicateNodeNameIsABug) {
  Topology t;
  t.add_node(NodeKind::kGpu, "a");
  EXPECT_THROW(t.add_node(NodeKind::kCpu, "a"), InternalError);
}

TEST(Topology, SelfLinkAndZeroBandwidthAreBugs) {
  Topology t;
  NodeId a = t.add_node(NodeKind::kGpu, "a");
  NodeId b = t.add_node(NodeKind::kGpu, "b");
  EXPECT_THROW(t.add_link(a, a, GBps(1), us(1), LinkKind::kNvLink), InternalError);
  EXPECT_THROW(t.add_link(a, b, GBps(0), us(1), LinkKind::kNvLink), InternalError);
  EXPECT_THROW(t.add_link(a, 7, GBps(1), us(1), LinkKind::kNvLink), InternalError);
}

TEST(Topology, KindNamesAreStable) {
  EXPECT_EQ(to_string(NodeKind::kPcieSwitch), "pcie-switch");
  EXPECT_EQ(to_string(LinkKind::kIci), "ici");
}

// --- Torus / mesh -----------------------------------------------------------------------------

TEST(Torus, EightByEightHas64EndpointsAnd256Links) {
  Topology t = must(build_torus({8, 8}, kLink));
  EXPECT_EQ(t.endpoint_count(), 64);
  EXPECT_EQ(t.node_count(), 64);
  EXPECT_EQ(t.link_count(), 256);
  for (const Node& n : t.nodes()) EXPECT_EQ(out_degree(t, n.id), 4) << n.name;
  ASSERT_TRUE(t.torus().has_value());
  EXPECT_EQ(t.torus()->dims, (std::vector<int>{8, 8}));
  EXPECT_TRUE(t.torus()->wrap);
  EXPECT_EQ(t.name(), "torus:8x8");
}

TEST(Torus, OutLinksArePlusThenMinusPerDimensionRowMajor) {
  Topology t = must(build_torus({8, 8}, kLink));
  // Rank 0 = (0,0): +dim0 is rank 8, -dim0 wraps to 56, +dim1 is 1, -dim1 wraps to 7.
  EXPECT_EQ(neighbours(t, t.endpoint(0)), (std::vector<NodeId>{8, 56, 1, 7}));
  // Rank 13 = (1,5).
  EXPECT_EQ(neighbours(t, t.endpoint(13)), (std::vector<NodeId>{21, 5, 14, 12}));
}

TEST(Torus, SizeTwoRingGetsOneLinkEachWay) {
  Topology t = must(build_torus({2, 4}, kLink));
  for (const Node& n : t.nodes()) EXPECT_EQ(out_degree(t, n.id), 3) << n.name;
  EXPECT_EQ(t.link_count(), 24);
}

TEST(Torus, SizeOneDimensionHasNoLinks) {
  Topology t = must(build_torus({1, 4}, kLink));
  for (const Node& n : t.nodes()) EXPECT_EQ(out_degree(t, n.id), 2) << n.name;
}

TEST(Torus, LinksCarryTheSpec) {
  Topology t = must(build_torus({4}, {.bandwidth = GBps(25), .latency = nsec(500)}));
  for (const Link& l : t.links()) {
    EXPECT_EQ(l.bandwidth, GBps(25));
    EXPECT_EQ(l.latency, nsec(500));
    EXPECT_EQ(l.kind, LinkKind::kIci);
  }
}

TEST(Mesh, BorderNodesLackWrapLinks) {
  Topology t = must(build_torus({4, 4}, kLink, /*wrap=*/false));
  EXPECT_EQ(t.link_count(), 48);
  EXPECT_EQ(out_degree(t, t.endpoint(0)), 2);   // corner
  EXPECT_EQ(out_degree(t, t.endpoint(1)), 3);   // edge
  EXPECT_EQ(out_degree(t, t.endpoint(5)), 4);   // interior
  EXPECT_FALSE(t.torus()->wrap);
  EXPECT_EQ(hops(t, t.endpoint(0), t.endpoint(15)), 6);
}

TEST(Torus, RejectsBadParameters) {
  EXPECT_FALSE(build_torus({}, kLink).ok());
  EXPECT_FALSE(build_torus({8, 0}, kLink).ok());
  EXPECT_FALSE(build_torus({8, -2}, kLink).ok());
  EXPECT_FALSE(build_torus({8}, {.bandwidth = GBps(0), .latency = us(1)}).ok());
  EXPECT_FALSE(build_torus({8}, {.bandwidth = GBps(1), .latency = us(-1)}).ok());
  Result<Topology> huge = build_torus({4096, 4096}, kLink);
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.error().message(), HasSubstr("16777216 endpoints"));
}

// --- Fat-tree / leaf-spine --------------------------------------------------------------------

TEST(FatTree, K4Has16HostsAnd20Switches) {
  Topology t = must(build_fat_tree(4, kLink));
  EXPECT_EQ(t.endpoint_count(), 16);
  EXPECT_EQ(count_kind(t, NodeKind::kSwitch), 20);
  EXPECT_EQ(t.link_count(), 2 * (16 + 16 + 16));
  for (NodeId s : t.nodes_of_kind(NodeKind::kSwitch)) EXPECT_EQ(out_degree(t, s), 4) << t.node(s).name;
  for (int r = 0; r < 16; ++r) EXPECT_EQ(out_degree(t, t.endpoint(r)), 1);
}

TEST(FatTree, CrossPodPathsTakeSixHops) {
  Topology t = must(build_fat_tree(4, kLink));
  EXPECT_EQ(hops(t, t.endpoint(0), t.endpoint(1)), 2);   // same edge switch
  EXPECT_EQ(hops(t, t.endpoint(0), t.endpoint(2)), 4);   // same pod
  EXPECT_EQ(hops(t, t.endpoint(0), t.endpoint(15)), 6);  // other pod
}

TEST(FatTree, K8Has128Hosts) {
  Topology t = must(build_fat_tree(8, kLink));
  EXPECT_EQ(t.endpoint_count(), 128);
  EXPECT_EQ(count_kind(t, NodeKind::kSwitch), 80);
}

TEST(FatTree, RejectsOddOrTinyK) {
  EXPECT_FALSE(build_fat_tree(5, kLink).ok());
  EXPECT_FALSE(build_fat_tree(0, kLink).ok());
  EXPECT_FALSE(build_fat_tree(2000, kLink).ok());
}

TEST(LeafSpine, OversubscriptionSetsUplinkBandwidth) {
  Topology t = must(build_leaf_spine(8, 4, 2, kLink, {.bandwidth = Bandwidth(), .latency = us(2)}, 2.0));
  EXPECT_EQ(t.endpoint_count(), 32);
  EXPECT_EQ(count_kind(t, NodeKind::kSwitch), 6);
  EXPECT_EQ(t.link_count(), 2 * (32 + 8));
  const NodeId leaf = *t.find("leaf0");
  const NodeId spine = *t.find("spine1");
  const Link& up = t.link(*t.find_link(leaf, spine));
  // 8 hosts x 50 GB/s / (2 spines x 2) = 100 GB/s per uplink.
  EXPECT_NEAR(up.bandwidth / GBps(1), 100.0, kEps);
  EXPECT_EQ(up.latency, us(2));
}

TEST(LeafSpine, ExplicitUplinkBandwidthIsUsedAsIs) {
  Topology t = must(build_leaf_spine(2, 2, 1, kLink, {.bandwidth = Gbps(100), .latency = us(1)}));
  EXPECT_EQ(t.link(*t.find_link(*t.find("leaf1"), *t.find("spine0"))).bandwidth, Gbps(100));
}

TEST(LeafSpine, RejectsConflictingOrBadParameters) {
  EXPECT_FALSE(build_leaf_spine(2, 2, 1, kLink, {.bandwidth = Gbps(100), .latency = us(1)}, 2.0).ok());
  EXPECT_FALSE(build_leaf_spine(0, 2, 1, kLink, {}, 1.0).ok());
  EXPECT_FALSE(build_leaf_spine(2, 2, 0, kLink, {}, 1.0).ok());
  EXPECT_FALSE(build_leaf_spine(2, 2, 1, kLink, {}, 0.0).ok());
  EXPECT_FALSE(build_leaf_spine(2, 2, 1, kLink, {}, -1.0).ok());
}

// --- Rail-optimised ---------------------------------------------------------------------------

TEST(Rail, FourDgxH100NodesCounts) {
  Topology t = must(build_rail_optimized(4, 8, *find_node_spec("dgx-h100")));
  EXPECT_EQ(t.endpoint_count(), 32);
  EXPECT_EQ(count_kind(t, NodeKind::kGpu), 32);
  EXPECT_EQ(count_kind(t, NodeKind::kNic), 32);
  EXPECT_EQ(count_kind(t, NodeKind::kNvSwitch), 4);
  EXPECT_EQ(count_kind(t, NodeKind::kSwitch), 8 + 4);  // 8 rails, 4 spines (full bisection)
  EXPECT_EQ(t.link_count(), 2 * (4 * 16 + 32 + 8 * 4));
  EXPECT_EQ(t.node(t.endpoint(9)).name, "node1/gpu1");
  EXPECT_EQ(t.node(t.endpoint(9)).host, 1);
}

TEST(Rail, LinksUseTheNodeType) {
  Topology t = must(build_rail_optimized(2, 8, *find_node_spec("dgx-h100")));
  const NodeId gpu = *t.find("node0/gpu3");
  const Link& nv = t.link(*t.find_link(gpu, *t.find("node0/nvswitch")));
  EXPECT_EQ(nv.kind, LinkKind::kNvLink);
  EXPECT_NEAR(nv.bandwidth / GBps(1), 450.0, kEps);
  const Link& net = t.link(*t.find_link(*t.find("node0/nic3"), *t.find("rail3")));
  EXPECT_NEAR(net.bandwidth / Gbps(1), 400.0, kEps);
}

TEST(Rail, SameRailCrossesOneLeafOtherRailsUseNvSwitchOrSpine) {
  Topology t = must(build_rail_optimized(4, 8, *find_node_spec("dgx-a100")));
  EXPECT_EQ(hops(t, *t.find("node0/gpu2"), *t.find("node3/gpu2")), 4);  // gpu-nic-rail-nic-gpu
  EXPECT_EQ(hops(t, *t.find("node0/gpu2"), *t.find("node3/gpu5")), 6);
  EXPECT_EQ(hops(t, *t.find("node0/gpu2"), *t.find("node0/gpu5")), 2);  // through the NVSwitch
}

TEST(Rail, FewerSpinesAreAllowed) {
  Topology t = must(build_rail_optimized(8, 4, *find_node_spec("dgx-h100"), 2));
  EXPECT_EQ(count_kind(t, NodeKind::kSwitch), 4 + 2);
}

TEST(Rail, RejectsNodeTypesWithoutNvSwitchOrNics) {
  Result<Topology> r = build_rail_optimized(2, 4, *find_node_spec("tpuv4-host"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(), HasSubstr("tpuv4-host"));
  EXPECT_FALSE(build_rail_optimized(0, 8, *find_node_spec("dgx-h100")).ok());
  EXPECT_FALSE(build_rail_optimized(2, -1, *find_node_spec("dgx-h100")).ok());
}

// --- Spec strings -----------------------------------------------------------------------------

TEST(TopologySpec, TorusMeshAndRing) {
  Topology torus = must(parse_topology_spec("torus:4x4x4"));
  EXPECT_EQ(torus.endpoint_count(), 64);
  EXPECT_EQ(torus.torus()->dims.size(), 3u);
  EXPECT_EQ(torus.link_count(), 64 * 6);
  Topology mesh = must(parse_topology_spec("mesh:8x8"));
  EXPECT_FALSE(mesh.torus()->wrap);
  Topology ring = must(parse_topology_spec("ring:16"));
  EXPECT_EQ(ring.endpoint_count(), 16);
  EXPECT_EQ(ring.link_count(), 32);
}

TEST(TopologySpec, DefaultsTo400GbpsAnd1us) {
  Topology t = must(parse_topology_spec("torus:8x8"));
  EXPECT_EQ(t.link(0).bandwidth, Gbps(400));
  EXPECT_EQ(t.link(0).latency, us(1));
}

TEST(TopologySpec, OverridesNeedUnits) {
  Topology t = must(parse_topology_spec(" torus:8x8, bw=100GBps, lat=250ns "));
  EXPECT_EQ(t.link(0).bandwidth, GBps(100));
  EXPECT_EQ(t.link(0).latency, nsec(250));
  Result<Topology> r = parse_topology_spec("torus:8x8,bw=400");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(), HasSubstr("bw:"));
}

TEST(TopologySpec, FatTreeLeafSpineRail) {
  EXPECT_EQ(must(parse_topology_spec("fattree:k=8")).endpoint_count(), 128);
  Topology ls = must(parse_topology_spec("leafspine:hosts=32,leaves=4,spines=2,oversub=2"));
  EXPECT_EQ(ls.endpoint_count(), 32);
  EXPECT_NEAR(ls.link(*ls.find_link(*ls.find("leaf0"), *ls.find("spine0"))).bandwidth / GBps(1), 100.0, kEps);
  Topology ls2 = must(parse_topology_spec("leafspine:hosts=32,leaves=4,spines=2,oversub=4:2"));
  EXPECT_NEAR(ls2.link(*ls2.find_link(*ls2.find("leaf0"), *ls2.find("spine0"))).bandwidth / GBps(1), 100.0, kEps);
  Topology rail = must(parse_topology_spec("rail:nodes=32,gpus=8"));
  EXPECT_EQ(rail.endpoint_count(), 256);
  EXPECT_THAT(rail.name(), HasSubstr("dgx-h100"));
  Topology a100 = must(parse_topology_spec("rail:nodes=2,node=dgx-a100,bw=100Gbps"));
  EXPECT_EQ(a100.endpoint_count(), 16);
  EXPECT_EQ(a100.link(*a100.find_link(*a100.find("node0/nic0"), *a100.find("rail0"))).bandwidth, Gbps(100));
}

TEST(TopologySpec, NcclFileIsImported) {
  Topology t = must(parse_topology_spec(std::string("nccl:") + MLSYS_SHARED_DATA +
                                        "/topologies/aws-p4d-24xl-topo.xml"));
  EXPECT_EQ(t.endpoint_count(), 8);
}

void expect_spec_error(std::string_view spec, std::string_view fragment) {
  Result<Topology> r = parse_topology_spec(spec);
  ASSERT_FALSE(r.ok()) << spec;
  EXPECT_THAT(r.error().message(), HasSubstr(std::string(fragment))) << spec;
  EXPECT_THAT(r.error().hint(), HasSubstr("accepted forms")) << spec;
}

TEST(TopologySpec, ErrorsNameTheBadPart) {
  expect_spec_error("torus8x8", "missing '<kind>:'");
  expect_spec_error("tours:8x8", "did you mean 'torus'?");
  expect_spec_error("torus:8xq", "'q'");
  expect_spec_error("torus:8x0", "'0'");
  expect_spec_error("torus:", "needs the shape");
  expect_spec_error("ring:4x4", "one dimension");
  expect_spec_error("torus:8x8,speed=1Gbps", "unknown key 'speed'");
  expect_spec_error("fattree:k=7", "even");
  expect_spec_error("fattree:k=8,k=4", "given twice");
  expect_spec_error("fattree:8", "not key=value");
  expect_spec_error("leafspine:hosts=30,leaves=4,spines=2", "not a multiple");
  expect_spec_error("leafspine:hosts=32,leaves=4", "missing spines=");
  expect_spec_error("leafspine:hosts=32,leaves=4,spines=2,oversub=0", "oversub");
  expect_spec_error("rail:nodes=2,nod=dgx-h100", "did you mean 'node'?");
  expect_spec_error("rail:nodes=2,node=dgx-b300", "unknown node type");
  expect_spec_error("rail:nodes=2,node=tpuv4-host", "no NVSwitch");
  expect_spec_error("nccl:", "file path");
}

TEST(TopologySpec, MissingNcclFileIsNotFound) {
  Result<Topology> r = parse_topology_spec("nccl:/nonexistent/topo.xml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

// --- Summary ----------------------------------------------------------------------------------

TEST(Summary, TorusCountsDiameterAndBisection) {
  TopologySummary s = summarize(must(parse_topology_spec("torus:8x8")));
  EXPECT_EQ(s.endpoints, 64);
  ASSERT_EQ(s.node_kinds.size(), 1u);
  EXPECT_EQ(s.node_kinds[0].kind, NodeKind::kGpu);
  EXPECT_EQ(s.node_kinds[0].count, 64);
  ASSERT_EQ(s.link_kinds.size(), 1u);
  EXPECT_EQ(s.link_kinds[0].kind, LinkKind::kIci);
  EXPECT_EQ(s.link_kinds[0].count, 256);
  EXPECT_EQ(s.link_kinds[0].min_bandwidth, Gbps(400));
  EXPECT_EQ(s.diameter_hops, 8);
  EXPECT_EQ(s.diameter_sources, 64);
  EXPECT_TRUE(s.endpoints_connected);
  EXPECT_NEAR(s.min_injection / GBps(1), 200.0, kEps);
  ASSERT_TRUE(s.bisection_bandwidth.has_value());
  EXPECT_NEAR(*s.bisection_bandwidth / GBps(1), 16 * 50.0, kEps);  // 8 rings x 2 wrap cuts
}

TEST(Summary, MeshBisectionCountsOneCutPerRow) {
  TopologySummary s = summarize(must(parse_topology_spec("mesh:8x8")));
  EXPECT_NEAR(*s.bisection_bandwidth / GBps(1), 8 * 50.0, kEps);
  EXPECT_EQ(s.diameter_hops, 14);
}

TEST(Summary, SamplesSourcesOnLargeGraphs) {
  TopologySummary s = summarize(must(parse_topology_spec("torus:16x16")), 10);
  EXPECT_EQ(s.diameter_sources, 10);
  EXPECT_EQ(s.diameter_hops, 16);
}

TEST(Summary, RailMixesLinkKinds) {
  TopologySummary s = summarize(must(parse_topology_spec("rail:nodes=4,gpus=8")));
  std::vector<LinkKind> kinds;
  for (const auto& k : s.link_kinds) kinds.push_back(k.kind);
  EXPECT_EQ(kinds, (std::vector<LinkKind>{LinkKind::kNvLink, LinkKind::kPcie, LinkKind::kNetwork}));
  EXPECT_EQ(s.diameter_hops, 6);
  EXPECT_FALSE(s.bisection_bandwidth.has_value());
}

TEST(Summary, DisconnectedEndpointsAreReported) {
  Topology t;
  t.add_endpoint(t.add_node(NodeKind::kGpu, "a"));
  t.add_endpoint(t.add_node(NodeKind::kGpu, "b"));
  TopologySummary s = summarize(t);
  EXPECT_FALSE(s.endpoints_connected);
  EXPECT_EQ(s.diameter_hops, 0);
}

TEST(Summary, EmptyTopology) {
  TopologySummary s = summarize(Topology("empty"));
  EXPECT_EQ(s.endpoints, 0);
  EXPECT_EQ(s.name, "empty");
  EXPECT_TRUE(s.node_kinds.empty());
}

}  // namespace
}  // namespace mlsys::hw
