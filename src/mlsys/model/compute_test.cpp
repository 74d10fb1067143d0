#include "mlsys/model/compute.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mlsys::model {
namespace {

using ::testing::HasSubstr;

EfficiencyTable table(std::string_view gpu) {
  Result<EfficiencyTable> t = EfficiencyTable::builtin(gpu);
  EXPECT_TRUE(t.ok()) << (t ? "" : t.error().to_string());
  return t ? *t : EfficiencyTable{};
}

RooflineModel a100() {
  Result<hw::GpuSpec> gpu = hw::find_gpu("a100");
  EXPECT_TRUE(gpu.ok());
  return RooflineModel(*gpu, hw::Precision::kBf16, table("a100"));
}

Op gemm_op(int64_t m, int64_t n, int64_t k) {
  Op op;
  op.name = "gemm";
  op.kind = OpKind::kGemm;
  op.m = m;
  op.n = n;
  op.k = k;
  op.flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  op.bytes = 2.0 * static_cast<double>(m * k + k * n + m * n);
  return op;
}

Op elementwise_op(double elements) {
  Op op;
  op.name = "gelu";
  op.kind = OpKind::kElementwise;
  op.flops = 8 * elements;
  op.bytes = 4 * elements;
  return op;
}

TEST(EfficiencyTable, BuiltinA100IsCalculonsTable) {
  const EfficiencyTable t = table("A100-SXM4-80GB");
  EXPECT_EQ(t.name, "a100");
  EXPECT_DOUBLE_EQ(t.matrix(200), 0.95);
  EXPECT_DOUBLE_EQ(t.matrix(128), 0.95);
  EXPECT_DOUBLE_EQ(t.matrix(20), 0.9);
  EXPECT_DOUBLE_EQ(t.matrix(2), 0.6);
  EXPECT_DOUBLE_EQ(t.matrix(0.5), 0.1);
  EXPECT_DOUBLE_EQ(t.memory(150), 0.9);
  EXPECT_DOUBLE_EQ(t.memory(0.1), 0.3);
  EXPECT_DOUBLE_EQ(t.vector(20), 0.95);
}

TEST(EfficiencyTable, H200UsesTheHopperTableAndUnknownGpusTheDefault) {
  EXPECT_EQ(table("h200").name, "h100");
  EXPECT_EQ(table("v100").name, "default");
}

TEST(EfficiencyTable, ParseCsvSortsSteps) {
  Result<EfficiencyTable> t = EfficiencyTable::parse_csv(
      "kind,threshold,efficiency\nmatrix,0,0.2\nmatrix,10,0.8\nvector,0,0.5\nmemory,0,0.7\n", "eff.csv");
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_DOUBLE_EQ(t->matrix(11), 0.8);
  EXPECT_DOUBLE_EQ(t->matrix(9), 0.2);
}

TEST(EfficiencyTable, ParseCsvRejectsEfficiencyAboveOneWithLine) {
  Result<EfficiencyTable> t = EfficiencyTable::parse_csv(
      "kind,threshold,efficiency\nmatrix,0,0.2\nmatrix,10,1.8\nvector,0,0.5\nmemory,0,0.7\n", "eff.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.error().to_string(), HasSubstr("eff.csv:3"));
}

TEST(EfficiencyTable, ParseCsvRejectsUnknownKind) {
  Result<EfficiencyTable> t =
      EfficiencyTable::parse_csv("kind,threshold,efficiency\ntensor,0,0.2\n", "eff.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.error().to_string(), HasSubstr("eff.csv:2: unknown kind 'tensor'"));
}

TEST(EfficiencyTable, ParseCsvNeedsEveryKind) {
  Result<EfficiencyTable> t = EfficiencyTable::parse_csv("kind,threshold,efficiency\nmatrix,0,0.2\n", "eff.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.error().message(), HasSubstr("no 'vector' rows"));
}

TEST(EfficiencyTable, ParseCsvRejectsMissingColumn) {
  Result<EfficiencyTable> t = EfficiencyTable::parse_csv("kind,efficiency\nmatrix,0.2\n", "eff.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.error().message(), HasSubstr("missing column 'threshold'"));
}

TEST(EfficiencyTable, ParseCsvRejectsSeveralGpus) {
  Result<EfficiencyTable> t = EfficiencyTable::parse_csv(
      "gpu,kind,threshold,efficiency\na,matrix,0,0.2\nb,matrix,0,0.3\n", "eff.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.error().to_string(), HasSubstr("eff.csv:3: the file holds tables for several GPUs"));
}

TEST(RooflineModel, BigGemmApproachesPeakTimesEfficiency) {
  const RooflineModel model = a100();
  const Op op = gemm_op(16384, 16384, 16384);  // 8.8 TFLOP
  const double seconds = model.time(op).forward.seconds();
  const double achieved = op.flops / seconds;
  EXPECT_NEAR(achieved / 312e12, 0.95, 1e-6);
}

TEST(RooflineModel, SmallElementwiseIsMemoryBound) {
  const RooflineModel model = a100();
  const Op op = elementwise_op(1 << 20);  // 4 MiB of traffic
  const double seconds = model.time(op).forward.seconds();
  const double hbm = hw::find_gpu("a100")->hbm_bandwidth.base();
  EXPECT_NEAR(seconds, op.bytes / (hbm * 0.6), 1e-9);
}

TEST(RooflineModel, TimeGrowsWithSize) {
  const RooflineModel model = a100();
  Time previous = Time::zero();
  for (int64_t n = 64; n <= 16384; n *= 2) {
    const Time t = model.time(gemm_op(n, n, n)).forward;
    EXPECT_GT(t, previous) << n;
    previous = t;
  }
  previous = Time::zero();
  for (double e = 1e3; e <= 1e9; e *= 4) {
    const Time t = model.time(elementwise_op(e)).forward;
    EXPECT_GE(t, previous) << e;
    previous = t;
  }
}

TEST(RooflineModel, GemmBackwardIsTwiceForward) {
  const RooflineModel model = a100();
  const OpTime t = model.time(gemm_op(8192, 8192, 8192));
  EXPECT_NEAR(t.backward / t.forward, 2.0, 1e-6);
}

TEST(RooflineModel, OptimizerStepIsAdamTrafficOverHbm) {
  const RooflineModel model = a100();
  const double params = 1e9;
  const double hbm = hw::find_gpu("a100")->hbm_bandwidth.base();
  EXPECT_NEAR(model.optimizer_step(params).seconds(), 30 * params / (hbm * 0.9), 1e-6);
}

TEST(RooflineModel, H100IsFasterThanA100OnTheSameGemm) {
  const RooflineModel h100(*hw::find_gpu("h100"), hw::Precision::kBf16, table("h100"));
  const Op op = gemm_op(8192, 8192, 8192);
  EXPECT_LT(h100.time(op).forward, a100().time(op).forward);
}

TEST(RooflineModel, DescribeNamesGpuAndTable) {
  EXPECT_THAT(a100().describe(), HasSubstr("a100"));
}

}  // namespace
}  // namespace mlsys::model
