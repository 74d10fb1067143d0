// Pool<T>: an object pool for per-event objects (packets, chunks, requests) with stable addresses.
//
// Storage grows in fixed-size chunks that are never moved or freed before the pool; destroyed
// slots go on a free list and are reused most-recent first, so steady-state create/destroy
// allocates nothing. Objects still alive when the pool is destroyed are destroyed with it.
//
//   Pool<Packet> packets;
//   Packet* p = packets.create(/*flow=*/7, KiB(4));   // constructor arguments
//   packets.destroy(p);                                // slot reused by the next create()
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "mlsys/core/check.h"

namespace mlsys::sim {

template <class T, std::size_t kChunkObjects = 256>
class Pool {
  static_assert(kChunkObjects > 0, "a chunk must hold at least one object");

 public:
  Pool() = default;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool() { destroy_live(); }

  /// Constructs a T from `args` in a free slot and returns it. The address stays valid until
  /// destroy() or the pool's destruction.
  template <class... Args>
  T* create(Args&&... args) {
    if (free_ == nullptr) add_chunk();
    Slot* slot = free_;
    free_ = slot->next_free;
    T* object = std::construct_at(&slot->value, std::forward<Args>(args)...);
    ++live_;
    return object;
  }

  /// Destroys an object made by this pool's create() and frees its slot.
  void destroy(T* object) {
    MLSYS_CHECK(object != nullptr, "Pool::destroy(nullptr)");
    MLSYS_CHECK(live_ > 0, "Pool::destroy() with no live objects");
    std::destroy_at(object);
    // T is a member of the Slot union, so the two addresses are interchangeable.
    Slot* slot = std::launder(reinterpret_cast<Slot*>(object));
    slot->next_free = free_;
    free_ = slot;
    --live_;
  }

  /// Live objects.
  std::size_t size() const { return live_; }
  /// Slots allocated so far (live plus free).
  std::size_t capacity() const { return chunks_.size() * kChunkObjects; }
  /// Allocates chunks until `n` objects fit without further allocation.
  void reserve(std::size_t n) {
    while (capacity() < n) add_chunk();
  }

 private:
  union Slot {
    Slot() : next_free(nullptr) {}
    ~Slot() {}
    T value;
    Slot* next_free;
  };

  void add_chunk() {
    chunks_.push_back(std::make_unique<Slot[]>(kChunkObjects));
    Slot* chunk = chunks_.back().get();
    // Pushed in reverse so that create() hands out a new chunk front to back.
    for (std::size_t i = kChunkObjects; i-- > 0;) {
      chunk[i].next_free = free_;
      free_ = &chunk[i];
    }
  }

  void destroy_live() {
    if (live_ == 0) return;
    std::vector<const Slot*> free_slots;
    for (const Slot* s = free_; s != nullptr; s = s->next_free) free_slots.push_back(s);
    std::sort(free_slots.begin(), free_slots.end(), std::less<const Slot*>());
    for (const auto& chunk : chunks_) {
      for (std::size_t i = 0; i < kChunkObjects; ++i) {
        Slot* s = &chunk[i];
        if (!std::binary_search(free_slots.begin(), free_slots.end(), s, std::less<const Slot*>())) {
          std::destroy_at(&s->value);
        }
      }
    }
    live_ = 0;
  }

  std::vector<std::unique_ptr<Slot[]>> chunks_;
  Slot* free_ = nullptr;
  std::size_t live_ = 0;
};

}  // namespace mlsys::sim
