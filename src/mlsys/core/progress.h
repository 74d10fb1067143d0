// Progress bar on stderr for work that takes more than a second. Silent unless stderr is a
// terminal and the run is not --quiet; first drawn after 1 s, redrawn at most 10 times a second,
// erased by finish(). advance() may be called from several threads.
//
//   ProgressBar bar("simulating", num_steps, quiet);
//   for (...) { step(); bar.advance(); }
//   bar.finish();
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <string>

#include "mlsys/core/units.h"

namespace mlsys {

class ProgressBar {
 public:
  /// A monotonic clock; the default reads std::chrono::steady_clock.
  using Clock = std::function<Time()>;

  /// Draws on std::cerr when stderr is a terminal and !quiet. total <= 0 means unknown (a count
  /// is shown instead of a bar).
  ProgressBar(std::string label, int64_t total, bool quiet);
  /// Draws on `out` only when `enabled`, timing with `clock` (for tests).
  ProgressBar(std::string label, int64_t total, std::ostream& out, bool enabled, Clock clock);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Adds n units of completed work; redraws when due.
  void advance(int64_t n = 1);
  /// Erases the bar if it was ever drawn; later advances draw nothing. Idempotent.
  void finish();

  int64_t done() const { return done_.load(std::memory_order_relaxed); }
  bool enabled() const { return enabled_; }

  static constexpr Time kFirstDrawAfter = Time::from_ns(1'000'000'000);
  static constexpr Time kRedrawInterval = Time::from_ns(100'000'000);

 private:
  void draw(Time now, int64_t done);

  std::string label_;
  int64_t total_;
  std::ostream& out_;
  bool enabled_;
  Clock clock_;
  Time start_;
  std::atomic<int64_t> done_{0};
  std::atomic<int64_t> next_draw_ns_;  // earliest time of the next redraw
  std::mutex mutex_;                   // guards drawing and the fields below
  size_t drawn_width_ = 0;             // characters of the last line drawn; 0 = nothing on screen
  bool finished_ = false;
};

/// "[#####-----]  50% 5/10 ETA 3s"-style line for `done` of `total` after `elapsed` (exposed for tests).
std::string format_progress_line(const std::string& label, int64_t done, int64_t total, Time elapsed);

}  // namespace mlsys
