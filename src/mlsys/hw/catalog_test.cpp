#include "mlsys/hw/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace mlsys::hw {
namespace {

using ::testing::HasSubstr;

constexpr double kEps = 1e-6;

GpuSpec must_find(std::string_view name) {
  Result<GpuSpec> r = find_gpu(name);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? *r : GpuSpec{};
}

TEST(GpuCatalog, BuiltinShipsTheSevenCatalogEntries) {
  std::vector<std::string> names;
  for (const GpuSpec& g : GpuCatalog::builtin().gpus()) names.push_back(g.name);
  EXPECT_THAT(names, ::testing::ElementsAre("V100-SXM2-32GB", "A100-SXM4-40GB", "A100-SXM4-80GB",
                                            "H100-SXM5-80GB", "H100-PCIe-80GB", "H200-SXM-141GB",
                                            "TPUv4"));
}

TEST(GpuCatalog, FindsByAliasIgnoringCase) {
  EXPECT_EQ(must_find("h100").name, "H100-SXM5-80GB");
  EXPECT_EQ(must_find("H100-SXM").name, "H100-SXM5-80GB");
  EXPECT_EQ(must_find("a100").name, "A100-SXM4-80GB");
  EXPECT_EQ(must_find("a100-80g").name, "A100-SXM4-80GB");
  EXPECT_EQ(must_find("h200").name, "H200-SXM-141GB");
  EXPECT_EQ(must_find("v100").name, "V100-SXM2-32GB");
  EXPECT_EQ(must_find("a100-sxm4-40gb").name, "A100-SXM4-40GB");
}

TEST(GpuCatalog, StoresNvLinkPerDirectionFromTheBidirectionalColumn) {
  EXPECT_NEAR(must_find("h100").nvlink_bandwidth / GBps(1), 450.0, kEps);
  EXPECT_NEAR(must_find("a100").nvlink_bandwidth / GBps(1), 300.0, kEps);
  EXPECT_EQ(must_find("h100").nvlink_generation, 4);
  EXPECT_EQ(must_find("tpuv4").nvlink_generation, 0);
  EXPECT_EQ(must_find("tpuv4").nvlink_bandwidth, Bandwidth());
}

TEST(GpuCatalog, ReadsHbmCapacityAsGiBAndBandwidthInTBps) {
  const GpuSpec a100 = must_find("a100");
  EXPECT_EQ(a100.hbm_capacity, GiB(80));
  EXPECT_NEAR(a100.hbm_bandwidth / GBps(1), 2039.0, kEps);
  EXPECT_EQ(a100.hbm_type, "HBM2e");
  EXPECT_NEAR(must_find("h100").nic_bandwidth / Gbps(1), 400.0, kEps);
  EXPECT_NEAR(must_find("h100").tdp_watts, 700.0, kEps);
}

TEST(GpuCatalog, PeakByPrecision) {
  const GpuSpec h100 = must_find("h100");
  EXPECT_NEAR(*h100.peak(Precision::kBf16) / TFLOPS(1), 989.0, kEps);
  EXPECT_NEAR(*h100.peak(Precision::kFp16) / TFLOPS(1), 989.0, kEps);
  EXPECT_NEAR(*h100.peak(Precision::kFp8) / TFLOPS(1), 1979.0, kEps);
  EXPECT_NEAR(*h100.peak(Precision::kTf32) / TFLOPS(1), 495.0, kEps);
  EXPECT_NEAR(*h100.peak(Precision::kFp32) / TFLOPS(1), 67.0, kEps);
  EXPECT_FALSE(must_find("a100").peak(Precision::kFp8).has_value());
  EXPECT_FALSE(must_find("v100").peak(Precision::kTf32).has_value());
}

TEST(GpuCatalog, TpuV4RowMatchesGoogleDocs) {
  const GpuSpec tpu = must_find("TPU-V4");
  EXPECT_NEAR(*tpu.peak(Precision::kBf16) / TFLOPS(1), 275.0, kEps);
  EXPECT_EQ(tpu.hbm_capacity, GiB(32));
  EXPECT_NEAR(tpu.hbm_bandwidth / GBps(1), 1200.0, kEps);
  EXPECT_FALSE(tpu.peak(Precision::kFp32).has_value());
  EXPECT_THAT(tpu.source, HasSubstr("cloud.google.com"));
}

TEST(GpuCatalog, UnknownNameListsKnownAndSuggestsClosest) {
  Result<GpuSpec> r = find_gpu("h10");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message(), "unknown GPU 'h10'");
  EXPECT_THAT(r.error().hint(), HasSubstr("known: V100-SXM2-32GB, A100-SXM4-40GB"));
  EXPECT_THAT(r.error().hint(), HasSubstr("did you mean 'h100'?"));
}

TEST(GpuCatalog, UnknownNameFarFromAllHasNoSuggestion) {
  Result<GpuSpec> r = find_gpu("quantum-accelerator-9000");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().hint(), ::testing::Not(HasSubstr("did you mean")));
}

TEST(GpuCatalog, LoadsTheRepoCsvLikeTheBuiltinCopy) {
  Result<GpuCatalog> c = load_gpu_catalog(std::string(MLSYS_REPO_DATA) + "/hw/gpu_specs.csv");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  ASSERT_EQ(c->gpus().size(), GpuCatalog::builtin().gpus().size());
  for (size_t i = 0; i < c->gpus().size(); ++i) {
    EXPECT_EQ(c->gpus()[i].name, GpuCatalog::builtin().gpus()[i].name);
    EXPECT_EQ(c->gpus()[i].bf16_dense, GpuCatalog::builtin().gpus()[i].bf16_dense);
  }
}

// The repo copy adds columns and a row; every number of the shared original must survive.
TEST(GpuCatalog, RepoCopyAgreesWithTheSharedOriginal) {
  Result<GpuCatalog> shared =
      load_gpu_catalog(std::string(MLSYS_SHARED_DATA) + "/training/reference/gpu_specs.csv");
  ASSERT_TRUE(shared.ok()) << shared.error().to_string();
  ASSERT_EQ(shared->gpus().size(), 6u);
  for (const GpuSpec& original : shared->gpus()) {
    Result<GpuSpec> copy = GpuCatalog::builtin().find(original.name);
    ASSERT_TRUE(copy.ok()) << original.name;
    EXPECT_EQ(copy->bf16_dense, original.bf16_dense) << original.name;
    EXPECT_EQ(copy->fp8_dense, original.fp8_dense) << original.name;
    EXPECT_EQ(copy->tf32_dense, original.tf32_dense) << original.name;
    EXPECT_EQ(copy->fp32, original.fp32) << original.name;
    EXPECT_EQ(copy->hbm_capacity, original.hbm_capacity) << original.name;
    EXPECT_EQ(copy->hbm_bandwidth, original.hbm_bandwidth) << original.name;
    EXPECT_EQ(copy->nvlink_bandwidth, original.nvlink_bandwidth) << original.name;
    EXPECT_EQ(copy->nic_bandwidth, original.nic_bandwidth) << original.name;
    EXPECT_EQ(copy->tdp_watts, original.tdp_watts) << original.name;
  }
}

TEST(GpuCatalog, LoadMissingFileIsNotFound) {
  Result<GpuCatalog> c = load_gpu_catalog("/nonexistent/gpu_specs.csv");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::kNotFound);
}

constexpr std::string_view kHeader = "gpu,bf16_dense_tflops,hbm_GB,hbm_TBps,aliases,source\n";

TEST(GpuCatalogCsv, ParsesMinimalColumnsAndQuotedFields) {
  Result<GpuCatalog> c = GpuCatalog::parse_csv(
      std::string(kHeader) + "X1,100,16,1.0,x1|xone,\"vendor sheet, page 3\"\n", "t.csv");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  ASSERT_EQ(c->gpus().size(), 1u);
  EXPECT_EQ(c->gpus()[0].source, "vendor sheet, page 3");
  EXPECT_EQ(c->find("XONE")->name, "X1");
  EXPECT_FALSE(c->gpus()[0].fp8_dense.has_value());
}

TEST(GpuCatalogCsv, WrongFieldCountNamesTheLine) {
  Result<GpuCatalog> c = GpuCatalog::parse_csv(
      "# comment\n" + std::string(kHeader) + "X1,100,16,1.0,x1,src\nX2,100,16\n", "t.csv");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().where().line, 4);
  EXPECT_THAT(c.error().to_string(), HasSubstr("t.csv:4: expected 6 fields, found 3"));
}

TEST(GpuCatalogCsv, BadNumberNamesColumnAndLine) {
  Result<GpuCatalog> c =
      GpuCatalog::parse_csv(std::string(kHeader) + "X1,fast,16,1.0,x1,src\n", "t.csv");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().where().line, 2);
  EXPECT_THAT(c.error().message(), HasSubstr("column bf16_dense_tflops"));
}

TEST(GpuCatalogCsv, NegativeNumberIsRejected) {
  Result<GpuCatalog> c =
      GpuCatalog::parse_csv(std::string(kHeader) + "X1,100,-16,1.0,x1,src\n", "t.csv");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().message(), HasSubstr("hbm_GB"));
}

TEST(GpuCatalogCsv, MissingRequiredColumnIsAnError) {
  Result<GpuCatalog> c = GpuCatalog::parse_csv("gpu,hbm_GB,hbm_TBps\nX1,16,1.0\n", "t.csv");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().message(), HasSubstr("missing column 'bf16_dense_tflops'"));
}

TEST(GpuCatalogCsv, RequiredValueLeftEmptyIsAnError) {
  Result<GpuCatalog> c = GpuCatalog::parse_csv(std::string(kHeader) + "X1,,16,1.0,,\n", "t.csv");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().message(), HasSubstr("lacks"));
}

TEST(GpuCatalogCsv, DuplicateAliasAcrossRowsIsAnError) {
  Result<GpuCatalog> c = GpuCatalog::parse_csv(
      std::string(kHeader) + "X1,100,16,1.0,fast,\nX2,100,16,1.0,FAST,\n", "t.csv");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().to_string(), HasSubstr("t.csv:3:"));
  EXPECT_THAT(c.error().message(), HasSubstr("'FAST' is already used by 'X1'"));
}

TEST(GpuCatalogCsv, UnterminatedQuoteIsAnError) {
  Result<GpuCatalog> c =
      GpuCatalog::parse_csv(std::string(kHeader) + "X1,100,16,1.0,x,\"open\n", "t.csv");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().message(), HasSubstr("unterminated"));
}

TEST(GpuCatalogCsv, EmptyTextHasNoHeader) {
  Result<GpuCatalog> c = GpuCatalog::parse_csv("# only a comment\n", "t.csv");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().message(), HasSubstr("no header"));
}

TEST(GpuCatalog, AddRejectsZeroRates) {
  GpuCatalog c;
  GpuSpec spec;
  spec.name = "broken";
  EXPECT_FALSE(c.add(spec).ok());
}

constexpr std::string_view kYamlGpu = R"(gpus:
  - name: MI300X
    aliases: [mi300x, mi300]
    bf16_dense: 1307TFLOPS
    fp8_dense: 2615TFLOPS
    hbm_capacity: 192GiB
    hbm_bandwidth: 5.3TBps
    hbm_type: HBM3
    nic_bandwidth: 400Gbps
    tdp_watts: 750
)";

TEST(GpuSpecsYaml, AddsUserGpusToTheBuiltinCatalog) {
  Result<GpuCatalog> c = parse_gpu_specs_yaml(kYamlGpu, "mine.yaml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->gpus().size(), GpuCatalog::builtin().gpus().size() + 1);
  Result<GpuSpec> mi = c->find("mi300");
  ASSERT_TRUE(mi.ok());
  EXPECT_EQ(mi->name, "MI300X");
  EXPECT_EQ(mi->hbm_capacity, GiB(192));
  EXPECT_NEAR(*mi->peak(Precision::kFp8) / TFLOPS(1), 2615.0, kEps);
  EXPECT_FALSE(mi->peak(Precision::kTf32).has_value());
  EXPECT_NEAR(mi->tdp_watts, 750.0, kEps);
  EXPECT_EQ(mi->source, "mine.yaml");
  EXPECT_TRUE(c->find("h100").ok());
}

TEST(GpuSpecsYaml, NumberWithoutUnitIsLocated) {
  Result<GpuCatalog> c = parse_gpu_specs_yaml(
      "gpus:\n  - name: X\n    bf16_dense: 100\n    hbm_capacity: 16GiB\n    hbm_bandwidth: 1TBps\n",
      "mine.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().message(), HasSubstr("'bf16_dense' needs a unit"));
  EXPECT_EQ(c.error().where().line, 3);
}

TEST(GpuSpecsYaml, UnknownKeySuggests) {
  Result<GpuCatalog> c = parse_gpu_specs_yaml(
      "gpus:\n  - name: X\n    bf16_dense: 1TFLOPS\n    hbm_capcity: 16GiB\n", "mine.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().to_string(), HasSubstr("hbm_capacity"));
}

TEST(GpuSpecsYaml, MissingRequiredKeyIsAnError) {
  Result<GpuCatalog> c =
      parse_gpu_specs_yaml("gpus:\n  - name: X\n    bf16_dense: 1TFLOPS\n", "mine.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().message(), HasSubstr("lacks hbm_capacity"));
}

TEST(GpuSpecsYaml, NameClashWithBuiltinIsAnError) {
  Result<GpuCatalog> c = parse_gpu_specs_yaml(
      "gpus:\n  - name: H100\n    bf16_dense: 1TFLOPS\n    hbm_capacity: 1GiB\n"
      "    hbm_bandwidth: 1TBps\n",
      "mine.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().message(), HasSubstr("already used by 'H100-SXM5-80GB'"));
  EXPECT_EQ(c.error().where().line, 2);
}

TEST(GpuSpecsYaml, MissingFileIsNotFound) {
  EXPECT_EQ(load_gpu_specs_yaml("/nonexistent/gpus.yaml").error().code(), ErrorCode::kNotFound);
}

TEST(Precision, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(*parse_precision("BF16"), Precision::kBf16);
  EXPECT_EQ(*parse_precision("fp8"), Precision::kFp8);
  Result<Precision> bad = parse_precision("int4");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().hint(), HasSubstr("fp32, tf32, bf16, fp16, fp8"));
}

TEST(Interconnect, PcieUsesNcclEffectiveFigures) {
  EXPECT_NEAR(find_interconnect("pcie3")->per_link / GBps(1), 12.0, kEps);
  EXPECT_NEAR(find_interconnect("pcie4")->per_link / GBps(1), 24.0, kEps);
  EXPECT_NEAR(find_interconnect("pcie5")->per_link / GBps(1), 48.0, kEps);
  EXPECT_NEAR(*pcie_bandwidth(4, 8) / GBps(1), 12.0, kEps);
  EXPECT_NEAR(*pcie_bandwidth(5, 16) / GBps(1), 48.0, kEps);
}

TEST(Interconnect, PcieRejectsUnknownGenerationAndWidth) {
  EXPECT_FALSE(pcie_bandwidth(7, 16).ok());
  EXPECT_FALSE(pcie_bandwidth(0, 16).ok());
  EXPECT_FALSE(pcie_bandwidth(4, 0).ok());
  EXPECT_FALSE(pcie_bandwidth(4, 33).ok());
}

TEST(Interconnect, NvLinkPerDeviceMatchesTheGpuCatalog) {
  EXPECT_NEAR(find_interconnect("nvlink2")->per_device() / GBps(1), 150.0, kEps);
  EXPECT_EQ(find_interconnect("nvlink3")->per_device(), must_find("a100").nvlink_bandwidth);
  EXPECT_EQ(find_interconnect("nvlink4")->per_device(), must_find("h100").nvlink_bandwidth);
  EXPECT_EQ(find_interconnect("nvlink2")->per_device(), must_find("v100").nvlink_bandwidth);
  EXPECT_NEAR(*find_interconnect("nvlink4")->nccl_per_link / GBps(1), 20.6, kEps);
}

TEST(Interconnect, NetworkPortsInBitsPerSecond) {
  EXPECT_NEAR(find_interconnect("ib-hdr")->per_link / GBps(1), 25.0, kEps);
  EXPECT_NEAR(find_interconnect("ib-ndr")->per_link / GBps(1), 50.0, kEps);
  EXPECT_NEAR(find_interconnect("eth-100g")->per_link / Gbps(1), 100.0, kEps);
  EXPECT_EQ(find_interconnect("tpuv4-ici")->links_per_device, 6);
  EXPECT_EQ(find_interconnect("tpuv4-ici")->kind, LinkKind::kIci);
}

TEST(Interconnect, UnknownNameSuggestsClosest) {
  Result<InterconnectSpec> r = find_interconnect("nvlnk4");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().hint(), HasSubstr("did you mean 'nvlink4'?"));
}

TEST(Interconnect, NvLinkGenerationFollowsComputeCapability) {
  EXPECT_EQ(nvlink_for_sm(70)->name, "nvlink2");
  EXPECT_EQ(nvlink_for_sm(80)->name, "nvlink3");
  EXPECT_EQ(nvlink_for_sm(86)->name, "nvlink3-sm86");
  EXPECT_EQ(nvlink_for_sm(90)->name, "nvlink4");
  EXPECT_EQ(nvlink_for_sm(100)->name, "nvlink5");
  EXPECT_FALSE(nvlink_for_sm(52).ok());
}

TEST(NodeSpecs, DgxNodesHaveEightGpusAndNics) {
  Result<NodeSpec> h = find_node_spec("dgx-h100");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->gpus, 8);
  EXPECT_EQ(h->nics, 8);
  EXPECT_TRUE(h->nvswitch);
  EXPECT_NEAR(h->nic_link.bandwidth / Gbps(1), 400.0, kEps);
  Result<NodeSpec> a = find_node_spec("HGX-A100");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->name, "dgx-a100");
  EXPECT_NEAR(a->nic_link.bandwidth / Gbps(1), 200.0, kEps);
  Result<NodeSpec> tpu = find_node_spec("tpuv4-host");
  ASSERT_TRUE(tpu.ok());
  EXPECT_EQ(tpu->gpus, 4);
  EXPECT_FALSE(tpu->nvswitch);
}

TEST(NodeSpecs, EveryNodeTypeNamesACatalogGpu) {
  for (const NodeSpec& node : node_specs()) {
    EXPECT_TRUE(find_gpu(node.gpu).ok()) << node.name << " -> " << node.gpu;
  }
}

TEST(NodeSpecs, UnknownNodeTypeSuggests) {
  Result<NodeSpec> r = find_node_spec("dgx-h10");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(r.error().hint(), HasSubstr("did you mean"));
}

}  // namespace
}  // namespace mlsys::hw
