// The engine's self-benchmark: the classic hold model run through the full Engine.
//
// `pending` components each hold one wake-up; every wake-up reschedules its component at
// now + U[1, 10^6] ns, so the queue stays at `pending` entries while `events` are processed.
//
//   HoldModelResult r = run_hold_model({.pending = 10000, .events = 5'000'000, .seed = 0});
//   r.summary.events_per_second;  // the figure mlsys sim bench prints
#pragma once

#include <cstdint>

#include "mlsys/core/result.h"
#include "mlsys/sim/engine.h"

namespace mlsys::sim {

struct HoldModelOptions {
  int64_t pending = 10000;     // wake-ups held in the queue (one per component)
  int64_t events = 5'000'000;  // wake-ups to process
  uint64_t seed = 0;
};

struct HoldModelResult {
  RunSummary summary;
  uint64_t checksum = 0;  // sum of wake times: identical across runs with the same seed
};

/// Runs the hold model through the full Engine (components, lazy cancellation, dispatch).
/// Errors: pending outside 1..10^8 or events < 0.
Result<HoldModelResult> run_hold_model(const HoldModelOptions& options);

/// The same hold model on the bare EventQueue (pop the earliest, push one at now + U[1, 10^6] ns):
/// the figure the foundation targets name. Same errors.
Result<HoldModelResult> run_queue_hold_model(const HoldModelOptions& options);

}  // namespace mlsys::sim
