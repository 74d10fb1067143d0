#include "mlsys/train/plan.h"

#include <gtest/gtest.h>

#include "mlsys/hw/catalog.h"
#include "mlsys/train/test_models.h"

namespace mlsys::train {
namespace {

Cluster cluster(int64_t gpus) { return *make_cluster(*hw::find_gpu("a100"), gpus); }

Plan gpt3_plan() {
  Plan p;
  p.tp = 8;
  p.pp = 16;
  p.dp = 8;
  p.global_batch = 1536;
  return p;
}

TEST(Plan, ParsesSchedules) {
  auto i = parse_schedule("interleaved:3");
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->first, Schedule::kInterleaved);
  EXPECT_EQ(i->second, 3);
  EXPECT_EQ(parse_schedule("1F1B")->first, Schedule::k1F1B);
  EXPECT_FALSE(parse_schedule("interleaved:1").ok());
  EXPECT_FALSE(parse_schedule("interleaved:x").ok());
  EXPECT_FALSE(parse_schedule("zb-v").ok());
}

TEST(Plan, ParsesRecompute) {
  EXPECT_EQ(*parse_recompute("selective"), Recompute::kSelective);
  EXPECT_FALSE(parse_recompute("partial").ok());
}

TEST(Plan, ClusterTakesTierFiguresFromData) {
  const Cluster c = cluster(1024);
  EXPECT_DOUBLE_EQ(c.intra_efficiency, 0.65);
  EXPECT_DOUBLE_EQ(c.inter_efficiency, 0.9);
  EXPECT_EQ(c.inter_latency, us(20));
  EXPECT_DOUBLE_EQ(c.inter_node.base(), 25e9);
  EXPECT_FALSE(make_cluster(*hw::find_gpu("a100"), 12).ok());
}

TEST(Plan, AcceptsAValidPlan) {
  const model::ModelSpec m = *model::find_model("gpt3-175b");
  EXPECT_TRUE(check_plan(m, cluster(1024), gpt3_plan()).ok());
}

TEST(Plan, NamesTheGpuProductConstraint) {
  const model::ModelSpec m = *model::find_model("gpt3-175b");
  Plan p = gpt3_plan();
  p.dp = 4;
  Status s = check_plan(m, cluster(1024), p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("tp*pp*dp = 8*16*4 = 512 but --gpus is 1024"), std::string::npos);
}

TEST(Plan, NamesHeadsLayersAndBatchConstraints) {
  const model::ModelSpec m = *model::find_model("gpt3-175b");
  Plan heads = gpt3_plan();
  heads.tp = 5;
  heads.dp = 8;
  heads.pp = 16;
  EXPECT_NE(check_plan(m, cluster(640), heads).error().message().find("heads"), std::string::npos);
  Plan layers = gpt3_plan();
  layers.pp = 128;
  layers.dp = 1;
  EXPECT_NE(check_plan(m, cluster(1024), layers).error().message().find("layers 96 < pipeline stages 128"),
            std::string::npos);
  Plan batch = gpt3_plan();
  batch.global_batch = 100;
  EXPECT_NE(check_plan(m, cluster(1024), batch).error().message().find("not divisible by mbs*dp"), std::string::npos);
}

TEST(Plan, ChecksNonUniformStages) {
  const model::ModelSpec m = testing::gpt_shape(1024, 8, 16);
  Plan p;
  p.pp = 2;
  p.global_batch = 8;
  p.layers_per_stage = {3, 5};
  EXPECT_TRUE(check_plan(m, cluster(2), p).ok());
  p.layers_per_stage = {3, 4};
  EXPECT_FALSE(check_plan(m, cluster(2), p).ok());
  p.layers_per_stage = {3, 5};
  p.recompute_per_stage = {Recompute::kFull};
  EXPECT_FALSE(check_plan(m, cluster(2), p).ok());
}

}  // namespace
}  // namespace mlsys::train
