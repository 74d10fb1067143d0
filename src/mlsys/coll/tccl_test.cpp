#include "mlsys/coll/tccl.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "mlsys/hw/catalog.h"

namespace mlsys::coll {
namespace {

const std::string kTopologies = std::string(MLSYS_SHARED_DATA) + "/topologies/";

hw::NcclTopology load(const std::string& file) {
  auto t = hw::read_nccl_topology_file(kTopologies + file);
  EXPECT_TRUE(t) << t.error().to_string();
  return std::move(*t);
}

hw::NcclTopology from_box(const SyntheticBox& box) {
  auto t = hw::read_nccl_topology(synthetic_topology_xml(box), "synthetic.xml");
  EXPECT_TRUE(t) << t.error().to_string() << "\n" << synthetic_topology_xml(box);
  return std::move(*t);
}

std::vector<std::string> link_names(const PathModel& m, const PathTransfer& t) {
  std::vector<std::string> out;
  for (int l : t.links) out.push_back(m.links()[static_cast<size_t>(l)].src + "->" + m.links()[static_cast<size_t>(l)].dst);
  return out;
}

// The one transfer of ring [a, b] that goes a -> b.
PathTransfer routed(const PathModel& m, int a, int b) {
  auto c = m.evaluate(PathKind::kRing, std::vector<int>{a, b});
  EXPECT_TRUE(c) << c.error().to_string();
  return m.transfers(*c).front();
}

double gbps(Bandwidth bw) { return bw / GBps(1); }

// --- routing through the PCIe tree (AWS p4d: 2 sockets x 2 switches x 2 GPUs, Gen3, Intel SKL) --

TEST(TcclRouting, SameSwitchGpusDoNotTouchTheCpu) {
  const hw::NcclTopology t = load("aws-p4d-24xl-topo.xml");
  auto m = PathModel::build(t, {0, 1});
  ASSERT_TRUE(m) << m.error().to_string();
  const PathTransfer x = routed(*m, 0, 1);
  EXPECT_EQ(x.type, "PIX");
  EXPECT_EQ(link_names(*m, x), (std::vector<std::string>{"gpu0->pcisw0", "pcisw0->gpu1"}));
}

TEST(TcclRouting, OtherSwitchSameSocketCrossesBothUplinks) {
  const hw::NcclTopology t = load("aws-p4d-24xl-topo.xml");
  auto m = PathModel::build(t, {0, 2});
  ASSERT_TRUE(m);
  const PathTransfer x = routed(*m, 0, 2);
  EXPECT_EQ(x.type, "PHB");
  EXPECT_EQ(link_names(*m, x),
            (std::vector<std::string>{"gpu0->pcisw0", "pcisw0->cpu0", "cpu0->pcisw1", "pcisw1->gpu2"}));
}

TEST(TcclRouting, CrossSocketCrossesTheSmpLink) {
  const hw::NcclTopology t = load("aws-p4d-24xl-topo.xml");
  auto m = PathModel::build(t, {0, 4});
  ASSERT_TRUE(m);
  const PathTransfer there = routed(*m, 0, 4);
  EXPECT_EQ(there.type, "SYS");
  EXPECT_EQ(link_names(*m, there), (std::vector<std::string>{"gpu0->pcisw0", "pcisw0->cpu0", "cpu0->cpu1",
                                                             "cpu1->pcisw2", "pcisw2->gpu4"}));
  const PathTransfer back = routed(*m, 4, 0);
  EXPECT_EQ(link_names(*m, back), (std::vector<std::string>{"gpu4->pcisw2", "pcisw2->cpu1", "cpu1->cpu0",
                                                            "cpu0->pcisw0", "pcisw0->gpu0"}));
  const auto smp = std::find_if(m->links().begin(), m->links().end(), [](const PathLink& l) { return l.kind == "smp"; });
  ASSERT_NE(smp, m->links().end());
  EXPECT_DOUBLE_EQ(gbps(smp->capacity), 10.0);  // NCCL's Skylake QPI figure (modelid 85)
}

TEST(TcclRouting, NvLinkIsPreferredOverPcie) {
  const char* xml = R"(<system version="1">
  <cpu numaid="0" vendor="GenuineIntel" modelid="85">
    <pci busid="0000:01:00.0" class="0x060400" link_speed="8 GT/s" link_width="16">
      <pci busid="0000:02:00.0" class="0x030200" link_speed="8 GT/s" link_width="16">
        <gpu dev="0" sm="80"><nvlink target="0000:03:00.0" count="4" tclass="0x030200"/></gpu>
      </pci>
      <pci busid="0000:03:00.0" class="0x030200" link_speed="8 GT/s" link_width="16">
        <gpu dev="1" sm="80"><nvlink target="0000:02:00.0" count="4" tclass="0x030200"/></gpu>
      </pci>
    </pci>
  </cpu>
</system>)";
  auto t = hw::read_nccl_topology(xml, "nvlink.xml");
  ASSERT_TRUE(t) << t.error().to_string();
  auto m = PathModel::build(*t, {});
  ASSERT_TRUE(m);
  const PathTransfer x = routed(*m, 0, 1);
  EXPECT_EQ(x.type, "NVL");
  EXPECT_EQ(link_names(*m, x), (std::vector<std::string>{"gpu0->gpu1"}));
  auto r = search_paths(*t, {});
  ASSERT_TRUE(r);
  // 4 links x the hw catalog's SM80 per-link figure; nothing else is on the path.
  EXPECT_DOUBLE_EQ(gbps(r->rings[0].bus_bw), 4 * gbps(hw::nvlink_for_sm(80)->per_link));
}

TEST(TcclRouting, NicRoutesTurnAtTheSharedSwitch) {
  const hw::NcclTopology t = load("aws-p4d-24xl-topo.xml");
  auto m = PathModel::build(t, {0, 1}, 2);
  ASSERT_TRUE(m) << m.error().to_string();
  auto c = m->evaluate(PathKind::kRing, std::vector<int>{0, 1}, 0, 0);
  ASSERT_TRUE(c);
  const std::vector<PathTransfer> x = m->transfers(*c);
  ASSERT_EQ(x.size(), 3U);
  EXPECT_EQ(x[0].src, "nic0");
  EXPECT_EQ(x[0].type, "PIX");
  EXPECT_EQ(link_names(*m, x[0]), (std::vector<std::string>{"nic0->pcisw0", "pcisw0->gpu0"}));
  EXPECT_EQ(x[2].dst, "nic0");
}

TEST(TcclRouting, NicWithoutGdrBouncesThroughCpuMemory) {
  const char* xml = R"(<system version="1">
  <cpu numaid="0" vendor="GenuineIntel" modelid="85">
    <pci busid="0000:01:00.0" class="0x060400" link_speed="16 GT/s" link_width="16">
      <pci busid="0000:02:00.0" class="0x030200" link_speed="16 GT/s" link_width="16"/>
      <pci busid="0000:03:00.0" class="0x020700" link_speed="16 GT/s" link_width="16">
        <nic><net name="mlx5_0" dev="0" speed="200000" gdr="0"/></nic>
      </pci>
    </pci>
  </cpu>
</system>)";
  auto t = hw::read_nccl_topology(xml, "nogdr.xml");
  ASSERT_TRUE(t) << t.error().to_string();
  auto m = PathModel::build(*t, {}, 2);
  ASSERT_TRUE(m) << m.error().to_string();
  auto c = m->evaluate(PathKind::kRing, std::vector<int>{0}, 0, 0);
  ASSERT_TRUE(c);
  const std::vector<PathTransfer> x = m->transfers(*c);
  ASSERT_EQ(x.size(), 2U);
  EXPECT_EQ(x[1].type, "PHB");  // not PIX: the data turns in host memory, not at the switch
  EXPECT_EQ(link_names(*m, x[1]),
            (std::vector<std::string>{"gpu0->pcisw0", "pcisw0->cpu0", "cpu0->pcisw0", "pcisw0->nic0", "nic0->net"}));
  // Both streams (into and out of the GPU) climb to host memory and come back down, so each
  // switch <-> CPU direction carries 2: 24 / 2 = 12 GB/s, where GPUDirect would give 24.
  EXPECT_DOUBLE_EQ(gbps(c->bottleneck), 12.0);
}

// --- hand-computed optima ----------------------------------------------------------------------

// One socket, two switches, GPUs numbered alternately: sw0 holds 0 and 2, sw1 holds 1 and 3. The
// default ring 0-1-2-3 crosses each switch uplink twice (12/2 = 6 GB/s); 0-1-3-2 and 0-2-1-3 cross
// each once (12 GB/s). Rings: 3!/2 = 3.
TEST(TcclSearch, ExhaustiveFindsTheHandComputedOptimumOnFourGpus) {
  const hw::NcclTopology t = from_box(pcie_box(1, 2, 2, 0, true));
  auto r = search_paths(t, {.top_k = 3});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->method, PathSearchMethod::kExhaustive);
  EXPECT_EQ(r->rings_evaluated, 3);
  EXPECT_DOUBLE_EQ(gbps(r->default_ring.bus_bw), 6.0);
  EXPECT_EQ(r->default_ring.bottleneck_load, 2);
  ASSERT_EQ(r->rings.size(), 3U);
  EXPECT_EQ(r->rings[0].gpus, (std::vector<int>{0, 1, 3, 2}));
  EXPECT_EQ(r->rings[1].gpus, (std::vector<int>{0, 2, 1, 3}));
  EXPECT_DOUBLE_EQ(gbps(r->rings[0].bus_bw), 12.0);
  EXPECT_DOUBLE_EQ(gbps(r->rings[1].bus_bw), 12.0);
  EXPECT_DOUBLE_EQ(gbps(r->rings[2].bus_bw), 6.0);
  EXPECT_EQ(r->rings_better_than_default, 2);
  // busBw convention: ring algBw = B * n / (2(n-1)).
  EXPECT_DOUBLE_EQ(gbps(r->rings[0].alg_bw), 12.0 * 4 / 6);
}

// TCCL's kind of target: 2 sockets x 2 switches x 2 GPUs, Gen3 (12 GB/s), Skylake QPI (10 GB/s),
// devices interleaved across switches. Default ring: every switch up/downlink carries 2 streams
// (6 GB/s). Best: each switch's GPUs adjacent, so only the SMP link (10 GB/s) limits.
TEST(TcclSearch, BestRingBeatsTheDefaultOnATwoSocketPcieBox) {
  const hw::NcclTopology t = from_box(pcie_box(2, 2, 2, 0, true));
  auto r = search_paths(t, {});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->rings_evaluated, 2520);   // 7!/2
  EXPECT_EQ(r->chains_evaluated, 20160);  // 8!/2
  EXPECT_DOUBLE_EQ(gbps(r->default_ring.bus_bw), 6.0);
  EXPECT_EQ(r->default_ring.links_at_bottleneck, 8);
  EXPECT_DOUBLE_EQ(gbps(r->rings[0].bus_bw), 10.0);
  const PathLink& b = r->model.links()[static_cast<size_t>(r->rings[0].bottleneck_link)];
  EXPECT_EQ(b.kind, "smp");
  EXPECT_EQ(r->rings[0].socket_crossings, 2);
  EXPECT_GT(r->rings_better_than_default, 0);
}

TEST(TcclSearch, P4dDefaultRingIsAlreadyOptimal) {
  const hw::NcclTopology t = load("aws-p4d-24xl-topo.xml");
  auto r = search_paths(t, {});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_DOUBLE_EQ(gbps(r->default_ring.bus_bw), 10.0);
  EXPECT_DOUBLE_EQ(gbps(r->rings[0].bus_bw), 10.0);
  EXPECT_EQ(r->rings_better_than_default, 0);
  EXPECT_TRUE(r->model.symmetric());
}

// Chain (tree) on p4d in device order: GPU 1 sends to both 0 and 2 through its one PCIe link, so
// that link carries 2 streams: B = 6 GB/s, algBw = B, busBw = B * 2(n-1)/n = 10.5 GB/s.
TEST(TcclSearch, ChainChargesBothDirectionsOfEveryEdge) {
  const hw::NcclTopology t = load("aws-p4d-24xl-topo.xml");
  auto m = PathModel::build(t, {});
  ASSERT_TRUE(m);
  const PathCandidate c = m->default_candidate(PathKind::kChain);
  EXPECT_DOUBLE_EQ(gbps(c.bottleneck), 6.0);
  EXPECT_DOUBLE_EQ(gbps(c.alg_bw), 6.0);
  EXPECT_DOUBLE_EQ(gbps(c.bus_bw), 10.5);
  EXPECT_EQ(m->transfers(c).size(), 14U);
}

TEST(TcclSearch, MultiNodeRingEntersThroughANearbyNic) {
  SyntheticBox box = pcie_box(2, 2, 2, 1, false);
  box.nic_mbps = 100000;  // 12.5 GB/s ports
  const hw::NcclTopology t = from_box(box);
  auto r = search_paths(t, {.nodes = 2});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->model.ranks(), 16);
  const std::vector<PathTransfer> x = r->model.transfers(r->rings[0]);
  EXPECT_EQ(x.front().type, "PIX");  // NIC and first GPU share a switch
  EXPECT_EQ(x.back().type, "PIX");
  EXPECT_GE(r->rings[0].bus_bw, r->default_ring.bus_bw);
  // 8! x 4 x 4 / 2 rings.
  EXPECT_EQ(r->rings_evaluated, 40320 * 16 / 2);
}

TEST(TcclSearch, MultiNodeNeedsANic) {
  const hw::NcclTopology t = from_box(pcie_box(1, 2, 2, 0, false));
  auto r = search_paths(t, {.nodes = 2});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("NIC"), std::string::npos);
}

// --- heuristic against the exhaustive oracle ---------------------------------------------------

TEST(TcclSearch, HeuristicMatchesExhaustiveOnRandomPcieTrees) {
  int default_beaten = 0;  // cases where the default ring is not optimal: the search has work to do
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const int gpus = 3 + static_cast<int>(seed % 6);  // 3..8
    const hw::NcclTopology t = from_box(random_pcie_box(seed, gpus));
    auto ex = search_paths(t, {.method = PathSearchMethod::kExhaustive});
    auto he = search_paths(t, {.method = PathSearchMethod::kHeuristic, .seed = seed});
    ASSERT_TRUE(ex) << ex.error().to_string();
    ASSERT_TRUE(he) << he.error().to_string();
    EXPECT_EQ(he->rings[0].bottleneck, ex->rings[0].bottleneck) << "seed " << seed;
    EXPECT_EQ(he->chains[0].bottleneck, ex->chains[0].bottleneck) << "seed " << seed;
    default_beaten += ex->rings_better_than_default > 0;
  }
  EXPECT_GE(default_beaten, 10);
}

TEST(TcclSearch, HeuristicMatchesExhaustiveAcrossNodes) {
  for (uint64_t seed = 100; seed < 115; ++seed) {
    const int gpus = 2 + static_cast<int>(seed % 4);  // 2..5
    const hw::NcclTopology t = from_box(random_pcie_box(seed, gpus));
    auto ex = search_paths(t, {.nodes = 3, .method = PathSearchMethod::kExhaustive});
    auto he = search_paths(t, {.nodes = 3, .method = PathSearchMethod::kHeuristic, .seed = seed});
    ASSERT_TRUE(ex) << ex.error().to_string();
    ASSERT_TRUE(he) << he.error().to_string();
    EXPECT_EQ(he->rings[0].bottleneck, ex->rings[0].bottleneck) << "seed " << seed;
    EXPECT_EQ(he->chains[0].bottleneck, ex->chains[0].bottleneck) << "seed " << seed;
  }
}

TEST(TcclSearch, HeuristicFindsTheSocketBoundOnSixteenGpus) {
  // 4 sockets x 2 switches x 2 GPUs, interleaved: beyond the exhaustive range, and the bound is
  // known: a ring can visit every switch once, so only SMP links (10 GB/s, one stream) limit.
  const hw::NcclTopology t = from_box(pcie_box(4, 2, 2, 0, true));
  auto r = search_paths(t, {});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->method, PathSearchMethod::kHeuristic);
  EXPECT_EQ(r->rings_better_than_default, -1);
  EXPECT_DOUBLE_EQ(gbps(r->default_ring.bus_bw), 6.0);
  EXPECT_DOUBLE_EQ(gbps(r->rings[0].bus_bw), 10.0);
}

TEST(TcclSearch, ExhaustiveRefusesTooManyCandidates) {
  const hw::NcclTopology t = from_box(pcie_box(4, 2, 2, 0, true));
  auto r = search_paths(t, {.method = PathSearchMethod::kExhaustive});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().where().file, "--search");
}

TEST(TcclSearch, SameInputsGiveIdenticalResults) {
  const hw::NcclTopology t = from_box(random_pcie_box(7, 12));
  auto a = search_paths(t, {.top_k = 5, .seed = 3});
  auto b = search_paths(t, {.top_k = 5, .seed = 3});
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  ASSERT_EQ(a->rings.size(), b->rings.size());
  for (size_t i = 0; i < a->rings.size(); ++i) {
    EXPECT_EQ(a->rings[i].gpus, b->rings[i].gpus);
    EXPECT_EQ(a->rings[i].bus_bw, b->rings[i].bus_bw);
    EXPECT_EQ(a->rings[i].load_per_capacity, b->rings[i].load_per_capacity);
  }
  EXPECT_EQ(a->rings_evaluated, b->rings_evaluated);
  EXPECT_EQ(synthetic_topology_xml(random_pcie_box(7, 12)), synthetic_topology_xml(random_pcie_box(7, 12)));
}

TEST(TcclSearch, TopRingsAreDistinctAndBestFirst) {
  const hw::NcclTopology t = load("azure-ndv4-topo.xml");
  auto r = search_paths(t, {.top_k = 10});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->rings.size(), 10U);
  for (size_t i = 1; i < r->rings.size(); ++i) {
    EXPECT_NE(r->rings[i].gpus, r->rings[i - 1].gpus);
    EXPECT_GE(r->rings[i - 1].bottleneck, r->rings[i].bottleneck);
  }
}

TEST(TcclSearch, SubsetSelection) {
  const hw::NcclTopology t = load("aws-p4d-24xl-topo.xml");
  auto r = search_paths(t, {.gpus = {0, 2, 4}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rings_evaluated, 1);  // 2!/2
  EXPECT_EQ(r->default_ring.gpus, (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(r->rings[0].gpus.size(), 3U);
}

TEST(TcclSearch, RejectsBadOptions) {
  const hw::NcclTopology t = load("aws-p4d-24xl-topo.xml");
  EXPECT_FALSE(search_paths(t, {.top_k = 0}));
  EXPECT_FALSE(search_paths(t, {.gpus = {3}}));      // one GPU on one node
  EXPECT_FALSE(search_paths(t, {.gpus = {0, 8}}));   // not in the file
  EXPECT_FALSE(search_paths(t, {.gpus = {1, 1}}));   // repeated
  EXPECT_FALSE(search_paths(t, {.nodes = 0}));
  EXPECT_FALSE(parse_path_search_method("bfs"));
  EXPECT_EQ(*parse_path_search_method("heuristic"), PathSearchMethod::kHeuristic);
}

TEST(TcclSearch, EvaluateRejectsOrdersThatAreNotPermutations) {
  const hw::NcclTopology t = load("aws-p4d-24xl-topo.xml");
  auto m = PathModel::build(t, {0, 1, 2});
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->evaluate(PathKind::kRing, std::vector<int>{0, 1}));
  EXPECT_FALSE(m->evaluate(PathKind::kRing, std::vector<int>{0, 1, 1}));
  EXPECT_FALSE(m->evaluate(PathKind::kRing, std::vector<int>{0, 1, 5}));
  EXPECT_TRUE(m->evaluate(PathKind::kRing, std::vector<int>{2, 0, 1}));
}

// --- every shared topology file ----------------------------------------------------------------

TEST(TcclFiles, EveryRealTopologyGivesARingOrAClearError) {
  for (const char* file : {"aws-p4d-24xl-topo.xml", "azure-ndv4-topo.xml", "azure-ncv4-topo.xml"}) {
    const hw::NcclTopology t = load(file);
    for (int nodes : {1, 2}) {
      auto r = search_paths(t, {.nodes = nodes});
      ASSERT_TRUE(r) << file << ": " << r.error().to_string();
      EXPECT_FALSE(r->rings.empty()) << file;
      EXPECT_GE(r->rings[0].bus_bw, r->default_ring.bus_bw) << file;
      EXPECT_GE(r->chains[0].bus_bw, r->default_chain.bus_bw) << file;
    }
  }
}

TEST(TcclFiles, GpulessFileIsAClearError) {
  const hw::NcclTopology t = load("aws-g5.48xl-topo.xml");
  auto r = search_paths(t, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(r.error().message().find("no GPUs"), std::string::npos);
  EXPECT_NE(r.error().where().file.find("aws-g5"), std::string::npos);
}

TEST(TcclFiles, GraphFileIsRefusedByTheImporter) {
  auto t = hw::read_nccl_topology_file(kTopologies + "azure-ncv4-graph.xml");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code(), ErrorCode::kUnsupported);
}

TEST(TcclFiles, Ncv4RingsAreBoundByTheGpuPcieLink) {
  // One A100 per AMD socket, link_speed "" (NCCL falls back to Gen3 x16 = 12 GB/s), SMP 16 GB/s.
  const hw::NcclTopology t = load("azure-ncv4-topo.xml");
  auto r = search_paths(t, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rings_evaluated, 3);
  EXPECT_DOUBLE_EQ(gbps(r->rings[0].bus_bw), 12.0);
  EXPECT_EQ(r->rings[0].socket_crossings, 4);
}

// --- --gpus parsing --------------------------------------------------------------------------

TEST(TcclGpuSelection, AcceptsRangesAndLists) {
  EXPECT_EQ(*parse_gpu_selection("0-7", 8), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(*parse_gpu_selection("0,2,4", 8), (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(*parse_gpu_selection("6, 0-1", 8), (std::vector<int>{0, 1, 6}));
}

TEST(TcclGpuSelection, RejectsMalformedSpecs) {
  for (const char* bad : {"", "0-", "-3", "a", "3-1", "0,0", "8", "0,,1", "1-2-3", "0x1"}) {
    auto r = parse_gpu_selection(bad, 8);
    ASSERT_FALSE(r) << "'" << bad << "'";
    EXPECT_EQ(r.error().where().file, "--gpus") << bad;
  }
}

}  // namespace
}  // namespace mlsys::coll
