#include "mlsys/core/progress.h"

#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <thread>
#include <vector>

namespace mlsys {
namespace {

// A clock the test moves by hand.
struct FakeClock {
  std::atomic<int64_t> now_ns{0};
  ProgressBar::Clock fn() {
    return [this] { return Time::from_ns(now_ns.load()); };
  }
  void set(Time t) { now_ns.store(t.ns()); }
};

size_t count_redraws(const std::string& s) {
  size_t n = 0;
  for (const char c : s) n += c == '\r' ? 1 : 0;
  return n;
}

TEST(ProgressBar, DisabledBarWritesNothing) {
  FakeClock clock;
  std::ostringstream out;
  {
    ProgressBar bar("work", 100, out, /*enabled=*/false, clock.fn());
    for (int i = 0; i < 100; ++i) {
      clock.set(sec(i));
      bar.advance();
    }
    EXPECT_EQ(bar.done(), 100);
    bar.finish();
  }
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressBar, QuietBarIsDisabled) {
  ProgressBar bar("work", 10, /*quiet=*/true);
  EXPECT_FALSE(bar.enabled());
}

TEST(ProgressBar, NothingDrawnInTheFirstSecond) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar("work", 100, out, true, clock.fn());
  clock.set(ms(999));
  bar.advance(50);
  EXPECT_EQ(out.str(), "");
  bar.finish();
  EXPECT_EQ(out.str(), "");  // never drawn, so nothing to erase
}

TEST(ProgressBar, DrawsAfterOneSecond) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar("work", 100, out, true, clock.fn());
  clock.set(sec(1));
  bar.advance(50);
  EXPECT_EQ(out.str(), "\rwork [############------------]  50% 50/100 ETA 1s");
}

TEST(ProgressBar, RedrawsAreThrottled) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar("work", 1000, out, true, clock.fn());
  clock.set(sec(1));
  bar.advance();
  for (int i = 0; i < 50; ++i) {
    clock.set(sec(1) + ms(i));  // all within 100 ms of the first draw
    bar.advance();
  }
  EXPECT_EQ(count_redraws(out.str()), 1u);
  clock.set(sec(1) + ms(100));
  bar.advance();
  EXPECT_EQ(count_redraws(out.str()), 2u);
}

TEST(ProgressBar, FinishErasesTheLine) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar("w", 4, out, true, clock.fn());
  clock.set(sec(2));
  bar.advance();
  const std::string drawn = out.str();
  bar.finish();
  const std::string width = drawn.substr(1);  // the drawn line without its '\r'
  EXPECT_EQ(out.str(), drawn + "\r" + std::string(width.size(), ' ') + "\r");
  bar.advance();
  bar.finish();
  EXPECT_EQ(out.str(), drawn + "\r" + std::string(width.size(), ' ') + "\r");  // nothing after finish
}

TEST(ProgressBar, ShorterRedrawOverwritesLongerLine) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar("w", 0, out, true, clock.fn());  // unknown total: a count
  clock.set(sec(1));
  bar.advance(12345);
  const size_t first = out.str().size();
  EXPECT_EQ(out.str(), "\rw 12345 done");
  bar.advance(-12344);
  clock.set(sec(2));
  bar.advance(0);
  EXPECT_EQ(out.str().substr(first), "\rw 1 done    ");
}

TEST(ProgressBar, ConcurrentAdvancesAreCounted) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar("w", 40000, out, true, clock.fn());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        clock.now_ns.fetch_add(100000);  // 4 s of fake time in all
        bar.advance();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bar.done(), 40000);
  EXPECT_GT(count_redraws(out.str()), 0u);
}

TEST(FormatProgressLine, ShowsBarPercentAndEta) {
  EXPECT_EQ(format_progress_line("sim", 25, 100, sec(10)), "sim [######------------------]  25% 25/100 ETA 30s");
  EXPECT_EQ(format_progress_line("sim", 100, 100, sec(10)), "sim [########################] 100% 100/100");
  EXPECT_EQ(format_progress_line("sim", 1, 100, sec(100)), "sim [------------------------]   1% 1/100 ETA 2h45m");
  EXPECT_EQ(format_progress_line("sim", 150, 100, sec(1)), "sim [########################] 100% 100/100");
}

}  // namespace
}  // namespace mlsys
