// Event-queue and engine throughput: the classic hold model.
//
// N events are queued at random times; each step pops the earliest and queues one at
// now + U[1, 10^6] ns, so the queue size stays N. The same step runs on mlsys's 4-ary heap,
// std::priority_queue (binary heap) and std::multimap (red-black tree), with the same records,
// the same insertion-order tie-break and the same RNG stream, and through the full Engine
// (N components, each rescheduling itself with wake_at). items_per_second = events per second.
// After the table, the program prints each queue's rate against std::priority_queue.
//
//   engine_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "mlsys/core/units.h"
#include "mlsys/sim/engine.h"
#include "mlsys/sim/event_queue.h"

namespace {

using mlsys::sim::EventRecord;

// xorshift64*: a few cycles per draw, so the RNG is not what is measured.
class FastRng {
 public:
  explicit FastRng(uint64_t seed) : state_(seed | 1) {}
  uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545f4914f6cdd1dULL;
  }
  /// Uniform in [1, 10^6] nanoseconds (modulo bias below 10^-13: irrelevant here).
  int64_t delay_ns() { return 1 + static_cast<int64_t>(next() % 1000000); }

 private:
  uint64_t state_;
};

constexpr uint64_t kSeed = 0x9e3779b97f4a7c15ULL;

// ---- the three queues behind one small interface --------------------------------------------

class MlsysHeap {
 public:
  explicit MlsysHeap(std::size_t n) { q_.reserve(n); }
  void push(int64_t t, uint32_t target) { q_.push(t, target, 0); }
  EventRecord pop() { return q_.pop(); }

 private:
  mlsys::sim::EventQueue q_;
};

struct Later {
  bool operator()(const EventRecord& a, const EventRecord& b) const {
    return a.time_ns != b.time_ns ? a.time_ns > b.time_ns : a.seq > b.seq;
  }
};

class StdPriorityQueue {
 public:
  explicit StdPriorityQueue(std::size_t n) {
    std::vector<EventRecord> storage;
    storage.reserve(n);
    q_ = std::priority_queue<EventRecord, std::vector<EventRecord>, Later>(Later{}, std::move(storage));
  }
  void push(int64_t t, uint32_t target) { q_.push(EventRecord{t, seq_++, target, 0}); }
  EventRecord pop() {
    const EventRecord e = q_.top();
    q_.pop();
    return e;
  }

 private:
  std::priority_queue<EventRecord, std::vector<EventRecord>, Later> q_;
  uint64_t seq_ = 0;
};

// Equal keys keep insertion order in a multimap, so it needs no seq in the key.
class StdMultimap {
 public:
  explicit StdMultimap(std::size_t /*n*/) {}
  void push(int64_t t, uint32_t target) { q_.emplace(t, EventRecord{t, seq_++, target, 0}); }
  EventRecord pop() {
    const auto first = q_.begin();
    const EventRecord e = first->second;
    q_.erase(first);
    return e;
  }

 private:
  std::multimap<int64_t, EventRecord> q_;
  uint64_t seq_ = 0;
};

template <class Queue>
void BM_Hold(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Queue q(n);
  FastRng rng(kSeed);
  for (std::size_t i = 0; i < n; ++i) q.push(rng.delay_ns(), static_cast<uint32_t>(i));
  for (auto _ : state) {
    const EventRecord e = q.pop();
    q.push(e.time_ns + rng.delay_ns(), e.target);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// ---- the full engine ----------------------------------------------------------------------

class HoldComponent : public mlsys::sim::Component {
 public:
  explicit HoldComponent(FastRng* rng) : Component("hold"), rng_(rng) {}
  void on_wake(mlsys::sim::Engine& engine) override {
    engine.wake_at(*this, engine.now() + mlsys::nsec(rng_->delay_ns()));
  }

 private:
  FastRng* rng_;
};

void BM_EngineHold(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  FastRng rng(kSeed);
  std::vector<std::unique_ptr<HoldComponent>> components;
  mlsys::sim::Engine engine;
  engine.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    components.push_back(std::make_unique<HoldComponent>(&rng));
    engine.add(*components.back());
    engine.wake_at(*components.back(), mlsys::nsec(rng.delay_ns()));
  }
  // Each component wakes every 0.5 ms on average: a slice this long holds about 2^16 events.
  const mlsys::Time slice = mlsys::nsec(static_cast<int64_t>((uint64_t{1} << 16) * 500000 / n));
  uint64_t events = 0;
  for (auto _ : state) {
    auto summary = engine.run({engine.now() + slice});
    if (!summary) {
      state.SkipWithError(summary.error().message().c_str());
      break;
    }
    events += summary->events_processed;
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1000)->Arg(10000)->Arg(1000000)->Unit(benchmark::kNanosecond);
}

BENCHMARK_TEMPLATE(BM_Hold, MlsysHeap)->Apply(Sizes);
BENCHMARK_TEMPLATE(BM_Hold, StdPriorityQueue)->Apply(Sizes);
BENCHMARK_TEMPLATE(BM_Hold, StdMultimap)->Apply(Sizes);
BENCHMARK(BM_EngineHold)->Apply(Sizes);

// Keeps each benchmark's items_per_second (the median when repeated) to print ratios at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      const bool wanted = r.run_type == Run::RT_Iteration ? !seen_aggregate_
                                                          : r.aggregate_name == "median";
      if (r.run_type == Run::RT_Aggregate) seen_aggregate_ = true;
      const auto rate = r.counters.find("items_per_second");
      if (!wanted || rate == r.counters.end()) continue;
      rates_.push_back({r.run_name.function_name, r.run_name.args, rate->second.value});
    }
  }
  double rate(const std::string& function, const std::string& args) const {
    double found = 0.0;
    for (const auto& e : rates_) {
      if (e.function == function && e.args == args) found = e.rate;  // last (median) wins
    }
    return found;
  }

 private:
  struct Entry {
    std::string function;
    std::string args;
    double rate;
  };
  std::vector<Entry> rates_;
  bool seen_aggregate_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nevents/s (M), ratio to std::priority_queue in brackets\n");
  std::printf("%10s %16s %16s %16s %16s\n", "pending", "mlsys 4-ary", "priority_queue",
              "multimap", "Engine");
  for (const char* n : {"1000", "10000", "1000000"}) {
    const double pq = reporter.rate("BM_Hold<StdPriorityQueue>", n);
    if (pq <= 0.0) continue;
    std::printf("%10s", n);
    for (const char* f : {"BM_Hold<MlsysHeap>", "BM_Hold<StdPriorityQueue>", "BM_Hold<StdMultimap>",
                          "BM_EngineHold"}) {
      const double r = reporter.rate(f, n);
      char cell[32];
      std::snprintf(cell, sizeof cell, "%.2f (%.2fx)", r * 1e-6, r / pq);
      std::printf(" %16s", cell);
    }
    std::printf("\n");
  }
  benchmark::Shutdown();
  return 0;
}
