// Workload loading and metrics collection speed: the shipped Azure conv trace, a 1M-request
// Poisson workload, a 1M-row CSV, and 1M requests x 100 tokens through MetricsCollector.
// items_per_second = requests (or tokens for the metrics case) per second.
//
//   workload_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>

#include "mlsys/serve/metrics.h"
#include "mlsys/serve/workload.h"

namespace {

using mlsys::serve::Workload;

void load(benchmark::State& state, const std::string& spec, mlsys::serve::WorkloadOptions options = {}) {
  int64_t n = 0;
  for (auto _ : state) {
    mlsys::Result<Workload> w = mlsys::serve::load_workload(spec, options);
    if (!w) {
      state.SkipWithError(w.error().to_string().c_str());
      return;
    }
    n = static_cast<int64_t>(w->requests.size());
    benchmark::DoNotOptimize(w->requests.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_LoadAzureConv(benchmark::State& state) { load(state, "azure-conv"); }
void BM_GeneratePoisson1M(benchmark::State& state) {
  load(state, "poisson:rate=100,n=1000000,prompt=lognormal:mean=512,sigma=0.5,output=zipf:max=512,s=1.1");
}

void BM_LoadVidurCsv1M(benchmark::State& state) {
  const std::string path = "/tmp/mlsys_workload_bench_1m.csv";
  {
    std::ofstream out(path);
    out << "arrived_at,num_prefill_tokens,num_decode_tokens\n";
    for (int i = 0; i < 1'000'000; ++i) out << i * 0.01 << ',' << 100 + i % 3000 << ',' << 1 + i % 400 << '\n';
  }
  load(state, path);
}

void BM_Metrics1MRequests100Tokens(benchmark::State& state) {
  constexpr int64_t kRequests = 1'000'000, kTokens = 100;
  for (auto _ : state) {
    mlsys::serve::MetricsCollector m;
    for (int64_t id = 0; id < kRequests; ++id) {
      const mlsys::serve::Request r{.id = id, .arrival = mlsys::ms(id), .prompt_tokens = 100,
                                    .output_tokens = kTokens, .client = id % 8};
      m.on_arrival(r);
      m.on_scheduled(r, r.arrival);
      mlsys::Time t = r.arrival + mlsys::ms(50);
      for (int64_t k = 0; k < kTokens; ++k) {
        m.on_token(r, t);
        t += mlsys::us(static_cast<double>(20'000 + (id * 7 + k * 13) % 5000));
      }
      m.on_finish(r, t);
    }
    benchmark::DoNotOptimize(m.summary({}).tbt.p99);
  }
  state.SetItemsProcessed(state.iterations() * kRequests * kTokens);
}

BENCHMARK(BM_LoadAzureConv)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GeneratePoisson1M)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadVidurCsv1M)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Metrics1MRequests100Tokens)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
