// Butterfly-style reduce-scatter / allgather over a torus of virtual ranks (coll-private): the
// engine behind swing-bw, rabenseifner and the peer sequences of swing-lat and recdoub.
//
// At reduce-scatter step s every rank x exchanges with peer(x, s). Block y (owned by rank y)
// leaves x at the first step of x's chosen path to y, first_step(x, y); a rank sends at step s
// exactly the blocks whose first step is s and keeps the rest. Allgather runs the same steps in
// reverse order with the roles of the two sets swapped. (Swing paper §3; research notes §1.2.)
//
//   Butterfly bf({ButterflyDimension::recursive_halving(8)}, /*start_dim=*/0);
//   int64_t q = bf.peer(0, 0);                   // 1
//   std::vector<int64_t> sent = bf.sent_at(0, 0);  // {1, 3, 5, 7}
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "mlsys/coll/internal/schedule_tools.h"
#include "mlsys/core/result.h"

namespace mlsys::coll::internal {

/// rho(s) = sum_{i=0..s} (-2)^i = 1, -1, 3, -5, 11, ...: Swing's signed distance at step s.
int64_t swing_rho(int step);

/// One torus dimension of a butterfly: at local step j coordinate c pairs with peer(c, j);
/// first_step(c, y) is the local step at which c first forwards data for coordinate y (-1 when
/// y == c).
class ButterflyDimension {
 public:
  /// Recursive halving / doubling: c pairs with c XOR 2^j. `size` a power of two.
  static ButterflyDimension recursive_halving(int size);
  /// Swing: even c pairs with c + rho(j), odd c with c - rho(j) (mod size); `mirrored` negates
  /// every distance. `size` a power of two or even; ceil(log2 size) steps. For even sizes that
  /// are not powers of two some blocks have two paths: the reference code's choice (the path
  /// that arrives later, research notes §1.3) is taken where it keeps every block on one tree,
  /// otherwise (sizes 26, 50, 52, ...) the path that leaves latest, which always does.
  static Result<ButterflyDimension> swing(int size, bool mirrored);

  int size() const { return size_; }
  int steps() const { return steps_; }
  int peer(int c, int j) const;
  int first_step(int c, int y) const;

 private:
  enum class Kind { kXor, kSwing };
  ButterflyDimension(Kind kind, int size, int steps, bool mirrored)
      : kind_(kind), size_(size), steps_(steps), mirrored_(mirrored) {}

  Kind kind_;
  int size_;
  int steps_;
  bool mirrored_;
  std::vector<int> rho_mod_;             // swing: rho(j) mod size
  std::vector<int8_t> first_from_even_;  // swing: first step for displacement delta from an even coordinate
  std::vector<int8_t> first_dense_;      // [c * size + y] for sizes up to kDenseMax: no arithmetic per lookup
  static constexpr int kDenseMax = 1024;
  void fill_dense();
};

/// Global step order over the dimensions: starting at `start_dim`, each step uses the next
/// dimension in turn that still has local steps left. Returns (dimension, local step) pairs.
std::vector<std::pair<int, int>> rotation_order(const std::vector<int>& steps_per_dim, int start_dim);

/// A butterfly over the torus of its dimensions, with dimension rotation.
class Butterfly {
 public:
  Butterfly(std::vector<ButterflyDimension> dims, int start_dim);

  int steps() const { return static_cast<int>(order_.size()); }
  int64_t ranks() const { return index_.count(); }
  const TorusIndex& index() const { return index_; }
  /// The dimension and local step of global step s.
  std::pair<int, int> dimension_step(int s) const { return order_[static_cast<size_t>(s)]; }
  int64_t peer(int64_t v, int s) const;
  /// The blocks (virtual owner ranks) v sends at reduce-scatter step s, ascending.
  std::vector<int64_t> sent_at(int64_t v, int s) const;

 private:
  std::vector<ButterflyDimension> dims_;
  TorusIndex index_;
  std::vector<std::pair<int, int>> order_;
  std::vector<std::vector<int>> global_of_;  // [dim][local step] -> global step
};

}  // namespace mlsys::coll::internal
