#include "mlsys/train/grid.h"

#include <gtest/gtest.h>

#include "mlsys/hw/catalog.h"
#include "mlsys/train/test_models.h"

namespace mlsys::train {
namespace {

Cluster a100(int64_t gpus) { return *make_cluster(*hw::find_gpu("a100"), gpus); }

TEST(Grid, BestPlanBeatsEveryOtherSimulatedCandidate) {
  const model::ModelSpec m = testing::gpt_shape(2048, 8, 16);
  GridOptions o{.global_batch = 16, .seq = 1024, .top = 5, .refine = 1000};
  auto r = grid_search(m, a100(8), o);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_FALSE(r->best.empty());
  EXPECT_EQ(r->simulated, r->fitting);  // tiny instance: every fitting plan simulated (brute force)
  for (size_t i = 1; i < r->best.size(); ++i) {
    EXPECT_LE(r->best[0].prediction.iteration_time, r->best[i].prediction.iteration_time);
  }
  EXPECT_TRUE(r->best[0].prediction.fits);
  EXPECT_EQ(r->best[0].plan.gpus(), 8);
}

TEST(Grid, RefusesWhenNothingFits) {
  const model::ModelSpec m = *model::find_model("gpt3-175b");
  auto r = grid_search(m, a100(8), {.global_batch = 8, .seq = 2048});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("no valid plan fits"), std::string::npos);
}

TEST(Grid, FlagsNameTheMegatronOptions) {
  const model::ModelSpec m = *model::find_model("gpt3-175b");
  Plan p;
  p.tp = 8;
  p.pp = 8;
  p.dp = 16;
  p.global_batch = 1536;
  p.schedule = Schedule::kInterleaved;
  p.virtual_stages = 3;
  p.recompute = Recompute::kFull;
  const std::string f = megatron_flags(m, p);
  EXPECT_NE(f.find("--tensor-model-parallel-size 8 --pipeline-model-parallel-size 8"), std::string::npos);
  EXPECT_NE(f.find("--num-layers-per-virtual-pipeline-stage 4"), std::string::npos);
  EXPECT_NE(f.find("--recompute-granularity full --recompute-method uniform"), std::string::npos);
  EXPECT_NE(f.find("--sequence-parallel"), std::string::npos);
  EXPECT_NE(f.find("--use-distributed-optimizer"), std::string::npos);
}

}  // namespace
}  // namespace mlsys::train
