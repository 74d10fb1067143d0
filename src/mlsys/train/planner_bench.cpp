// Planner search time: Aceso on the artifact's GPT-1.3B profiles and on GPT-3 175B over 1,024
// A100s (layer granularity, roofline costs); AdaPipe's two-level DP on GPT-3 175B.
#include <benchmark/benchmark.h>

#include <string>

#include "mlsys/hw/catalog.h"
#include "mlsys/train/aceso.h"
#include "mlsys/train/adapipe.h"
#include "mlsys/train/simulate.h"

namespace mlsys::train {
namespace {

const std::string kAcesoDir = std::string(MLSYS_REPO_DATA) + "/train/aceso_gpt1.3b_v100_4gpu";

void BM_AcesoGpt13B4Gpus(benchmark::State& state) {
  auto db = model::ProfileDb::load_aceso_dir(kAcesoDir);
  auto pr = aceso_problem_from_profiles(*db, 24, 512);
  for (auto _ : state) {
    auto r = aceso_search(*pr, {.gpus = 4, .memory_limit = MiB(12000), .max_tp = 4});
    benchmark::DoNotOptimize(r);
    state.counters["iteration_s"] = r->estimate.iteration.seconds();
  }
}
BENCHMARK(BM_AcesoGpt13B4Gpus)->Unit(benchmark::kMillisecond);

void BM_AcesoGpt3175B1024Gpus(benchmark::State& state) {
  auto gpt3 = *model::find_model("gpt3-175b");
  auto cluster = *make_cluster(*hw::find_gpu("a100-80gb"), 1024);
  auto compute = *default_compute_model(cluster, hw::Precision::kBf16);
  auto pr = aceso_problem_from_model(gpt3, *compute, cluster, 2048, 1536, {1, 2, 4}, {1, 2, 4, 8});
  AcesoOptions opt{.gpus = 1024, .memory_limit = cluster.gpu.hbm_capacity, .max_tp = 8};
  auto base = aceso_megatron_baseline(*pr, opt);
  if (base) opt.seeds.push_back(base->config);
  for (auto _ : state) {
    auto r = aceso_search(*pr, opt);
    benchmark::DoNotOptimize(r);
    if (r && base) {
      state.counters["iteration_s"] = r->estimate.iteration.seconds();
      state.counters["uniform_s"] = base->estimate.iteration.seconds();
    }
  }
}
BENCHMARK(BM_AcesoGpt3175B1024Gpus)->Unit(benchmark::kMillisecond);

void BM_AdaPipeGpt3175B(benchmark::State& state) {
  auto gpt3 = *model::find_model("gpt3-175b");
  auto cluster = *make_cluster(*hw::find_gpu("a100-80gb"), 64);
  Plan plan{.tp = 8, .pp = 8, .dp = 1, .micro_batch = 1, .global_batch = 64, .seq = 2048};
  auto compute = *default_compute_model(cluster, plan.precision);
  CommModel comm(cluster);
  auto in = adapipe_input(gpt3, cluster, plan, *compute, comm);
  for (auto _ : state) {
    auto s = adapipe_solve(*in);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_AdaPipeGpt3175B)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mlsys::train

BENCHMARK_MAIN();
