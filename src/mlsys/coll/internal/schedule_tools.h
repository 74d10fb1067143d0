// Building blocks shared by the algorithm families (coll-private): a ScheduleBuilder that merges
// and sorts transfers, row-major torus coordinates, cartesian products of per-dimension
// coordinate sets, and ring reduce-scatter / allgather phases along a line of ranks.
//
//   ScheduleBuilder b(rank, /*steps=*/2);
//   b.send(0, peer, {3}, RecvKind::kReduce); b.recv(0, peer, {4}, RecvKind::kReduce);
//   RankSchedule s = std::move(b).finish();
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/coll/schedule.h"
#include "mlsys/core/result.h"

namespace mlsys::coll::internal {

/// Collects one rank's transfers step by step. finish() merges transfers of one step that go to
/// (or come from) the same peer with the same kind into one message, sorts the blocks and drops
/// empty transfers, so every algorithm emits one message per peer, kind and step. A send names
/// the kind its receiver applies, so that sends are merged exactly like their receives.
class ScheduleBuilder {
 public:
  ScheduleBuilder(int rank, int steps);

  int steps() const { return static_cast<int>(steps_.size()); }
  void send(int step, int peer, std::vector<int32_t> blocks, RecvKind kind);
  void recv(int step, int peer, std::vector<int32_t> blocks, RecvKind kind);
  RankSchedule finish() &&;

 private:
  int rank_;
  std::vector<Step> steps_;
};

/// Row-major coordinates (last dimension fastest) of a torus.
class TorusIndex {
 public:
  explicit TorusIndex(std::vector<int> dims);

  int dimensions() const { return static_cast<int>(dims_.size()); }
  int size(int k) const { return dims_[static_cast<size_t>(k)]; }
  const std::vector<int>& dims() const { return dims_; }
  const std::vector<int64_t>& strides() const { return strides_; }
  int64_t count() const { return count_; }
  std::vector<int> coords(int64_t rank) const;
  int64_t rank(std::span<const int> coords) const;

 private:
  std::vector<int> dims_;
  std::vector<int64_t> strides_;
  int64_t count_ = 1;
};

/// Every row-major id whose coordinate k is in lists[k] (each list ascending), in ascending
/// order. Empty when any list is empty.
std::vector<int64_t> product_ids(std::span<const int64_t> strides,
                                 const std::vector<std::vector<int>>& lists);

/// The blocks of chunk `i` of a ring phase.
using ChunkBlocks = std::function<std::vector<int32_t>(int i)>;

/// Ring reduce-scatter among `line` (ranks in ring order, the caller at position `pos`) in steps
/// [step0, step0 + line.size() - 1): each step sends one chunk to the next rank and reduces the
/// one from the previous rank, so that the caller ends holding chunk `pos` fully reduced.
void add_ring_reduce_scatter(ScheduleBuilder& b, int step0, std::span<const int> line, int pos,
                             const ChunkBlocks& chunk);

/// Ring allgather among `line`: the caller starts with chunk `pos` and ends with every chunk.
void add_ring_allgather(ScheduleBuilder& b, int step0, std::span<const int> line, int pos,
                        const ChunkBlocks& chunk);

/// The torus an algorithm runs on: params.torus, or one dimension of params.ranks.
std::vector<int> torus_of(const AlgorithmParams& params);

/// "8x8" for {8, 8}.
std::string dims_text(std::span<const int> dims);

/// An Error unless params.ports == 1: `name` has no multiport variant.
Status require_single_port(const AlgorithmParams& params, std::string_view name);

/// An Error unless 1 <= params.ports <= 2 * (torus dimensions).
Status check_port_count(const AlgorithmParams& params, std::string_view name);

constexpr bool is_power_of_two(int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

/// floor(log2(x)) for x >= 1.
int floor_log2(int64_t x);
/// ceil(log2(x)) for x >= 1.
int ceil_log2(int64_t x);

}  // namespace mlsys::coll::internal
