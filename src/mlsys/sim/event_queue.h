// EventQueue: the engine's priority queue, a flat 4-ary min-heap of 24-byte event records.
//
// Ordered by time, then by insertion order (the queue stamps each record with a sequence number),
// so equal-time events come out first-in first-out on every platform. No allocation once reserved.
//
//   EventQueue q;  q.reserve(1024);
//   q.push(/*time_ns=*/500, /*target=*/3, /*generation=*/0);
//   EventRecord next = q.pop();   // earliest (time_ns, seq)
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "mlsys/core/check.h"

namespace mlsys::sim {

/// One scheduled wake-up. Plain data: the heap moves records by value.
struct EventRecord {
  int64_t time_ns = 0;      // simulated time of the wake-up, nanoseconds
  uint64_t seq = 0;         // insertion order, unique per queue: breaks ties between equal times
  uint32_t target = 0;      // component id the wake-up is for
  uint32_t generation = 0;  // the target's generation when scheduled; a mismatch marks it stale
};
static_assert(sizeof(EventRecord) == 24, "event records must stay small: the heap moves them");

namespace internal {
__extension__ typedef unsigned __int128 OrderKey;  // g++/clang extension; no pedantic warning

// Time (sign bit flipped so negative times order correctly as unsigned) in the high half, seq in
// the low half: one 128-bit comparison orders by time then insertion, without a second branch.
inline OrderKey order_key(const EventRecord& e) {
  const uint64_t t = static_cast<uint64_t>(e.time_ns) ^ (uint64_t{1} << 63);
  return (static_cast<OrderKey>(t) << 64) | e.seq;
}

// Hands std::vector cache-line-aligned storage, so the heap's index arithmetic can keep each
// family of four siblings within two cache lines.
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlignment{64};

  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}  // NOLINT(google-explicit-constructor)

  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlignment)); }
  void deallocate(T* p, std::size_t n) { ::operator delete(p, n * sizeof(T), kAlignment); }
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const { return true; }
};

// Starts loading the cache line holding `p`. On x86-64 an asm statement rather than
// __builtin_prefetch: g++ 12's IPA pure/const analysis counts the builtin as free of side effects,
// so a small helper whose only effect is prefetching can be deleted outright with its calls.
inline void prefetch(const void* p) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

// Index arithmetic of the 4-ary heap whose root is at index 3 (see EventQueue::kRoot).
constexpr std::size_t heap_first_child(std::size_t i) { return 4 * i - 8; }
constexpr std::size_t heap_parent(std::size_t i) { return i / 4 + 2; }
static_assert(heap_first_child(3) == 4 && heap_parent(4) == 3 && heap_parent(7) == 3);
static_assert(heap_first_child(4) == 8 && heap_parent(8) == 4 && heap_parent(11) == 4);
}  // namespace internal

/// True when `a` must run before `b`: earlier time, or the same time and inserted earlier.
inline bool runs_before(const EventRecord& a, const EventRecord& b) {
  return internal::order_key(a) < internal::order_key(b);
}

class EventQueue {
 public:
  EventQueue() : heap_(kRoot) {}

  /// Queues a wake-up and returns the sequence number it was stamped with (0, 1, 2, ...).
  uint64_t push(int64_t time_ns, uint32_t target, uint32_t generation) {
    const EventRecord e{time_ns, next_seq_, target, generation};
    heap_.push_back(e);
    sift_up(heap_.size() - 1, e);
    return next_seq_++;
  }

  /// The earliest record. Precondition: !empty().
  const EventRecord& top() const {
    MLSYS_CHECK(!empty(), "top() on an empty event queue");
    return heap_[kRoot];
  }

  /// Removes and returns the earliest record. Precondition: !empty().
  EventRecord pop() {
    MLSYS_CHECK(!empty(), "pop() on an empty event queue");
    const EventRecord earliest = heap_[kRoot];
    const EventRecord last = heap_.back();
    heap_.pop_back();
    if (!empty()) sift_down_from_root(last);
    return earliest;
  }

  bool empty() const { return heap_.size() == kRoot; }
  std::size_t size() const { return heap_.size() - kRoot; }
  /// Pre-sizes storage for `n` records so that pushes up to that size never allocate.
  void reserve(std::size_t n) { heap_.reserve(n + kRoot); }
  /// Records that fit without allocating.
  std::size_t capacity() const { return heap_.capacity() - kRoot; }
  /// Drops all records; the sequence counter keeps counting so order stays by insertion.
  void clear() { heap_.resize(kRoot); }
  /// The sequence number the next push will receive.
  uint64_t next_seq() const { return next_seq_; }

 private:
  static constexpr std::size_t kArity = 4;
  // The root sits at index 3 (slots 0-2 are padding), which puts every family of four siblings at
  // an index divisible by 4: 96 bytes starting on a 32-byte boundary of 64-byte-aligned storage,
  // so a family spans two cache lines rather than sometimes three.
  static constexpr std::size_t kRoot = 3;
  static constexpr std::size_t first_child(std::size_t i) { return internal::heap_first_child(i); }
  static constexpr std::size_t parent(std::size_t i) { return internal::heap_parent(i); }

  // Hole-based sifts: the moving record is held aside and written once at its final slot.
  void sift_up(std::size_t hole, const EventRecord& e) {
    EventRecord* h = heap_.data();
    while (hole > kRoot) {
      const std::size_t up = parent(hole);
      if (!runs_before(e, h[up])) break;
      h[hole] = h[up];
      hole = up;
    }
    h[hole] = e;
  }

  // The earliest of the children in [first, min(first + kArity, end)).
  static std::size_t earliest_child(const EventRecord* h, std::size_t first, std::size_t end) {
    if (first + kArity <= end) {
      // A fixed tournament whose winners are picked by arithmetic rather than branches: which
      // child wins is unpredictable. (g++ 12 still turns one of the picks into a branch; forcing
      // conditional moves with __builtin_expect_with_probability measured slower.)
      const std::size_t a = first + static_cast<std::size_t>(runs_before(h[first + 1], h[first]));
      const std::size_t b = first + 2 + static_cast<std::size_t>(runs_before(h[first + 3], h[first + 2]));
      const std::size_t take_b = std::size_t{0} - static_cast<std::size_t>(runs_before(h[b], h[a]));
      return (b & take_b) | (a & ~take_b);
    }
    std::size_t best = first;
    for (std::size_t c = first + 1; c < end; ++c) {
      if (runs_before(h[c], h[best])) best = c;
    }
    return best;
  }

  void sift_down_from_root(const EventRecord& e) {
    EventRecord* h = heap_.data();
    const std::size_t end = heap_.size();
    std::size_t hole = kRoot;
    for (;;) {
      const std::size_t first = first_child(hole);
      if (first >= end) break;
      const std::size_t best = earliest_child(h, first, end);
      prefetch_grandchildren(h, best, end);
      if (!runs_before(h[best], e)) break;
      h[hole] = h[best];
      hole = best;
    }
    h[hole] = e;
  }

  // Below a few thousand records the heap lives in cache; beyond, each level is a cache miss.
  // The children of `node` were fetched one level ago; fetching its 16 grandchildren (384 bytes,
  // six aligned lines) now gives the loads two levels of lead.
  static void prefetch_grandchildren(const EventRecord* h, std::size_t node, std::size_t end) {
    const std::size_t child = first_child(node);
    if (child >= end) return;
    const std::size_t grandchild = first_child(child);
    if (grandchild >= end) return;
    const std::size_t count = end - grandchild < kArity * kArity ? end - grandchild : kArity * kArity;
    const auto* first = reinterpret_cast<const char*>(h + grandchild);
    for (std::size_t byte = 0; byte < count * sizeof(EventRecord); byte += 64) {
      internal::prefetch(first + byte);
    }
  }

  std::vector<EventRecord, internal::CacheLineAllocator<EventRecord>> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace mlsys::sim
