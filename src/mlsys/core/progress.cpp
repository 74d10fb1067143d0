#include "mlsys/core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

namespace mlsys {
namespace {

constexpr int kBarWidth = 24;

Time steady_now() {
  const auto since = std::chrono::steady_clock::now().time_since_epoch();
  return Time::from_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(since).count());
}

std::string format_eta(Time t) {
  const int64_t s = std::max<int64_t>(0, t.ns() / 1'000'000'000);
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return std::to_string(s / 3600) + "h" + std::to_string(s / 60 % 60) + "m";
}

}  // namespace

std::string format_progress_line(const std::string& label, int64_t done, int64_t total, Time elapsed) {
  std::string line = label;
  if (total <= 0) return line + " " + std::to_string(done) + " done";
  const int64_t shown = std::clamp<int64_t>(done, 0, total);
  const double fraction = static_cast<double>(shown) / static_cast<double>(total);
  const int filled = static_cast<int>(fraction * kBarWidth);
  line += " [" + std::string(filled, '#') + std::string(kBarWidth - filled, '-') + "] ";
  const int percent = static_cast<int>(fraction * 100.0);
  line += (percent < 10 ? "  " : percent < 100 ? " " : "") + std::to_string(percent) + "% ";
  line += std::to_string(shown) + "/" + std::to_string(total);
  if (shown > 0 && shown < total) {
    line += " ETA " + format_eta(elapsed * (static_cast<double>(total - shown) / static_cast<double>(shown)));
  }
  return line;
}

ProgressBar::ProgressBar(std::string label, int64_t total, bool quiet)
    : ProgressBar(std::move(label), total, std::cerr, !quiet && isatty(fileno(stderr)) != 0, steady_now) {}

ProgressBar::ProgressBar(std::string label, int64_t total, std::ostream& out, bool enabled, Clock clock)
    : label_(std::move(label)),
      total_(total),
      out_(out),
      enabled_(enabled),
      clock_(std::move(clock)),
      start_(enabled_ ? clock_() : Time::zero()),
      next_draw_ns_((start_ + kFirstDrawAfter).ns()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(int64_t n) {
  const int64_t done = done_.fetch_add(n, std::memory_order_relaxed) + n;
  if (!enabled_) return;
  const Time now = clock_();
  if (now.ns() < next_draw_ns_.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_ || now.ns() < next_draw_ns_.load(std::memory_order_relaxed)) return;
  next_draw_ns_.store((now + kRedrawInterval).ns(), std::memory_order_relaxed);
  draw(now, done);
}

void ProgressBar::draw(Time now, int64_t done) {
  const std::string line = format_progress_line(label_, done, total_, now - start_);
  std::string text = "\r" + line;
  if (line.size() < drawn_width_) text += std::string(drawn_width_ - line.size(), ' ');
  out_ << text << std::flush;
  drawn_width_ = std::max(drawn_width_, line.size());
}

void ProgressBar::finish() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (drawn_width_ > 0) out_ << "\r" << std::string(drawn_width_, ' ') << "\r" << std::flush;
}

}  // namespace mlsys
