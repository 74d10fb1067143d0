// AdaPipe and Aceso as `mlsys train plan` runs them: every plan priced by the train simulator,
// and never a best plan slower than the grid's.
#include <gtest/gtest.h>

#include <string>

#include "mlsys/hw/catalog.h"
#include "mlsys/train/aceso.h"
#include "mlsys/train/adapipe.h"
#include "mlsys/train/grid.h"
#include "mlsys/train/simulate.h"

namespace mlsys::train {
namespace {

struct PlanCase {
  model::ModelSpec model;
  Cluster cluster;
  GridResult grid;
};

PlanCase make_case(const std::string& model_name, const std::string& gpu, int64_t gpus, int64_t gbs) {
  PlanCase s{*model::find_model(model_name), *make_cluster(*hw::find_gpu(gpu), gpus), {}};
  auto g = grid_search(s.model, s.cluster, {.global_batch = gbs, .seq = 2048, .top = 8});
  EXPECT_TRUE(g.ok()) << g.error().to_string();
  if (g) s.grid = *g;
  return s;
}

void expect_priced_and_not_worse(const PlanCase& s, const PlannerSearch& r) {
  ASSERT_FALSE(r.best.empty());
  ASSERT_EQ(r.best.size(), r.origin.size());
  EXPECT_LE(r.best.front().prediction.iteration_time, s.grid.best.front().prediction.iteration_time);
  for (size_t i = 0; i < r.best.size(); ++i) {
    EXPECT_TRUE(r.best[i].prediction.fits);
    // The reported time is the train simulator's on the final Plan.
    auto again = simulate_iteration(s.model, s.cluster, r.best[i].plan, {});
    ASSERT_TRUE(again.ok()) << again.error().to_string();
    EXPECT_EQ(again->iteration_time, r.best[i].prediction.iteration_time) << "plan " << i;
    if (i > 0) {
      EXPECT_LE(r.best[i - 1].prediction.iteration_time, r.best[i].prediction.iteration_time);
    }
  }
}

TEST(AdaPipeSearch, NeverSlowerThanGridOnGpt3With64Gpus) {
  const PlanCase s = make_case("gpt3-175b", "a100-80gb", 64, 64);
  auto r = adapipe_search(s.model, s.cluster, s.grid, {.bases = 4, .top = 5});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_GT(r->bases, 0);
  expect_priced_and_not_worse(s, *r);
}

TEST(AdaPipeSearch, NeverSlowerThanGridOnGpt17BWith16Gpus) {
  const PlanCase s = make_case("gpt-1.7b", "a100", 16, 128);
  auto r = adapipe_search(s.model, s.cluster, s.grid, {.bases = 4, .top = 5});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  expect_priced_and_not_worse(s, *r);
}

TEST(AdaPipeSearch, RefusesAnEmptyGrid) {
  const PlanCase s = make_case("gpt-1.7b", "a100", 8, 64);
  auto r = adapipe_search(s.model, s.cluster, GridResult{}, {});
  EXPECT_FALSE(r.ok());
}

TEST(AcesoPlanSearch, NeverSlowerThanGridOnGpt3With64Gpus) {
  const PlanCase s = make_case("gpt3-175b", "a100-80gb", 64, 64);
  auto r = aceso_plan_search(s.model, s.cluster, s.grid, {.bases = 4, .top = 5});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  expect_priced_and_not_worse(s, *r);
}

TEST(AcesoPlanSearch, NeverSlowerThanGridOnGpt17BWith16Gpus) {
  const PlanCase s = make_case("gpt-1.7b", "a100", 16, 128);
  auto r = aceso_plan_search(s.model, s.cluster, s.grid, {.bases = 4, .top = 5});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  expect_priced_and_not_worse(s, *r);
}

TEST(AcesoPlanSearch, UsesMeasuredProfiles) {
  const PlanCase s = make_case("gpt-1.3b-aceso", "v100", 4, 512);
  auto db = model::ProfileDb::load_aceso_dir(std::string(MLSYS_REPO_DATA) + "/train/aceso_gpt1.3b_v100_4gpu");
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  auto problem = aceso_problem_from_profiles(*db, s.model.layers, 512);
  ASSERT_TRUE(problem.ok());
  auto r = aceso_plan_search(s.model, s.cluster, s.grid, {.bases = 2, .top = 3}, &*problem);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  expect_priced_and_not_worse(s, *r);
}

TEST(AcesoPlanSearch, RefusesProfilesOfAnotherLayerCount) {
  const PlanCase s = make_case("gpt-1.7b", "a100", 8, 64);  // 24 layers ...
  auto db = model::ProfileDb::load_aceso_dir(std::string(MLSYS_REPO_DATA) + "/train/aceso_gpt1.3b_v100_4gpu");
  ASSERT_TRUE(db.ok());
  auto problem = aceso_problem_from_profiles(*db, 12, 64);  // ... the profiles' problem has 12
  ASSERT_TRUE(problem.ok());
  auto r = aceso_plan_search(s.model, s.cluster, s.grid, {}, &*problem);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().to_string().find("layers"), std::string::npos);
}

TEST(LowerRecompute, NeverSlowerAndStillFits) {
  const PlanCase s = make_case("gpt3-175b", "a100-80gb", 64, 64);
  Plan p{.tp = 8, .pp = 8, .dp = 1, .micro_batch = 1, .global_batch = 64, .seq = 2048};
  p.recompute_per_stage.assign(8, Recompute::kFull);
  auto before = simulate_iteration(s.model, s.cluster, p, {});
  ASSERT_TRUE(before.ok());
  auto r = lower_recompute(s.model, s.cluster, p, {});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->prediction.fits);
  EXPECT_LT(r->prediction.iteration_time, before->iteration_time);  // the last stage has room
}

}  // namespace
}  // namespace mlsys::train
