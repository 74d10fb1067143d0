#include "mlsys/sim/pool.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "mlsys/core/check.h"

namespace mlsys::sim {
namespace {

struct Packet {
  Packet(int flow_id, std::string label) : flow(flow_id), name(std::move(label)) {}
  int flow;
  std::string name;
};

// Counts its destructions into a caller-owned counter.
struct Counted {
  explicit Counted(int* destroyed) : destroyed_(destroyed) {}
  ~Counted() { ++*destroyed_; }
  int* destroyed_;
};

TEST(Pool, CreateForwardsConstructorArguments) {
  Pool<Packet> pool;
  Packet* p = pool.create(7, "ack");
  EXPECT_EQ(p->flow, 7);
  EXPECT_EQ(p->name, "ack");
  EXPECT_EQ(pool.size(), 1u);
}

TEST(Pool, AddressesStayStableAsChunksAreAdded) {
  Pool<Packet, 16> pool;
  std::vector<Packet*> made;
  for (int i = 0; i < 1000; ++i) made.push_back(pool.create(i, std::to_string(i)));
  EXPECT_GE(pool.capacity(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(made[i]->flow, i);
    EXPECT_EQ(made[i]->name, std::to_string(i));
  }
  EXPECT_EQ(std::set<Packet*>(made.begin(), made.end()).size(), 1000u);
}

TEST(Pool, DestroyedSlotIsReusedFirst) {
  Pool<Packet> pool;
  Packet* a = pool.create(1, "a");
  pool.create(2, "b");
  pool.destroy(a);
  Packet* c = pool.create(3, "c");
  EXPECT_EQ(c, a);
  EXPECT_EQ(c->flow, 3);
  EXPECT_EQ(pool.size(), 2u);
}

TEST(Pool, DestroyRunsTheDestructorOnce) {
  int destroyed = 0;
  {
    Pool<Counted> pool;
    Counted* c = pool.create(&destroyed);
    pool.destroy(c);
    EXPECT_EQ(destroyed, 1);
  }
  EXPECT_EQ(destroyed, 1);  // the pool's own destruction does not touch the freed slot again
}

TEST(Pool, DestructionDestroysObjectsStillAlive) {
  int destroyed = 0;
  {
    Pool<Counted, 4> pool;
    std::vector<Counted*> made;
    for (int i = 0; i < 10; ++i) made.push_back(pool.create(&destroyed));
    pool.destroy(made[3]);
    pool.destroy(made[8]);
    EXPECT_EQ(destroyed, 2);
  }
  EXPECT_EQ(destroyed, 10);
}

TEST(Pool, SteadyChurnDoesNotGrowStorage) {
  Pool<Packet, 8> pool;
  std::vector<Packet*> live;
  for (int i = 0; i < 8; ++i) live.push_back(pool.create(i, "x"));
  const std::size_t capacity = pool.capacity();
  for (int round = 0; round < 1000; ++round) {
    pool.destroy(live[round % 8]);
    live[round % 8] = pool.create(round, "y");
  }
  EXPECT_EQ(pool.capacity(), capacity);
  EXPECT_EQ(pool.size(), 8u);
}

TEST(Pool, ReserveAllocatesUpFront) {
  Pool<Packet, 32> pool;
  pool.reserve(100);
  EXPECT_EQ(pool.capacity(), 128u);
  EXPECT_EQ(pool.size(), 0u);
  for (int i = 0; i < 128; ++i) pool.create(i, "");
  EXPECT_EQ(pool.capacity(), 128u);
}

TEST(Pool, DestroyOfNullIsCheckFailure) {
  Pool<Packet> pool;
  EXPECT_THROW(pool.destroy(nullptr), InternalError);
}

TEST(Pool, DestroyWithNothingAliveIsCheckFailure) {
  Pool<Packet> pool;
  Packet* p = pool.create(1, "a");
  pool.destroy(p);
  EXPECT_THROW(pool.destroy(p), InternalError);
}

}  // namespace
}  // namespace mlsys::sim
