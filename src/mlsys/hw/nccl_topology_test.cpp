#include "mlsys/hw/nccl_topology.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>

namespace mlsys::hw {
namespace {

using ::testing::HasSubstr;

constexpr double kEps = 1e-6;

std::string shared_topology(std::string_view file) {
  return std::string(MLSYS_SHARED_DATA) + "/topologies/" + std::string(file);
}

NcclTopology must_read_file(std::string_view file) {
  Result<NcclTopology> r = read_nccl_topology_file(shared_topology(file));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? std::move(*r) : NcclTopology{.topology = Topology(), .gpus = {}, .nics = {}, .notes = {}};
}

NcclTopology must_read(std::string_view xml) {
  Result<NcclTopology> r = read_nccl_topology(xml, "test.xml");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? std::move(*r) : NcclTopology{.topology = Topology(), .gpus = {}, .nics = {}, .notes = {}};
}

Error must_fail(std::string_view xml) {
  Result<NcclTopology> r = read_nccl_topology(xml, "test.xml");
  EXPECT_FALSE(r.ok());
  return r.ok() ? Error(ErrorCode::kInternal, "unexpectedly parsed") : r.error();
}

int count_kind(const Topology& t, NodeKind kind) {
  return static_cast<int>(t.nodes_of_kind(kind).size());
}

int count_links(const Topology& t, LinkKind kind) {
  int n = 0;
  for (const Link& l : t.links()) n += l.kind == kind ? 1 : 0;
  return n;
}

// The node a leaf device hangs from (its only PCIe link goes up).
NodeId pcie_parent(const Topology& t, NodeId node) {
  for (LinkId l : t.out_links(node)) {
    if (t.link(l).kind == LinkKind::kPcie) return t.link(l).dst;
  }
  return kNoNode;
}

// Link kinds along a BFS shortest path (by hops) from src to dst.
std::vector<LinkKind> path_kinds(const Topology& t, NodeId src, NodeId dst) {
  std::vector<LinkId> via(static_cast<size_t>(t.node_count()), -1);
  std::vector<bool> seen(static_cast<size_t>(t.node_count()), false);
  std::deque<NodeId> q{src};
  seen[static_cast<size_t>(src)] = true;
  while (!q.empty()) {
    NodeId cur = q.front();
    q.pop_front();
    for (LinkId l : t.out_links(cur)) {
      NodeId next = t.link(l).dst;
      if (!seen[static_cast<size_t>(next)]) {
        seen[static_cast<size_t>(next)] = true;
        via[static_cast<size_t>(next)] = l;
        q.push_back(next);
      }
    }
  }
  std::vector<LinkKind> kinds;
  for (NodeId n = dst; n != src && via[static_cast<size_t>(n)] >= 0; n = t.link(via[static_cast<size_t>(n)]).src) {
    kinds.insert(kinds.begin(), t.link(via[static_cast<size_t>(n)]).kind);
  }
  return kinds;
}

// --- The shared files -------------------------------------------------------------------------

TEST(NcclImportFiles, AwsP4dHas8Gpus4Nics2Cpus4Switches) {
  NcclTopology n = must_read_file("aws-p4d-24xl-topo.xml");
  const Topology& t = n.topology;
  EXPECT_EQ(t.endpoint_count(), 8);
  EXPECT_EQ(count_kind(t, NodeKind::kGpu), 8);
  EXPECT_EQ(count_kind(t, NodeKind::kNic), 4);
  EXPECT_EQ(count_kind(t, NodeKind::kCpu), 2);
  EXPECT_EQ(count_kind(t, NodeKind::kPcieSwitch), 4);
  EXPECT_EQ(count_links(t, LinkKind::kPcie), 2 * (4 + 12));
  EXPECT_EQ(count_links(t, LinkKind::kSmp), 2);
  EXPECT_EQ(count_links(t, LinkKind::kNvLink), 0);  // the file lists no <gpu>/<nvlink>
  for (const Link& l : t.links()) {
    if (l.kind == LinkKind::kPcie) {
      EXPECT_NEAR(l.bandwidth / GBps(1), 12.0, kEps);  // 8 GT/s x16
    } else if (l.kind == LinkKind::kSmp) {
      EXPECT_NEAR(l.bandwidth / GBps(1), 10.0, kEps);  // Skylake QPI
    }
  }
}

TEST(NcclImportFiles, AwsP4dGpuOrderFollowsBusIds) {
  NcclTopology n = must_read_file("aws-p4d-24xl-topo.xml");
  ASSERT_EQ(n.gpus.size(), 8u);
  EXPECT_EQ(n.gpus[0].busid, "0000:10:1c.0");
  EXPECT_EQ(n.gpus[7].busid, "0000:a0:1d.0");
  EXPECT_EQ(n.topology.node(n.topology.endpoint(0)).pci_busid, "0000:10:1c.0");
  EXPECT_EQ(n.topology.node(n.topology.endpoint(0)).name, "gpu0");
  EXPECT_EQ(n.gpus[0].numa, 0);
  EXPECT_EQ(n.gpus[4].numa, 1);
  ASSERT_EQ(n.nics.size(), 4u);
  EXPECT_EQ(n.nics[2].busid, "0000:90:1b.0");
}

// research/collectives-network.md 4.2: on p4d GPU0-NIC0 is PIX (one PCIe switch), GPU0-NIC2 SYS.
TEST(NcclImportFiles, AwsP4dGpu0SharesASwitchWithNic0AndCrossesSocketsToNic2) {
  NcclTopology n = must_read_file("aws-p4d-24xl-topo.xml");
  const Topology& t = n.topology;
  const NodeId gpu0 = *t.find("gpu0");
  const NodeId nic0 = *t.find("nic0");
  const NodeId nic2 = *t.find("nic2");
  EXPECT_EQ(t.node(pcie_parent(t, gpu0)).kind, NodeKind::kPcieSwitch);
  EXPECT_EQ(pcie_parent(t, gpu0), pcie_parent(t, nic0));
  EXPECT_EQ(path_kinds(t, gpu0, nic0), (std::vector<LinkKind>{LinkKind::kPcie, LinkKind::kPcie}));
  const std::vector<LinkKind> cross = path_kinds(t, gpu0, nic2);
  EXPECT_THAT(cross, ::testing::Contains(LinkKind::kSmp));
  EXPECT_NE(t.node(gpu0).numa, t.node(nic2).numa);
}

TEST(NcclImportFiles, AzureNdv4Has8Gpus8Nics4Cpus) {
  NcclTopology n = must_read_file("azure-ndv4-topo.xml");
  const Topology& t = n.topology;
  EXPECT_EQ(t.endpoint_count(), 8);
  EXPECT_EQ(count_kind(t, NodeKind::kNic), 8);
  EXPECT_EQ(count_kind(t, NodeKind::kCpu), 4);
  EXPECT_EQ(count_kind(t, NodeKind::kPcieSwitch), 4);
  EXPECT_EQ(count_links(t, LinkKind::kSmp), 2 * 6);  // every pair of the 4 NUMA nodes
  for (const Link& l : t.links()) {
    if (l.kind == LinkKind::kPcie) {
      EXPECT_NEAR(l.bandwidth / GBps(1), 24.0, kEps);  // 16 GT/s x16
    } else if (l.kind == LinkKind::kSmp) {
      EXPECT_NEAR(l.bandwidth / GBps(1), 16.0, kEps);  // AMD
    }
  }
}

TEST(NcclImportFiles, AzureNdv4PairsEachGpuWithANicUnderItsSwitch) {
  NcclTopology n = must_read_file("azure-ndv4-topo.xml");
  const Topology& t = n.topology;
  // Bus-id order: gpu0 = 0001:00:00.0 and nic0 = 0101:00:00.0, both behind NUMA 1's switch.
  EXPECT_EQ(n.gpus[0].busid, "0001:00:00.0");
  EXPECT_EQ(n.gpus[0].numa, 1);
  EXPECT_EQ(n.nics[0].busid, "0101:00:00.0");
  for (int i = 0; i < 8; ++i) {
    const NodeId gpu = *t.find("gpu" + std::to_string(i));
    const NodeId nic = *t.find("nic" + std::to_string(i));
    EXPECT_EQ(pcie_parent(t, gpu), pcie_parent(t, nic)) << i;
  }
}

TEST(NcclImportFiles, AzureNcv4Has4GpusOneBareNicAndNoNvLinks) {
  NcclTopology n = must_read_file("azure-ncv4-topo.xml");
  const Topology& t = n.topology;
  EXPECT_EQ(t.endpoint_count(), 4);
  EXPECT_EQ(count_kind(t, NodeKind::kCpu), 4);
  EXPECT_EQ(count_kind(t, NodeKind::kPcieSwitch), 0);
  EXPECT_EQ(count_kind(t, NodeKind::kNic), 1);
  // Each GPU's only <nvlink> targets itself: skipped, with a note.
  EXPECT_EQ(count_links(t, LinkKind::kNvLink), 0);
  EXPECT_EQ(n.notes.size(), 4u);
  EXPECT_THAT(n.notes[0], HasSubstr("to itself ignored"));
  ASSERT_EQ(n.gpus.size(), 4u);
  EXPECT_EQ(n.gpus[3].dev, 3);
  EXPECT_EQ(n.gpus[3].sm, 80);
  EXPECT_EQ(n.gpus[3].numa, 3);
  EXPECT_TRUE(n.gpus[0].gdr);
  ASSERT_EQ(n.nics.size(), 1u);
  EXPECT_EQ(n.nics[0].name, "eth0");
  EXPECT_EQ(n.nics[0].speed, Gbps(100));
  EXPECT_EQ(n.nics[0].busid, "");
  EXPECT_EQ(t.node(n.nics[0].node).numa, 0);
  // link_speed="" and link_width="0": NCCL's fallback, gen3 x16.
  EXPECT_NEAR(t.link(*t.find_link(*t.find("cpu0"), *t.find("gpu0"))).bandwidth / GBps(1), 12.0, kEps);
}

TEST(NcclImportFiles, AwsG5ListsOnlyBridges) {
  NcclTopology n = must_read_file("aws-g5.48xl-topo.xml");
  const Topology& t = n.topology;
  EXPECT_EQ(t.endpoint_count(), 0);
  EXPECT_EQ(count_kind(t, NodeKind::kCpu), 2);
  EXPECT_EQ(count_kind(t, NodeKind::kPcieSwitch), 9);
  EXPECT_EQ(t.node(*t.find("pcisw8")).pci_busid, "0000:00:15.0");
  EXPECT_EQ(t.node(*t.find("pcisw8")).numa, 1);
}

TEST(NcclImportFiles, GraphFileIsRefusedClearly) {
  Result<NcclTopology> r = read_nccl_topology_file(shared_topology("azure-ncv4-graph.xml"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(r.error().message(), "this is an NCCL graph file (NCCL_GRAPH_FILE), not a topology file");
  EXPECT_EQ(r.error().where().line, 1);
}

TEST(NcclImportFiles, MissingFileIsNotFound) {
  Result<Topology> r = import_nccl_topology("/nonexistent/topo.xml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

// --- Synthetic files --------------------------------------------------------------------------

TEST(NcclImport, NvLinksToNvSwitchesCreateSwitchNodes) {
  NcclTopology n = must_read(R"(<system version="1">
  <cpu numaid="0" vendor="GenuineIntel" modelid="143">
    <pci busid="0000:1a:00.0" class="0x030200" link_speed="32.0 GT/s PCIe" link_width="16">
      <gpu dev="0" sm="90" rank="0" gdr="1">
        <nvlink target="0000:05:00.0" count="9" tclass="0x068000"/>
        <nvlink target="0000:06:00.0" count="9" tclass="0x068000"/>
      </gpu>
    </pci>
    <pci busid="0000:1b:00.0" class="0x030200" link_speed="32.0 GT/s PCIe" link_width="16">
      <gpu dev="1" sm="90" rank="1" gdr="1">
        <nvlink target="0000:05:00.0" count="9" tclass="0x068000"/>
        <nvlink target="0000:06:00.0" count="9" tclass="0x068000"/>
      </gpu>
    </pci>
  </cpu>
</system>)");
  const Topology& t = n.topology;
  EXPECT_EQ(count_kind(t, NodeKind::kNvSwitch), 2);
  EXPECT_EQ(count_links(t, LinkKind::kNvLink), 8);
  const NodeId sw = *t.find("nvswitch0");
  EXPECT_EQ(t.node(sw).pci_busid, "0000:05:00.0");
  const Link& up = t.link(*t.find_link(*t.find("gpu0"), sw));
  EXPECT_NEAR(up.bandwidth / GBps(1), 9 * 25.0, kEps);
  ASSERT_TRUE(t.find_link(sw, *t.find("gpu1")).has_value());
  EXPECT_NEAR(t.link(*t.find_link(*t.find("cpu0"), *t.find("gpu0"))).bandwidth / GBps(1), 48.0, kEps);
}

TEST(NcclImport, GpuToGpuNvLinksScaleWithCount) {
  NcclTopology n = must_read(R"(<system version="1"><cpu numaid="0">
    <pci busid="0000:01:00.0" class="0x030200" link_speed="16 GT/s" link_width="8">
      <gpu dev="0" sm="80"><nvlink target="0000:02:00.0" count="4" tclass="0x030200"/></gpu></pci>
    <pci busid="0000:02:00.0" class="0x030200" link_speed="16 GT/s" link_width="16">
      <gpu dev="1" sm="80"><nvlink target="0000:01:00.0" count="4" tclass="0x030200"/></gpu></pci>
  </cpu></system>)");
  const Topology& t = n.topology;
  EXPECT_EQ(count_links(t, LinkKind::kNvLink), 2);
  EXPECT_NEAR(t.link(*t.find_link(*t.find("gpu0"), *t.find("gpu1"))).bandwidth / GBps(1), 100.0, kEps);
  EXPECT_NEAR(t.link(*t.find_link(*t.find("cpu0"), *t.find("gpu0"))).bandwidth / GBps(1), 12.0, kEps);
  EXPECT_TRUE(n.notes.empty());
}

TEST(NcclImport, OneWayNvLinkGetsAReverseAndANote) {
  NcclTopology n = must_read(R"(<system version="1"><cpu numaid="0">
    <pci busid="0000:01:00.0" class="0x030200"><gpu dev="0" sm="70">
      <nvlink target="0000:02:00.0" count="2"/></gpu></pci>
    <pci busid="0000:02:00.0" class="0x030200"><gpu dev="1" sm="70"/></pci>
  </cpu></system>)");
  const Topology& t = n.topology;
  ASSERT_TRUE(t.find_link(*t.find("gpu1"), *t.find("gpu0")).has_value());
  EXPECT_NEAR(t.link(*t.find_link(*t.find("gpu1"), *t.find("gpu0"))).bandwidth / GBps(1), 50.0, kEps);
  ASSERT_EQ(n.notes.size(), 1u);
  EXPECT_THAT(n.notes[0], HasSubstr("one way only"));
}

TEST(NcclImport, NestedSwitchesKeepTheTree) {
  NcclTopology n = must_read(R"(<system version="1"><cpu numaid="0">
    <pci busid="0000:10:00.0" class="0x060400" link_speed="16 GT/s" link_width="16">
      <pci busid="0000:11:00.0" class="0x060400" link_speed="16 GT/s" link_width="16">
        <pci busid="0000:12:00.0" class="0x030200" link_speed="16 GT/s" link_width="16"/>
      </pci>
      <pci busid="0000:13:00.0" class="0x020700" link_speed="16 GT/s" link_width="16">
        <nic><net name="mlx5_0" dev="0" speed="200000" gdr="1"/></nic>
      </pci>
    </pci>
  </cpu></system>)");
  const Topology& t = n.topology;
  const NodeId gpu = *t.find("gpu0");
  const NodeId inner = pcie_parent(t, gpu);
  EXPECT_EQ(t.node(inner).pci_busid, "0000:11:00.0");
  EXPECT_EQ(t.node(pcie_parent(t, *t.find("nic0"))).pci_busid, "0000:10:00.0");
  EXPECT_EQ(path_kinds(t, gpu, *t.find("nic0")).size(), 3u);
  ASSERT_EQ(n.nics.size(), 1u);
  EXPECT_EQ(n.nics[0].name, "mlx5_0");
  EXPECT_EQ(n.nics[0].speed, Gbps(200));
  EXPECT_TRUE(n.nics[0].gdr);
}

TEST(NcclImport, GpusOrderedByRankWhenAllHaveOne) {
  NcclTopology n = must_read(R"(<system version="1"><cpu numaid="0">
    <pci busid="0000:01:00.0" class="0x030200"><gpu dev="0" sm="80" rank="1"/></pci>
    <pci busid="0000:02:00.0" class="0x030200"><gpu dev="1" sm="80" rank="0"/></pci>
  </cpu></system>)");
  EXPECT_EQ(n.topology.node(n.topology.endpoint(0)).pci_busid, "0000:02:00.0");
  EXPECT_EQ(n.gpus[0].rank, 0);
}

TEST(NcclImport, UppercaseBusIdsAndMixedCaseClassesAreAccepted) {
  NcclTopology n = must_read(R"(<system version="1"><cpu numaid="0">
    <pci busid="0000:0A:00.0" class="0X030200" link_speed="8 GT/s" link_width="16"/>
  </cpu></system>)");
  EXPECT_EQ(n.gpus[0].busid, "0000:0a:00.0");
}

TEST(NcclImport, ImportFromStringReturnsTheTopology) {
  Result<Topology> t = import_nccl_topology_string(R"(<system version="1"><cpu numaid="0"/></system>)", "mem");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->node_count(), 1);
  EXPECT_EQ(t->name(), "mem");
}

// --- Errors -----------------------------------------------------------------------------------

TEST(NcclImportErrors, MalformedXmlGivesTheLine) {
  Error e = must_fail("<system version=\"1\">\n  <cpu numaid=\"0\">\n    <pci busid=\"x\" \n</system>\n");
  EXPECT_THAT(e.message(), HasSubstr("malformed XML"));
  EXPECT_EQ(e.where().file, "test.xml");
  EXPECT_GE(e.where().line, 3);
  EXPECT_THAT(e.to_string(), ::testing::StartsWith("test.xml:"));
}

TEST(NcclImportErrors, TruncatedFileIsMalformed) {
  Error e = must_fail("<system version=\"1\">\n  <cpu numaid=\"0\">\n");
  EXPECT_THAT(e.message(), HasSubstr("malformed XML"));
}

TEST(NcclImportErrors, EmptyInputHasNoRoot) {
  Error e = must_fail("");
  EXPECT_THAT(e.message(), HasSubstr("malformed XML"));
}

TEST(NcclImportErrors, WrongRootIsNamed) {
  Error e = must_fail("<topology version=\"1\"/>");
  EXPECT_THAT(e.message(), HasSubstr("root element is <topology>"));
}

TEST(NcclImportErrors, TwoRootsAreRejected) {
  Error e = must_fail("<system version=\"1\"><cpu numaid=\"0\"/></system>\n<system version=\"1\"/>");
  EXPECT_THAT(e.message(), HasSubstr("more than one root"));
}

TEST(NcclImportErrors, UnsupportedOrMissingVersion) {
  Error v2 = must_fail("<system version=\"2\"><cpu numaid=\"0\"/></system>");
  EXPECT_EQ(v2.code(), ErrorCode::kUnsupported);
  EXPECT_THAT(v2.message(), HasSubstr("version 2"));
  Error none = must_fail("<system><cpu numaid=\"0\"/></system>");
  EXPECT_THAT(none.message(), HasSubstr("without version"));
}

TEST(NcclImportErrors, NoCpuIsAnError) {
  EXPECT_THAT(must_fail("<system version=\"1\"/>").message(), HasSubstr("no <cpu>"));
}

TEST(NcclImportErrors, UnknownElementIsLocated) {
  Error e = must_fail("<system version=\"1\">\n<cpu numaid=\"0\">\n<gpuu/>\n</cpu></system>");
  EXPECT_EQ(e.where().line, 3);
  EXPECT_THAT(e.message(), HasSubstr("unexpected <gpuu> inside <cpu>"));
  EXPECT_THAT(e.hint(), HasSubstr("<pci> and <nic>"));
}

TEST(NcclImportErrors, BadAttributeValuesAreLocated) {
  const std::string head = "<system version=\"1\">\n<cpu numaid=\"0\">\n";
  const std::string tail = "\n</cpu></system>";
  Error speed = must_fail(head + "<pci busid=\"0000:01:00.0\" class=\"0x030200\" link_speed=\"7 GT/s\"/>" + tail);
  EXPECT_THAT(speed.message(), HasSubstr("bad link_speed=\"7 GT/s\""));
  EXPECT_EQ(speed.where().line, 3);
  Error width = must_fail(head + "<pci busid=\"0000:01:00.0\" class=\"0x030200\" link_width=\"x16\"/>" + tail);
  EXPECT_THAT(width.message(), HasSubstr("link_width"));
  Error wide = must_fail(head + "<pci busid=\"0000:01:00.0\" class=\"0x030200\" link_width=\"64\"/>" + tail);
  EXPECT_THAT(wide.message(), HasSubstr("link_width"));
  Error cls = must_fail(head + "<pci busid=\"0000:01:00.0\" class=\"0xZZ\"/>" + tail);
  EXPECT_THAT(cls.message(), HasSubstr("bad class"));
  Error sm = must_fail(head + "<pci busid=\"0000:01:00.0\" class=\"0x030200\"><gpu dev=\"0\" sm=\"eighty\"/></pci>" + tail);
  EXPECT_THAT(sm.message(), HasSubstr("bad sm"));
  Error count = must_fail(head + "<pci busid=\"0000:01:00.0\" class=\"0x030200\"><gpu dev=\"0\" sm=\"80\"><nvlink target=\"0000:02:00.0\" count=\"0\"/></gpu></pci>" + tail);
  EXPECT_THAT(count.message(), HasSubstr("bad count"));
  Error net = must_fail(head + "<nic><net name=\"eth0\" speed=\"fast\"/></nic>" + tail);
  EXPECT_THAT(net.message(), HasSubstr("bad speed"));
  Error numa = must_fail("<system version=\"1\"><cpu numaid=\"zero\"/></system>");
  EXPECT_THAT(numa.message(), HasSubstr("bad numaid"));
}

TEST(NcclImportErrors, MissingOrDuplicateBusIds) {
  EXPECT_THAT(must_fail("<system version=\"1\"><cpu numaid=\"0\"><pci class=\"0x030200\"/></cpu></system>").message(),
              HasSubstr("without busid"));
  Error dup = must_fail("<system version=\"1\"><cpu numaid=\"0\">\n<pci busid=\"0000:01:00.0\"/>\n"
                        "<pci busid=\"0000:01:00.0\"/></cpu></system>");
  EXPECT_THAT(dup.message(), HasSubstr("appears twice"));
  EXPECT_EQ(dup.where().line, 3);
  EXPECT_THAT(dup.hint(), HasSubstr("line 2"));
}

TEST(NcclImportErrors, DuplicateNumaIds) {
  EXPECT_THAT(must_fail("<system version=\"1\"><cpu numaid=\"0\"/><cpu numaid=\"0\"/></system>").message(),
              HasSubstr("numaid 0"));
}

TEST(NcclImportErrors, NvLinkTargetMustExist) {
  Error e = must_fail(R"(<system version="1"><cpu numaid="0">
    <pci busid="0000:01:00.0" class="0x030200"><gpu dev="0" sm="80">
      <nvlink target="0000:09:00.0" count="4" tclass="0x030200"/></gpu></pci>
  </cpu></system>)");
  EXPECT_THAT(e.message(), HasSubstr("nvlink target 0000:09:00.0"));
  EXPECT_EQ(e.where().line, 3);
}

TEST(NcclImportErrors, NvLinkNeedsTheGpuGeneration) {
  Error e = must_fail(R"(<system version="1"><cpu numaid="0">
    <pci busid="0000:01:00.0" class="0x030200"><gpu dev="0">
      <nvlink target="0000:02:00.0" count="4"/></gpu></pci></cpu></system>)");
  EXPECT_THAT(e.message(), HasSubstr("without sm"));
}

TEST(NcclImportErrors, DevicesCannotHoldPciChildren) {
  Error e = must_fail(R"(<system version="1"><cpu numaid="0">
    <pci busid="0000:01:00.0" class="0x030200"><pci busid="0000:02:00.0"/></pci></cpu></system>)");
  EXPECT_THAT(e.message(), HasSubstr("nested inside the GPU"));
}

TEST(NcclImportErrors, DeepNestingIsBounded) {
  std::string xml = "<system version=\"1\"><cpu numaid=\"0\">";
  for (int i = 0; i < 100; ++i) xml += "<pci busid=\"b" + std::to_string(i) + "\">";
  for (int i = 0; i < 100; ++i) xml += "</pci>";
  xml += "</cpu></system>";
  EXPECT_THAT(must_fail(xml).message(), HasSubstr("nested deeper than 64"));
}

TEST(NcclImportErrors, DuplicateGpuDevIsAnError) {
  Error e = must_fail(R"(<system version="1"><cpu numaid="0">
    <pci busid="0000:01:00.0" class="0x030200"><gpu dev="0" sm="80"/></pci>
    <pci busid="0000:02:00.0" class="0x030200"><gpu dev="0" sm="80"/></pci></cpu></system>)");
  EXPECT_THAT(e.message(), HasSubstr("same gpu dev"));
}

}  // namespace
}  // namespace mlsys::hw
