// Serving simulator throughput: the Azure code trace through Sarathi-Serve on one replica, and
// 1,000,000 Poisson requests through Sarathi-Serve on 8 replicas (targets: <= 1 s and <= 20 s on
// one core, <= 2 GiB peak memory). Run: build/bench/serve_bench --benchmark_repetitions=3

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>

#include "mlsys/core/rng.h"
#include "mlsys/hw/catalog.h"
#include "mlsys/model/model.h"
#include "mlsys/serve/memory_planner.h"
#include "mlsys/serve/simulator.h"

namespace mlsys::serve {
namespace {

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

SimConfig llama_sarathi(int64_t replicas) {
  const model::ModelSpec spec = *model::resolve_model("llama2-7b");
  const hw::GpuSpec gpu = *hw::find_gpu("a100-80g");
  auto time = make_roofline_batch_time(spec, gpu, {});
  SimConfig c{.scheduler = SchedulerKind::kSarathi,
              .replicas = replicas,
              .time = std::shared_ptr<const BatchTimeModel>(std::move(*time)),
              .num_blocks = plan_kv_cache(spec, gpu.hbm_capacity, {})->num_blocks};
  return c;
}

void BM_AzureCodeTraceSarathi(benchmark::State& state) {
  auto w = load_workload("azure-code", {});
  if (!w) {
    state.SkipWithError(w.error().to_string().c_str());
    return;
  }
  const SimConfig c = llama_sarathi(1);
  int64_t iterations = 0;
  for (auto _ : state) {
    auto r = simulate(*w, c);
    benchmark::DoNotOptimize(r);
    iterations = r->iterations;
  }
  state.counters["requests"] = static_cast<double>(w->requests.size());
  state.counters["sim_iterations"] = static_cast<double>(iterations);
}
BENCHMARK(BM_AzureCodeTraceSarathi)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_MillionRequestsSarathi8Replicas(benchmark::State& state) {
  // Chat-like lengths (prompt median 512, output median 128) at 8 replicas' sustainable rate.
  Workload w{.name = "1M poisson"};
  RngStream rng(0, "bench/serve/1m");
  double t = 0;
  const int64_t n = state.range(0);
  w.requests.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    t += rng.exponential(8 * 3.0);
    const int64_t prompt = std::clamp<int64_t>(std::llround(rng.lognormal(std::log(512.0), 0.8)), 8, 3000);
    const int64_t output = std::clamp<int64_t>(std::llround(rng.lognormal(std::log(128.0), 0.8)), 1, 1000);
    w.requests.push_back(
        {.id = i, .arrival = from_seconds(t), .prompt_tokens = prompt, .output_tokens = output});
  }
  const SimConfig c = llama_sarathi(8);
  SimResult last;
  for (auto _ : state) {
    auto r = simulate(w, c);
    benchmark::DoNotOptimize(r);
    last = std::move(*r);
  }
  state.counters["requests"] = static_cast<double>(n);
  state.counters["finished"] = static_cast<double>(last.finished);
  state.counters["sim_iterations"] = static_cast<double>(last.iterations);
  state.counters["events"] = static_cast<double>(last.events);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
  state.counters["tbt_p99_ms"] = last.metrics.summary({}).tbt.p99 * 1e3;
}
BENCHMARK(BM_MillionRequestsSarathi8Replicas)->Arg(1'000'000)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
}  // namespace mlsys::serve

BENCHMARK_MAIN();
