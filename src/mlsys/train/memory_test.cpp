#include "mlsys/train/memory.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "mlsys/core/csv_reader.h"
#include "mlsys/train/test_models.h"

namespace mlsys::train {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

Plan korthikanti_plan(int64_t tp, int64_t pp, int64_t vpp, int64_t mb, int64_t gbs, int64_t gpus) {
  Plan p;
  p.tp = tp;
  p.pp = pp;
  p.dp = gpus / (tp * pp);
  p.micro_batch = mb;
  p.global_batch = gbs;
  p.seq = 2048;
  p.schedule = vpp > 1 ? Schedule::kInterleaved : Schedule::k1F1B;
  p.virtual_stages = vpp;
  return p;
}

// Korthikanti Fig. 1 (reference CSV, verified from Calculon's validation.py): the activation
// memory of the first stage, to 4 decimals, for TP only and for TP + SP + selective.
TEST(Memory, KorthikantiFigureOneToFourDecimals) {
  auto csv = CsvReader::open(std::string(MLSYS_SHARED_DATA) + "/training/reference/korthikanti_2205.05198.csv");
  ASSERT_TRUE(csv.ok()) << csv.error().to_string();
  CsvRow row;
  int rows = 0;
  for (;;) {
    auto more = csv->next(row);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    auto get = [&](const char* c) { return *row.get_int64(c); };
    const model::ModelSpec m = testing::gpt_shape(get("hidden"), get("layers"), get("heads"));
    Plan plan = korthikanti_plan(get("tp"), get("pp"), get("vpp"), get("micro_batch"), get("global_batch"), get("gpus"));
    plan.sequence_parallel = false;
    plan.recompute = Recompute::kNone;
    const double tp_only = stage_activations(m, plan, 0).layers / kGiB;
    plan.sequence_parallel = true;
    plan.recompute = Recompute::kSelective;
    const double seqsel = stage_activations(m, plan, 0).layers / kGiB;
    EXPECT_NEAR(tp_only, *row.get_double("fig1_act_none_GiB"), 5e-5) << *row.get("model");
    EXPECT_NEAR(seqsel, *row.get_double("fig1_act_seqsel_GiB"), 5e-5) << *row.get("model");
    ++rows;
  }
  EXPECT_EQ(rows, 4);
}

TEST(Memory, FullRecomputeKeepsOnlyLayerInputs) {
  const model::ModelSpec m = testing::gpt_shape(12288, 96, 96);
  const double sbh = 2048.0 * 1 * 12288;
  EXPECT_DOUBLE_EQ(layer_activation_bytes(m, 1, 2048, 8, true, Recompute::kFull), 2 * sbh / 8);
  EXPECT_DOUBLE_EQ(layer_activation_bytes(m, 1, 2048, 8, false, Recompute::kFull), 2 * sbh);
}

TEST(Memory, SelectiveWithSequenceParallelIsMegatronsEighteenPlusFourFfn) {
  model::ModelSpec m = testing::gpt_shape(4096, 32, 32);
  m.ffn = 3 * 4096;  // 18 + 4 * 3 = 30
  const double sbh = 2048.0 * 2 * 4096;
  EXPECT_DOUBLE_EQ(layer_activation_bytes(m, 2, 2048, 4, true, Recompute::kSelective), 30 * sbh / 4);
}

TEST(Memory, InflightFactorFollowsTheSchedule) {
  const model::ModelSpec m = testing::gpt_shape(12288, 96, 96);
  Plan p = korthikanti_plan(8, 8, 1, 1, 64, 64);
  EXPECT_DOUBLE_EQ(inflight_layer_microbatches(m, p, 0), 96.0);   // p micro-batches x L/p
  EXPECT_DOUBLE_EQ(inflight_layer_microbatches(m, p, 7), 12.0);   // last stage: one
  p.global_batch = 4;                                            // m = 4 < p = 8
  EXPECT_DOUBLE_EQ(inflight_layer_microbatches(m, p, 0), 48.0);   // x m/p
  p.global_batch = 64;
  p.schedule = Schedule::kGpipe;
  EXPECT_DOUBLE_EQ(inflight_layer_microbatches(m, p, 0), 64.0 * 12);
  p.schedule = Schedule::kInterleaved;
  p.virtual_stages = 3;
  EXPECT_DOUBLE_EQ(inflight_layer_microbatches(m, p, 0), 96.0 * (1 + 7.0 / 24));
}

TEST(Memory, ModelStatesFollowTheDistributedOptimizerTable) {
  const model::ModelSpec m = testing::gpt_shape(4096, 32, 32);
  Plan p;
  p.dp = 8;
  p.global_batch = 8;
  const double params = stage_parameters(m, p, 0);
  p.zero_stage = 0;
  Memory plain = stage_memory(m, p, 0);
  EXPECT_NEAR((plain.weights + plain.gradients + plain.optimizer) / params, 18.0, 1e-9);
  p.zero_stage = 1;
  Memory z1 = stage_memory(m, p, 0);
  EXPECT_NEAR((z1.weights + z1.gradients + z1.optimizer) / params, 6.0 + 12.0 / 8, 1e-9);
  p.zero_stage = 3;
  Memory z3 = stage_memory(m, p, 0);
  EXPECT_NEAR((z3.weights + z3.gradients + z3.optimizer) / params, 18.0 / 8, 1e-9);
}

TEST(Memory, OutputLayerTermOnlyOnTheLastStage) {
  const model::ModelSpec m = testing::gpt_shape(6144, 48, 64);
  Plan p = korthikanti_plan(8, 2, 1, 1, 8, 16);
  EXPECT_EQ(stage_activations(m, p, 0).output, 0.0);
  EXPECT_GT(stage_activations(m, p, 1).output, 0.0);
  EXPECT_GT(stage_activations(m, p, 0).embedding, 0.0);
  EXPECT_EQ(stage_activations(m, p, 1).embedding, 0.0);
}

}  // namespace
}  // namespace mlsys::train
