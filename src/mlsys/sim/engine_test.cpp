#include "mlsys/sim/engine.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mlsys/core/check.h"

namespace mlsys::sim {
namespace {

struct LogEntry {
  int64_t time_ns;
  std::string name;
  bool operator==(const LogEntry&) const = default;
};
using Log = std::vector<LogEntry>;

// Logs each wake-up, then runs an optional test-supplied action.
class Recorder : public Component {
 public:
  Recorder(std::string name, Log* log) : Component(std::move(name)), log_(log) {}
  void on_wake(Engine& engine) override {
    log_->push_back({engine.now().ns(), name()});
    if (action) action(engine);
  }
  std::string pending_work() const override { return waiting_for; }

  std::function<void(Engine&)> action;
  std::string waiting_for;

 private:
  Log* log_;
};

std::vector<std::string> names(const Log& log) {
  std::vector<std::string> out;
  for (const LogEntry& e : log) out.push_back(e.name);
  return out;
}

TEST(Engine, AddAssignsIdsInRegistrationOrder) {
  Log log;
  Recorder a("a", &log), b("b", &log);
  Engine engine;
  EXPECT_EQ(a.id(), Component::kUnregistered);
  EXPECT_EQ(engine.add(a), 0u);
  EXPECT_EQ(engine.add(b), 1u);
  EXPECT_EQ(b.id(), 1u);
  EXPECT_EQ(engine.component_count(), 2u);
}

TEST(Engine, AddingARegisteredComponentIsCheckFailure) {
  Log log;
  Recorder a("a", &log);
  Engine engine, other;
  engine.add(a);
  EXPECT_THROW(engine.add(a), InternalError);
  EXPECT_THROW(other.add(a), InternalError);
}

TEST(Engine, WakesComponentsInTimeOrder) {
  Log log;
  Recorder a("a", &log), b("b", &log), c("c", &log);
  Engine engine;
  for (Recorder* r : {&a, &b, &c}) engine.add(*r);
  engine.wake_at(a, us(3));
  engine.wake_at(b, us(1));
  engine.wake_at(c, us(2));
  ASSERT_TRUE(engine.run());
  EXPECT_EQ(log, (Log{{1000, "b"}, {2000, "c"}, {3000, "a"}}));
  EXPECT_EQ(engine.now(), us(3));
}

TEST(Engine, EqualTimesWakeInSchedulingOrder) {
  Log log;
  std::vector<std::unique_ptr<Recorder>> rs;
  Engine engine;
  for (int i = 0; i < 8; ++i) {
    rs.push_back(std::make_unique<Recorder>("r" + std::to_string(i), &log));
    engine.add(*rs.back());
  }
  for (int i : {5, 2, 7, 0, 3, 6, 1, 4}) engine.wake_at(*rs[i], nsec(100));
  ASSERT_TRUE(engine.run());
  EXPECT_EQ(names(log), (std::vector<std::string>{"r5", "r2", "r7", "r0", "r3", "r6", "r1", "r4"}));
}

TEST(Engine, WakeAtReplacesAnEarlierPendingWake) {
  Log log;
  Recorder a("a", &log), b("b", &log);
  Engine engine;
  engine.add(a);
  engine.add(b);
  engine.wake_at(a, nsec(10));
  engine.wake_at(a, nsec(30));  // later replaces earlier
  engine.wake_at(b, nsec(50));
  engine.wake_at(b, nsec(20));  // earlier replaces later
  auto summary = engine.run();
  ASSERT_TRUE(summary);
  EXPECT_EQ(log, (Log{{20, "b"}, {30, "a"}}));
  EXPECT_EQ(summary->stale_skipped, 2u);
}

TEST(Engine, WakeAtInThePastIsCheckFailure) {
  Log log;
  Recorder a("a", &log);
  Engine engine;
  engine.add(a);
  a.action = [&a](Engine& e) { e.wake_at(a, e.now() - nsec(1)); };
  engine.wake_at(a, nsec(10));
  EXPECT_THROW((void)engine.run(), InternalError);
}

TEST(Engine, SchedulingAnUnregisteredComponentIsCheckFailure) {
  Log log;
  Recorder a("a", &log);
  Engine engine;
  EXPECT_THROW(engine.wake_at(a, nsec(1)), InternalError);
  EXPECT_THROW(engine.post(a), InternalError);
  EXPECT_THROW(engine.cancel(a), InternalError);
}

TEST(Engine, CancelDropsThePendingWake) {
  Log log;
  Recorder a("a", &log), b("b", &log);
  Engine engine;
  engine.add(a);
  engine.add(b);
  engine.wake_at(a, nsec(10));
  engine.wake_at(b, nsec(20));
  EXPECT_TRUE(engine.cancel(a));
  EXPECT_FALSE(engine.cancel(a));  // nothing left to cancel
  ASSERT_TRUE(engine.run());
  EXPECT_EQ(log, (Log{{20, "b"}}));
}

TEST(Engine, CancelFromAnotherComponentDuringTheRun) {
  Log log;
  Recorder a("a", &log), b("b", &log);
  Engine engine;
  engine.add(a);
  engine.add(b);
  a.action = [&b](Engine& e) { e.cancel(b); };
  engine.wake_at(a, nsec(10));
  engine.wake_at(b, nsec(20));
  ASSERT_TRUE(engine.run());
  EXPECT_EQ(names(log), (std::vector<std::string>{"a"}));
}

TEST(Engine, ScheduledTimeReportsThePendingWake) {
  Log log;
  Recorder a("a", &log);
  Engine engine;
  engine.add(a);
  EXPECT_EQ(engine.scheduled_time(a), std::nullopt);
  engine.wake_at(a, us(4));
  EXPECT_EQ(engine.scheduled_time(a), us(4));
  engine.cancel(a);
  EXPECT_EQ(engine.scheduled_time(a), std::nullopt);
  engine.post(a);
  EXPECT_EQ(engine.scheduled_time(a), Time::zero());
}

TEST(Engine, PostedWakesRunBeforeTimeAdvances) {
  Log log;
  Recorder a("a", &log), b("b", &log), c("c", &log), d("d", &log);
  Engine engine;
  for (Recorder* r : {&a, &b, &c, &d}) engine.add(*r);
  a.action = [&b](Engine& e) { e.post(b); };
  engine.wake_at(a, nsec(10));
  engine.wake_at(c, nsec(10));  // same time, scheduled before b is posted
  engine.wake_at(d, nsec(11));
  ASSERT_TRUE(engine.run());
  EXPECT_EQ(log, (Log{{10, "a"}, {10, "b"}, {10, "c"}, {11, "d"}}));
}

TEST(Engine, PostedWakesRunFirstInFirstOut) {
  Log log;
  Recorder a("a", &log), b("b", &log), c("c", &log), d("d", &log);
  Engine engine;
  for (Recorder* r : {&a, &b, &c, &d}) engine.add(*r);
  a.action = [&d](Engine& e) { e.post(d); };  // posted while draining: goes to the back
  engine.post(a);
  engine.post(b);
  engine.post(c);
  ASSERT_TRUE(engine.run());
  EXPECT_EQ(names(log), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(engine.now(), Time::zero());
}

TEST(Engine, PostReplacesAPendingTimedWake) {
  Log log;
  Recorder a("a", &log);
  Engine engine;
  engine.add(a);
  engine.wake_at(a, us(5));
  engine.post(a);
  auto summary = engine.run();
  ASSERT_TRUE(summary);
  EXPECT_EQ(log, (Log{{0, "a"}}));
  EXPECT_EQ(summary->stale_skipped, 1u);
}

TEST(Engine, WakeAtReplacesAPendingPost) {
  Log log;
  Recorder a("a", &log);
  Engine engine;
  engine.add(a);
  engine.post(a);
  engine.wake_at(a, us(5));
  ASSERT_TRUE(engine.run());
  EXPECT_EQ(log, (Log{{5000, "a"}}));
}

TEST(Engine, RunStopsAtTheEndTimeAndResumes) {
  Log log;
  Recorder a("a", &log), b("b", &log), c("c", &log);
  Engine engine;
  for (Recorder* r : {&a, &b, &c}) engine.add(*r);
  engine.wake_at(a, nsec(10));
  engine.wake_at(b, nsec(20));
  engine.wake_at(c, nsec(30));
  auto first = engine.run({nsec(20)});
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->hit_end);
  EXPECT_EQ(first->events_processed, 2u);
  EXPECT_EQ(first->end_time, nsec(20));
  EXPECT_EQ(names(log), (std::vector<std::string>{"a", "b"}));
  auto rest = engine.run();
  ASSERT_TRUE(rest);
  EXPECT_FALSE(rest->hit_end);
  EXPECT_EQ(names(log), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Engine, EndTimeWithNothingLeftIsNotACutoff) {
  Log log;
  Recorder a("a", &log);
  Engine engine;
  engine.add(a);
  engine.wake_at(a, nsec(10));
  auto summary = engine.run({nsec(100)});
  ASSERT_TRUE(summary);
  EXPECT_FALSE(summary->hit_end);
  EXPECT_EQ(summary->end_time, nsec(10));
}

TEST(Engine, StaleRecordsPastTheEndAreNotACutoff) {
  Log log;
  Recorder a("a", &log);
  Engine engine;
  engine.add(a);
  engine.wake_at(a, nsec(10));
  engine.wake_at(a, nsec(5));  // leaves a stale record at t=10
  auto summary = engine.run({nsec(7)});
  ASSERT_TRUE(summary);
  EXPECT_FALSE(summary->hit_end);
  EXPECT_EQ(summary->stale_skipped, 1u);
  EXPECT_EQ(log, (Log{{5, "a"}}));
}

TEST(Engine, EndTimeBeforeNowIsInvalidInput) {
  Log log;
  Recorder a("a", &log);
  Engine engine;
  engine.add(a);
  engine.wake_at(a, us(10));
  ASSERT_TRUE(engine.run());
  auto summary = engine.run({us(5)});
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(summary.error().message().find("before the current simulated time"), std::string::npos);
}

TEST(Engine, StopEndsTheRunAfterTheCurrentWake) {
  Log log;
  Recorder a("a", &log), b("b", &log), c("c", &log);
  Engine engine;
  for (Recorder* r : {&a, &b, &c}) engine.add(*r);
  a.action = [&c](Engine& e) {
    e.post(c);
    e.stop();
  };
  engine.wake_at(a, nsec(10));
  engine.wake_at(b, nsec(20));
  auto summary = engine.run();
  ASSERT_TRUE(summary);
  EXPECT_TRUE(summary->stopped);
  EXPECT_EQ(names(log), (std::vector<std::string>{"a"}));
  ASSERT_TRUE(engine.run());  // what was queued runs later
  EXPECT_EQ(names(log), (std::vector<std::string>{"a", "c", "b"}));
}

TEST(Engine, DeadlockNamesTheStuckComponents) {
  Log log;
  Recorder sender("rank0.send", &log), receiver("rank1.recv", &log), idle("idle", &log);
  Engine engine;
  for (Recorder* r : {&sender, &receiver, &idle}) engine.add(*r);
  receiver.waiting_for = "chunk 3 from rank0";
  sender.waiting_for = "credit from rank1";
  engine.wake_at(idle, us(2));
  auto summary = engine.run();
  ASSERT_FALSE(summary);
  EXPECT_EQ(summary.error().code(), ErrorCode::kCheckFailed);
  EXPECT_EQ(summary.error().message(),
            "deadlock at t=2us: 2 components still waiting: rank0.send: credit from rank1, "
            "rank1.recv: chunk 3 from rank0");
}

TEST(Engine, DeadlockReportCapsTheList) {
  Log log;
  std::vector<std::unique_ptr<Recorder>> rs;
  Engine engine;
  for (int i = 0; i < 15; ++i) {
    rs.push_back(std::make_unique<Recorder>("r" + std::to_string(i), &log));
    rs.back()->waiting_for = "x";
    engine.add(*rs.back());
  }
  auto summary = engine.run();
  ASSERT_FALSE(summary);
  const std::string& message = summary.error().message();
  EXPECT_NE(message.find("15 components still waiting"), std::string::npos);
  EXPECT_NE(message.find("r9: x, and 5 more"), std::string::npos);
  EXPECT_EQ(message.find("r10"), std::string::npos);
}

TEST(Engine, DrainedQueueWithNobodyWaitingIsSuccess) {
  Log log;
  Recorder a("a", &log);
  Engine engine;
  engine.add(a);
  engine.wake_at(a, nsec(1));
  EXPECT_TRUE(engine.run());
}

TEST(Engine, PendingWorkAtTheEndTimeIsNotADeadlock) {
  Log log;
  Recorder a("a", &log), b("b", &log);
  Engine engine;
  engine.add(a);
  engine.add(b);
  a.waiting_for = "b";
  engine.wake_at(b, us(10));
  auto summary = engine.run({us(1)});
  ASSERT_TRUE(summary);
  EXPECT_TRUE(summary->hit_end);
}

TEST(Engine, RemovedComponentIsNeverWoken) {
  Log log;
  Recorder a("a", &log), b("b", &log);
  Engine engine;
  engine.add(a);
  engine.add(b);
  engine.wake_at(a, nsec(1));
  engine.wake_at(b, nsec(2));
  engine.remove(a);
  auto summary = engine.run();
  ASSERT_TRUE(summary);
  EXPECT_EQ(names(log), (std::vector<std::string>{"b"}));
  EXPECT_EQ(summary->stale_skipped, 1u);
  EXPECT_EQ(a.id(), Component::kUnregistered);
  EXPECT_EQ(engine.component_count(), 1u);
}

TEST(Engine, DestroyedComponentUnregistersItself) {
  Log log;
  Engine engine;
  Recorder b("b", &log);
  {
    Recorder a("a", &log);
    engine.add(a);
    engine.add(b);
    engine.wake_at(a, nsec(1));
    engine.wake_at(b, nsec(2));
  }
  ASSERT_TRUE(engine.run());
  EXPECT_EQ(names(log), (std::vector<std::string>{"b"}));
}

TEST(Engine, ComponentOutlivingItsEngineIsUnregistered) {
  Log log;
  Recorder a("a", &log);
  {
    Engine engine;
    engine.add(a);
    engine.wake_at(a, nsec(1));
  }
  EXPECT_EQ(a.id(), Component::kUnregistered);
  Engine next;
  EXPECT_EQ(next.add(a), 0u);  // free to join another engine
}

TEST(Engine, SummaryCountsEventsAndStaleRecords) {
  Log log;
  Recorder a("a", &log), b("b", &log);
  Engine engine;
  engine.add(a);
  engine.add(b);
  int wakes = 0;
  a.action = [&](Engine& e) {
    if (++wakes < 100) {
      e.wake_at(a, e.now() + nsec(5));
      e.wake_at(a, e.now() + nsec(7));  // replaces the +5 wake: one stale record each time
    }
  };
  engine.wake_at(a, nsec(0));
  engine.post(b);
  auto summary = engine.run();
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->events_processed, 101u);
  EXPECT_EQ(summary->stale_skipped, 99u);
  EXPECT_EQ(summary->end_time, nsec(99 * 7));
  EXPECT_GE(summary->wall_seconds, 0.0);
  EXPECT_EQ(engine.queued_records(), 0u);
}

TEST(Engine, SummaryLineStatesCountsAndCutoff) {
  RunSummary s;
  s.events_processed = 1200;
  s.stale_skipped = 30;
  s.end_time = ms(1.5);
  s.wall_seconds = 0.5;
  s.events_per_second = 2400;
  s.hit_end = true;
  EXPECT_EQ(s.to_string(),
            "1200 events (30 stale skipped) to t=1.5ms in 0.5 s wall, 0.0024 M events/s, "
            "stopped at the end time");
}

// A randomised scenario: components with clashing wake times that post to, cancel and reschedule
// each other. Determinism means the same seed gives the same log, event for event.
Log run_random_scenario(uint64_t seed) {
  struct Actor : Component {
    Actor(std::string n, Log* l, uint64_t* r, std::vector<std::unique_ptr<Actor>>* all)
        : Component(std::move(n)), log(l), rng(r), actors(all) {}
    uint64_t draw(uint64_t n) {
      *rng ^= *rng << 13;
      *rng ^= *rng >> 7;
      *rng ^= *rng << 17;
      return *rng % n;
    }
    void on_wake(Engine& e) override {
      log->push_back({e.now().ns(), name()});
      if (++wakes > 200) return;
      Actor& other = *(*actors)[draw(actors->size())];
      switch (draw(4)) {
        case 0: e.post(other); break;
        case 1: e.cancel(other); break;
        default: e.wake_at(other, e.now() + nsec(static_cast<int64_t>(draw(4)) * 10)); break;
      }
      e.wake_at(*this, e.now() + nsec(static_cast<int64_t>(draw(5)) * 10));
    }
    Log* log;
    uint64_t* rng;
    std::vector<std::unique_ptr<Actor>>* actors;
    int wakes = 0;
  };
  Log log;
  uint64_t rng = seed;
  std::vector<std::unique_ptr<Actor>> actors;
  Engine engine;
  for (int i = 0; i < 40; ++i) {
    actors.push_back(std::make_unique<Actor>("actor" + std::to_string(i), &log, &rng, &actors));
    engine.add(*actors.back());
  }
  for (auto& a : actors) engine.wake_at(*a, nsec(static_cast<int64_t>(a->draw(3)) * 10));
  auto summary = engine.run();
  if (!summary) log.push_back({-1, summary.error().message()});
  return log;
}

TEST(Engine, SameScenarioTwiceGivesTheSameLog) {
  const Log first = run_random_scenario(0x5eed);
  const Log second = run_random_scenario(0x5eed);
  ASSERT_GT(first.size(), 1000u);
  EXPECT_EQ(first, second);
  for (std::size_t i = 1; i < first.size(); ++i) {
    ASSERT_LE(first[i - 1].time_ns, first[i].time_ns) << "time went backwards at event " << i;
  }
}

TEST(Engine, DifferentSeedsGiveDifferentLogs) {
  EXPECT_NE(run_random_scenario(1), run_random_scenario(2));
}

}  // namespace
}  // namespace mlsys::sim
