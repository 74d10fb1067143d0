// mlsys reproduce megascale: Jiang et al. NSDI'24 (arXiv 2402.15627), GPT-3 175B strong scaling
// on A100s with and without MegaScale's optimisations.
#include <string>

#include "mlsys/hw/catalog.h"
#include "mlsys/reproduce/internal/scenarios.h"
#include "mlsys/train/simulate.h"

namespace mlsys::reproduce {
namespace {

// The configuration MegaScale does not state is ours: micro-batch 1, interleaved 1F1B with two
// chunks, selective recompute, distributed optimizer.
train::Plan plan_175b(int64_t gpus, int64_t batch, bool megascale) {
  train::Plan p;
  p.tp = 8;
  p.pp = 8;
  p.dp = gpus / 64;
  p.global_batch = batch;
  p.micro_batch = 1;
  p.schedule = train::Schedule::kInterleaved;
  p.virtual_stages = 2;
  p.recompute = train::Recompute::kSelective;
  p.zero_stage = 1;
  if (megascale) {
    train::apply_megascale(p);
  } else {
    train::apply_megatron_baseline(p);
  }
  return p;
}

}  // namespace

Result<ScenarioReport> run_megascale_scenario(const ScenarioOptions& options) {
  ScenarioReport report;
  report.scenario = "megascale";
  report.title = "MegaScale: GPT-3 175B on up to 12,288 A100s, MegaScale vs Megatron-LM";
  MLSYS_ASSIGN_OR_RETURN(const model::ModelSpec m, model::find_model("gpt3-175b"));
  MLSYS_ASSIGN_OR_RETURN(const hw::GpuSpec a100, hw::find_gpu("a100"));
  const train::SimOptions sim{.convention = model::FlopConvention::kMegatron};

  MLSYS_ASSIGN_OR_RETURN(const train::Cluster big, train::make_cluster(a100, 12288));
  MLSYS_ASSIGN_OR_RETURN(const train::Prediction ms, train::simulate_iteration(m, big, plan_175b(12288, 6144, true), sim));
  MLSYS_ASSIGN_OR_RETURN(const train::Prediction mg,
                         train::simulate_iteration(m, big, plan_175b(12288, 6144, false), sim));
  const std::string src = "MegaScale 12,288-GPU row (third-party transcription, JaneLiCC/Notes)";
  report.checks.push_back(within("MegaScale 12,288 GPUs iteration", "s", 6.34, ms.iteration_time.seconds(), 0.10, src));
  report.checks.push_back(within("MegaScale 12,288 GPUs tokens/s", "tokens/s", 1984e3, ms.tokens_per_s, 0.10, src));
  report.checks.push_back(within("Megatron-LM / MegaScale iteration time, 12,288 GPUs", "x", 1.34,
                                 mg.iteration_time / ms.iteration_time, 0.10,
                                 "MegaScale abstract: 55.2% MFU, 1.34x Megatron-LM (verified)"));

  // Strong scaling shape: MegaScale MFU falls as GPUs grow at a fixed batch (paper: ~59% at 3072
  // to 55.2% at 12,288 for batch 6144).
  double prev_mfu = 2.0;
  bool monotone = true;
  // Paper iteration times for these rows (reference CSV, recalled [R] except 12,288 [V]): shown
  // beside ours, not checked. The gap is about the same at 3,072 GPUs (bubble ~3%, DP hidden) as
  // at 12,288, so what is missing is per-GPU compute time, not an effect of scale.
  struct Row {
    int64_t gpus;
    double paper_s;
  };
  for (const Row row : {Row{3072, 23.66}, Row{6144, 12.21}, Row{12288, 6.34}}) {
    const int64_t gpus = row.gpus;
    if (options.quick && gpus == 6144) continue;
    MLSYS_ASSIGN_OR_RETURN(const train::Cluster c, train::make_cluster(a100, gpus));
    MLSYS_ASSIGN_OR_RETURN(const train::Prediction p, train::simulate_iteration(m, c, plan_175b(gpus, 6144, true), sim));
    monotone = monotone && p.mfu <= prev_mfu + 1e-9;
    prev_mfu = p.mfu;
    report.notes.push_back("MegaScale " + std::to_string(gpus) + " GPUs: " + std::to_string(p.iteration_time.seconds()) +
                           " s (paper " + std::to_string(row.paper_s) + " s), MFU " + std::to_string(100 * p.mfu) + "%");
  }
  report.checks.push_back(at_least("MFU falls with GPUs at batch 6144 (1 = yes)", "bool", 1.0, monotone ? 1.0 : 0.0,
                                   "MegaScale Table 2 shape"));
  report.notes.push_back("Sliding-window attention is off: MegaScale does not state its window. The unstated plan "
                         "details (micro-batch 1, interleaved:2, selective recompute) are ours.");
  return report;
}

}  // namespace mlsys::reproduce
