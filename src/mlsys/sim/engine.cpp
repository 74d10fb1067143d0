#include "mlsys/sim/engine.h"

#include <chrono>
#include <cstdio>

#include "mlsys/core/check.h"

namespace mlsys::sim {

namespace {
// The deadlock report names at most this many components, then "and K more".
constexpr std::size_t kMaxNamedInDeadlock = 10;
}  // namespace

Component::~Component() {
  if (engine_ != nullptr) engine_->remove(*this);
}

std::string RunSummary::to_string() const {
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.3g s wall, %.3g M events/s", wall_seconds,
                events_per_second * 1e-6);
  std::string s = std::to_string(events_processed) + " events (" + std::to_string(stale_skipped) +
                  " stale skipped) to t=" + format_time(end_time) + " in " + rate;
  if (hit_end) s += ", stopped at the end time";
  if (stopped) s += ", stopped by a component";
  return s;
}

Engine::~Engine() {
  for (Component* c : components_) {
    if (c == nullptr) continue;
    c->engine_ = nullptr;
    c->id_ = Component::kUnregistered;
    c->pending_ = Component::Pending::kNone;
  }
}

uint32_t Engine::add(Component& c) {
  MLSYS_CHECK(c.engine_ == nullptr, "component '" + c.name() + "' is already registered");
  MLSYS_CHECK(components_.size() < Component::kUnregistered, "too many components");
  c.engine_ = this;
  c.id_ = static_cast<uint32_t>(components_.size());
  c.pending_ = Component::Pending::kNone;
  components_.push_back(&c);
  ++live_components_;
  return c.id_;
}

void Engine::remove(Component& c) {
  MLSYS_CHECK(c.engine_ == this, "remove() of a component not registered with this engine");
  components_[c.id_] = nullptr;  // its queued records now resolve to no target: stale
  --live_components_;
  c.engine_ = nullptr;
  c.id_ = Component::kUnregistered;
  c.pending_ = Component::Pending::kNone;
}

bool Engine::cancel(Component& c) {
  MLSYS_CHECK(c.engine_ == this, "cancel() on a component not registered with this engine");
  const bool was_pending = c.pending_ != Component::Pending::kNone;
  ++c.generation_;
  c.pending_ = Component::Pending::kNone;
  return was_pending;
}

std::optional<Time> Engine::scheduled_time(const Component& c) const {
  if (c.engine_ != this || c.pending_ == Component::Pending::kNone) return std::nullopt;
  return c.wake_time_;
}

void Engine::drain_posted(RunSummary& summary) {
  // Index-based: on_wake may post more, which appends (and may reallocate) the FIFO.
  while (posted_head_ < posted_.size() && !stop_requested_) {
    const Posted p = posted_[posted_head_++];
    Component* c = live_target(p.target, p.generation);
    if (c == nullptr) {
      ++summary.stale_skipped;
      continue;
    }
    c->pending_ = Component::Pending::kNone;
    ++summary.events_processed;
    c->on_wake(*this);
  }
  if (posted_head_ == posted_.size()) {
    posted_.clear();
    posted_head_ = 0;
  }
}

Result<RunSummary> Engine::run(RunOptions options) {
  MLSYS_CHECK(!running_, "Engine::run() called from inside a run");
  if (options.end < now_) {
    return invalid_input("run end time " + format_time(options.end) +
                             " is before the current simulated time " + format_time(now_),
                         "pass an end time at or after Engine::now()");
  }
  // Resets the flag however the run ends, including a failed MLSYS_CHECK inside on_wake().
  struct RunningFlag {
    bool& flag;
    explicit RunningFlag(bool& f) : flag(f) { flag = true; }
    ~RunningFlag() { flag = false; }
  } running(running_);
  stop_requested_ = false;

  RunSummary summary;
  const auto wall_start = std::chrono::steady_clock::now();
  const int64_t end_ns = options.end.ns();
  for (;;) {
    drain_posted(summary);
    if (stop_requested_) {
      summary.stopped = true;
      break;
    }
    if (queue_.empty()) break;
    if (queue_.top().time_ns > end_ns) {
      const EventRecord& top = queue_.top();
      if (live_target(top.target, top.generation) != nullptr) {
        summary.hit_end = true;
        now_ = options.end;
        break;
      }
      queue_.pop();  // stale records past the end do not count as a cutoff
      ++summary.stale_skipped;
      continue;
    }
    const EventRecord next = queue_.pop();
    if (!queue_.empty()) {
      // With many components the next target is a cache miss: start fetching it now, so that it
      // arrives while this event runs and the next pop sifts. Prefetching a stale one is harmless.
      __builtin_prefetch(components_[queue_.top().target]);
    }
    Component* c = live_target(next.target, next.generation);
    if (c == nullptr) {
      ++summary.stale_skipped;
      continue;
    }
    now_ = Time::from_ns(next.time_ns);
    c->pending_ = Component::Pending::kNone;
    ++summary.events_processed;
    c->on_wake(*this);
  }
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - wall_start;

  summary.end_time = now_;
  summary.wall_seconds = wall.count();
  if (summary.wall_seconds > 0.0) {
    summary.events_per_second = static_cast<double>(summary.events_processed) / summary.wall_seconds;
  }
  if (!summary.hit_end && !summary.stopped) {
    // The queue drained: anyone still waiting will never be woken.
    for (const Component* c : components_) {
      if (c != nullptr && !c->pending_work().empty()) return deadlock_error();
    }
  }
  return summary;
}

Error Engine::deadlock_error() const {
  std::size_t waiting = 0;
  std::string listed;
  for (const Component* c : components_) {
    if (c == nullptr) continue;
    const std::string what = c->pending_work();
    if (what.empty()) continue;
    if (waiting < kMaxNamedInDeadlock) {
      if (waiting > 0) listed += ", ";
      listed += c->name() + ": " + what;
    }
    ++waiting;
  }
  if (waiting > kMaxNamedInDeadlock) {
    listed += ", and " + std::to_string(waiting - kMaxNamedInDeadlock) + " more";
  }
  return Error(ErrorCode::kCheckFailed,
               "deadlock at t=" + format_time(now_) + ": " + std::to_string(waiting) +
                   (waiting == 1 ? " component" : " components") + " still waiting: " + listed,
               "no event is left that could wake them; the first one listed is where to look");
}

}  // namespace mlsys::sim
