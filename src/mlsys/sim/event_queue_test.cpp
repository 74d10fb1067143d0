#include "mlsys/sim/event_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <vector>

#include "mlsys/core/check.h"

namespace mlsys::sim {
namespace {

// splitmix64: a fixed, portable stream so the differential test is the same everywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }

 private:
  uint64_t state_;
};

std::vector<int64_t> pop_all_times(EventQueue& q) {
  std::vector<int64_t> times;
  while (!q.empty()) times.push_back(q.pop().time_ns);
  return times;
}

TEST(EventQueue, PopsInTimeOrder) {
  EventQueue q;
  for (int64_t t : {50, 10, 40, 20, 30, 60, 5}) q.push(t, 0, 0);
  EXPECT_EQ(pop_all_times(q), (std::vector<int64_t>{5, 10, 20, 30, 40, 50, 60}));
}

TEST(EventQueue, EqualTimesPopInInsertionOrder) {
  EventQueue q;
  for (uint32_t target = 0; target < 20; ++target) q.push(100, target, 0);
  q.push(50, 99, 0);
  EXPECT_EQ(q.pop().target, 99u);
  for (uint32_t target = 0; target < 20; ++target) EXPECT_EQ(q.pop().target, target);
}

TEST(EventQueue, NegativeTimesPopBeforePositive) {
  EventQueue q;
  q.push(3, 0, 0);
  q.push(-7, 1, 0);
  q.push(0, 2, 0);
  q.push(INT64_MIN, 3, 0);
  q.push(INT64_MAX, 4, 0);
  EXPECT_EQ(pop_all_times(q), (std::vector<int64_t>{INT64_MIN, -7, 0, 3, INT64_MAX}));
}

TEST(EventQueue, PushStampsConsecutiveSequenceNumbers) {
  EventQueue q;
  EXPECT_EQ(q.push(10, 0, 0), 0u);
  EXPECT_EQ(q.push(5, 0, 0), 1u);
  EXPECT_EQ(q.next_seq(), 2u);
  EXPECT_EQ(q.pop().seq, 1u);
}

TEST(EventQueue, RecordKeepsTargetAndGeneration) {
  EventQueue q;
  q.push(7, 12345, 678);
  const EventRecord e = q.top();
  EXPECT_EQ(e.time_ns, 7);
  EXPECT_EQ(e.target, 12345u);
  EXPECT_EQ(e.generation, 678u);
  EXPECT_EQ(q.size(), 1u);
}

TEST(EventQueue, TopOfEmptyQueueIsCheckFailure) {
  EventQueue q;
  EXPECT_THROW((void)q.top(), InternalError);
}

TEST(EventQueue, PopOfEmptyQueueIsCheckFailure) {
  EventQueue q;
  q.push(1, 0, 0);
  (void)q.pop();
  EXPECT_THROW((void)q.pop(), InternalError);
}

TEST(EventQueue, ReservedQueueDoesNotReallocate) {
  EventQueue q;
  q.reserve(1000);
  const std::size_t capacity = q.capacity();
  ASSERT_GE(capacity, 1000u);
  for (int i = 0; i < 1000; ++i) q.push(1000 - i, 0, 0);
  EXPECT_EQ(q.capacity(), capacity);
}

TEST(EventQueue, ClearKeepsInsertionOrderAcrossReuse) {
  EventQueue q;
  q.push(1, 0, 0);
  q.push(2, 0, 0);
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.push(1, 0, 0), 2u);
}

// Differential test: 100k random pushes and pops against std::multimap, which keeps equal keys
// in insertion order. Times come from a narrow range so ties are frequent.
TEST(EventQueue, MatchesMultimapReferenceOnRandomOperations) {
  EventQueue q;
  std::multimap<int64_t, EventRecord> reference;
  SplitMix64 rng(20240611);
  int64_t now = 0;
  std::size_t pops = 0;
  for (int op = 0; op < 100000; ++op) {
    // Bias towards pushes early and pops late so the size sweeps up to thousands and back.
    const bool push = reference.empty() || rng.below(100) < (op < 60000 ? 60u : 40u);
    if (push) {
      const int64_t t = now + static_cast<int64_t>(rng.below(64));
      const auto target = static_cast<uint32_t>(rng.below(1000));
      const auto generation = static_cast<uint32_t>(rng.below(8));
      const uint64_t seq = q.push(t, target, generation);
      reference.emplace(t, EventRecord{t, seq, target, generation});
    } else {
      const EventRecord expected = reference.begin()->second;
      reference.erase(reference.begin());
      ASSERT_EQ(q.top().seq, expected.seq) << "at operation " << op;
      const EventRecord got = q.pop();
      ASSERT_EQ(got.time_ns, expected.time_ns) << "at operation " << op;
      ASSERT_EQ(got.seq, expected.seq) << "at operation " << op;
      ASSERT_EQ(got.target, expected.target) << "at operation " << op;
      ASSERT_EQ(got.generation, expected.generation) << "at operation " << op;
      now = got.time_ns;
      ++pops;
    }
    ASSERT_EQ(q.size(), reference.size());
  }
  EXPECT_GT(pops, 30000u);  // the run exercised pops, not only pushes
  while (!reference.empty()) {
    ASSERT_EQ(q.pop().seq, reference.begin()->second.seq);
    reference.erase(reference.begin());
  }
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace mlsys::sim
