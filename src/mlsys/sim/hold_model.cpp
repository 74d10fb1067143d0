#include "mlsys/sim/hold_model.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "mlsys/core/rng.h"

namespace mlsys::sim {
namespace {

int64_t hold_delay(RngStream& rng);

// Shared state of the benchmark: one RNG stream and the remaining budget.
struct HoldState {
  RngStream rng;
  int64_t remaining;
  uint64_t checksum = 0;
};

class Holder final : public Component {
 public:
  explicit Holder(HoldState& state) : Component("holder"), state_(state) {}
  void on_wake(Engine& engine) override {
    state_.checksum += static_cast<uint64_t>(engine.now().ns());
    if (--state_.remaining <= 0) {
      engine.stop();
      return;
    }
    engine.wake_at(*this, engine.now() + nsec(hold_delay(state_.rng)));
  }

 private:
  HoldState& state_;
};

Status check_options(const HoldModelOptions& options) {
  if (options.pending < 1 || options.pending > 100'000'000) {
    return invalid_input("pending must be in 1..100000000", "e.g. 10000");
  }
  if (options.events < 0) return invalid_input("events must be >= 0");
  return {};
}

int64_t hold_delay(RngStream& rng) { return 1 + static_cast<int64_t>(rng.next_u64() % 1'000'000); }

}  // namespace

Result<HoldModelResult> run_queue_hold_model(const HoldModelOptions& options) {
  MLSYS_RETURN_IF_ERROR(check_options(options));
  RngStream rng(options.seed, "sim/hold_model");
  EventQueue queue;
  queue.reserve(static_cast<size_t>(options.pending) + 1);
  for (int64_t i = 0; i < options.pending; ++i) queue.push(hold_delay(rng), static_cast<uint32_t>(i), 0);
  HoldModelResult result;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < options.events; ++i) {
    const EventRecord e = queue.pop();
    result.checksum += static_cast<uint64_t>(e.time_ns);
    queue.push(e.time_ns + hold_delay(rng), e.target, e.generation);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.summary.events_processed = static_cast<uint64_t>(options.events);
  result.summary.wall_seconds = wall;
  result.summary.events_per_second = wall > 0 ? static_cast<double>(options.events) / wall : 0.0;
  return result;
}

Result<HoldModelResult> run_hold_model(const HoldModelOptions& options) {
  MLSYS_RETURN_IF_ERROR(check_options(options));
  HoldState state{RngStream(options.seed, "sim/hold_model"), options.events};
  Engine engine;
  engine.reserve(static_cast<size_t>(options.pending) + 1);
  std::vector<std::unique_ptr<Holder>> holders;
  holders.reserve(static_cast<size_t>(options.pending));
  for (int64_t i = 0; i < options.pending; ++i) {
    holders.push_back(std::make_unique<Holder>(state));
    engine.add(*holders.back());
    engine.wake_at(*holders.back(), nsec(hold_delay(state.rng)));
  }
  if (options.events == 0) return HoldModelResult{};
  MLSYS_ASSIGN_OR_RETURN(RunSummary summary, engine.run());
  return HoldModelResult{summary, state.checksum};
}

}  // namespace mlsys::sim
