#include "mlsys/sim/hold_model.h"

#include <gtest/gtest.h>

namespace mlsys::sim {
namespace {

TEST(HoldModel, EngineAndQueueProcessTheSameEventsInTheSameOrder) {
  // Both draw delays from the same named stream in pop order, so the wake times must agree.
  auto engine = run_hold_model({.pending = 100, .events = 10000, .seed = 3});
  auto queue = run_queue_hold_model({.pending = 100, .events = 10000, .seed = 3});
  ASSERT_TRUE(engine);
  ASSERT_TRUE(queue);
  EXPECT_EQ(engine->summary.events_processed, 10000u);
  EXPECT_EQ(queue->summary.events_processed, 10000u);
  EXPECT_EQ(engine->checksum, queue->checksum);
}

TEST(HoldModel, SameSeedSameChecksumOtherSeedDifferent) {
  auto a = run_queue_hold_model({.pending = 50, .events = 5000, .seed = 1});
  auto b = run_queue_hold_model({.pending = 50, .events = 5000, .seed = 1});
  auto c = run_queue_hold_model({.pending = 50, .events = 5000, .seed = 2});
  EXPECT_EQ(a->checksum, b->checksum);
  EXPECT_NE(a->checksum, c->checksum);
}

TEST(HoldModel, RejectsBadSizes) {
  EXPECT_FALSE(run_hold_model({.pending = 0, .events = 10}));
  EXPECT_FALSE(run_queue_hold_model({.pending = 10, .events = -1}));
}

}  // namespace
}  // namespace mlsys::sim
