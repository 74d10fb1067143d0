#include "mlsys/sim/hold_model.h"

#include <memory>
#include <string>
#include <vector>

#include "mlsys/core/rng.h"

namespace mlsys::sim {
namespace {

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
    engine.wake_at(*this, engine.now() + nsec(1 + static_cast<int64_t>(state_.rng.next_u64() % 1'000'000)));
  }

 private:
  HoldState& state_;
};

}  // namespace

Result<HoldModelResult> run_hold_model(const HoldModelOptions& options) {
  if (options.pending < 1 || options.pending > 100'000'000) {
    return invalid_input("pending must be in 1..100000000", "e.g. 10000");
  }
  if (options.events < 0) return invalid_input("events must be >= 0");
  HoldState state{RngStream(options.seed, "sim/hold_model"), options.events};
  Engine engine;
  engine.reserve(static_cast<size_t>(options.pending) + 1);
  std::vector<std::unique_ptr<Holder>> holders;
  holders.reserve(static_cast<size_t>(options.pending));
  for (int64_t i = 0; i < options.pending; ++i) {
    holders.push_back(std::make_unique<Holder>(state));
    engine.add(*holders.back());
    engine.wake_at(*holders.back(), nsec(1 + static_cast<int64_t>(state.rng.next_u64() % 1'000'000)));
  }
  if (options.events == 0) return HoldModelResult{};
  MLSYS_ASSIGN_OR_RETURN(RunSummary summary, engine.run());
  return HoldModelResult{summary, state.checksum};
}

}  // namespace mlsys::sim
