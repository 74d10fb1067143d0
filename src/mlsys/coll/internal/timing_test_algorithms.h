// Tiny hand-written schedules for the timing models' tests: small enough to time by hand, and
// independent of the algorithm library so that a timing test fails only for a timing bug.
//
//   testing_algos::RingAllreduceTest ring(8);               // 14 steps, one block per message
//   auto ex = testing_algos::exchange_once(8, {{0, 2, 1}}, 2);  // one step: rank 0 sends block 0 to 2
//   Result<CollectiveTiming> t = analytic_time(ring, B(800), 4, topology, {});
#pragma once

#include <string>
#include <vector>

#include "mlsys/coll/schedule.h"

namespace mlsys::coll::testing_algos {

/// Ring allreduce: P blocks; reduce-scatter then allgather, rank r sends to r+1 every step.
class RingAllreduceTest final : public Algorithm {
 public:
  explicit RingAllreduceTest(int p) : Algorithm({.ranks = p}) {}
  std::string name() const override { return "test-ring"; }
  int64_t block_count() const override { return ranks(); }
  RankSchedule schedule_for(int r) const override {
    const int p = ranks();
    const auto mod = [p](int v) { return ((v % p) + p) % p; };
    RankSchedule s{.rank = r};
    for (int k = 0; k < p - 1; ++k) {
      s.steps.push_back({.sends = {{.peer = mod(r + 1), .blocks = {mod(r - k)}}},
                         .recvs = {{.peer = mod(r - 1), .blocks = {mod(r - k - 1)}, .kind = RecvKind::kReduce}}});
    }
    for (int k = 0; k < p - 1; ++k) {
      s.steps.push_back({.sends = {{.peer = mod(r + 1), .blocks = {mod(r + 1 - k)}}},
                         .recvs = {{.peer = mod(r - 1), .blocks = {mod(r - k)}, .kind = RecvKind::kCopy}}});
    }
    return s;
  }
};

/// Recursive doubling allreduce (P a power of two): one block, the whole vector exchanged with
/// r xor 2^s at step s.
class RecursiveDoublingTest final : public Algorithm {
 public:
  explicit RecursiveDoublingTest(int p) : Algorithm({.ranks = p}) {}
  std::string name() const override { return "test-recdoub"; }
  int64_t block_count() const override { return 1; }
  RankSchedule schedule_for(int r) const override {
    RankSchedule s{.rank = r};
    for (int d = 1; d < ranks(); d *= 2) {
      s.steps.push_back({.sends = {{.peer = r ^ d, .blocks = {0}}},
                         .recvs = {{.peer = r ^ d, .blocks = {0}, .kind = RecvKind::kReduce}}});
    }
    return s;
  }
};

/// Steps of given messages {src, dst, blocks}: each message carries blocks 0..blocks-1 and is
/// reduced by its receiver.
struct Message {
  int src;
  int dst;
  int blocks;
};

class ExchangeSteps final : public Algorithm {
 public:
  ExchangeSteps(int p, std::vector<std::vector<Message>> steps, int64_t block_count)
      : Algorithm({.ranks = p}), steps_(std::move(steps)), block_count_(block_count) {}
  std::string name() const override { return "test-exchange"; }
  int64_t block_count() const override { return block_count_; }
  RankSchedule schedule_for(int r) const override {
    RankSchedule s{.rank = r};
    for (const std::vector<Message>& messages : steps_) {
      Step step;
      for (const Message& m : messages) {
        std::vector<int32_t> blocks;
        for (int b = 0; b < m.blocks; ++b) blocks.push_back(b);
        if (m.src == r) step.sends.push_back({.peer = m.dst, .blocks = blocks});
        if (m.dst == r) step.recvs.push_back({.peer = m.src, .blocks = blocks, .kind = RecvKind::kReduce});
      }
      s.steps.push_back(std::move(step));
    }
    return s;
  }

 private:
  std::vector<std::vector<Message>> steps_;
  int64_t block_count_;
};

/// One step of given messages.
inline ExchangeSteps exchange_once(int p, std::vector<Message> messages, int64_t block_count) {
  return ExchangeSteps(p, {std::move(messages)}, block_count);
}

/// Two ranks: rank 0 sends in its step 0, rank 1 receives in its step 1 (after an empty step):
/// valid for per-rank execution, not step-aligned.
class MisalignedPair final : public Algorithm {
 public:
  MisalignedPair() : Algorithm({.ranks = 2}) {}
  std::string name() const override { return "test-misaligned"; }
  int64_t block_count() const override { return 1; }
  RankSchedule schedule_for(int r) const override {
    RankSchedule s{.rank = r};
    if (r == 0) {
      s.steps.push_back({.sends = {{.peer = 1, .blocks = {0}}}});
    } else {
      s.steps.push_back({});
      s.steps.push_back({.recvs = {{.peer = 0, .blocks = {0}, .kind = RecvKind::kCopy}}});
    }
    return s;
  }
};

/// Rank 0 sends to rank 1, which never receives: a malformed schedule.
class UnreceivedSend final : public Algorithm {
 public:
  UnreceivedSend() : Algorithm({.ranks = 2}) {}
  std::string name() const override { return "test-unreceived"; }
  int64_t block_count() const override { return 1; }
  RankSchedule schedule_for(int r) const override {
    RankSchedule s{.rank = r};
    if (r == 0) s.steps.push_back({.sends = {{.peer = 1, .blocks = {0}}}});
    return s;
  }
};

/// Two ranks that each wait to receive before they send: a deadlock.
class CyclicWait final : public Algorithm {
 public:
  CyclicWait() : Algorithm({.ranks = 2}) {}
  std::string name() const override { return "test-cyclic"; }
  int64_t block_count() const override { return 1; }
  RankSchedule schedule_for(int r) const override {
    RankSchedule s{.rank = r};
    s.steps.push_back({.recvs = {{.peer = 1 - r, .blocks = {0}, .kind = RecvKind::kCopy}}});
    s.steps.push_back({.sends = {{.peer = 1 - r, .blocks = {0}}}});
    return s;
  }
};

}  // namespace mlsys::coll::testing_algos
