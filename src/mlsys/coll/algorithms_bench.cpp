// Schedule generation speed: every rank's schedule of an allreduce, as an executor asks for them
// (one rank at a time, each schedule dropped after use). items_per_second = ranks per second.
//
//   algorithms_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "mlsys/coll/algorithms.h"

namespace {

void generate_all(benchmark::State& state, const std::string& name, std::vector<int> torus, int ports) {
  int ranks = 1;
  for (int d : torus) ranks *= d;
  auto algo = mlsys::coll::make_algorithm(name, {.ranks = ranks, .torus = std::move(torus), .ports = ports});
  if (!algo) {
    state.SkipWithError(algo.error().to_string().c_str());
    return;
  }
  for (auto _ : state) {
    int64_t blocks = 0;
    for (int r = 0; r < ranks; ++r) {
      const mlsys::coll::RankSchedule s = (*algo)->schedule_for(r);
      for (const auto& step : s.steps) {
        for (const auto& t : step.sends) blocks += static_cast<int64_t>(t.blocks.size());
      }
    }
    benchmark::DoNotOptimize(blocks);
  }
  state.SetItemsProcessed(state.iterations() * ranks);
}

void BM_SwingBw64x64(benchmark::State& state) { generate_all(state, "swing-bw", {64, 64}, 1); }
void BM_SwingBw64x64FourPorts(benchmark::State& state) { generate_all(state, "swing-bw", {64, 64}, 4); }
void BM_Rabenseifner64x64(benchmark::State& state) { generate_all(state, "rabenseifner", {64, 64}, 1); }
void BM_Bucket64x64(benchmark::State& state) { generate_all(state, "bucket", {64, 64}, 1); }
void BM_Ring4096(benchmark::State& state) { generate_all(state, "ring", {4096}, 1); }

BENCHMARK(BM_SwingBw64x64)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SwingBw64x64FourPorts)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Rabenseifner64x64)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Bucket64x64)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ring4096)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
