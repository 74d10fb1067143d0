#include "mlsys/coll/internal/butterfly.h"

#include <algorithm>
#include <bit>
#include <string>

#include "mlsys/core/check.h"

namespace mlsys::coll::internal {

int64_t swing_rho(int step) {
  // (1 - (-2)^(s+1)) / 3, exact in int64 for the step counts a torus dimension can have.
  int64_t power = 1;
  for (int i = 0; i <= step; ++i) power *= -2;
  return (1 - power) / 3;
}

namespace {

int mod(int64_t a, int m) { return static_cast<int>(((a % m) + m) % m); }

}  // namespace

ButterflyDimension ButterflyDimension::recursive_halving(int size) {
  MLSYS_CHECK(is_power_of_two(size), "recursive halving needs a power-of-two size");
  ButterflyDimension d(Kind::kXor, size, floor_log2(size), false);
  d.fill_dense();
  return d;
}

namespace {

// Digits of v in base -2, least significant first (v != 0).
std::vector<int> negabinary_digits(int64_t v) {
  std::vector<int> digits;
  while (v != 0) {
    int64_t r = v % -2;
    v /= -2;
    if (r < 0) {
      r += 2;
      v += 1;
    }
    digits.push_back(static_cast<int>(r));
  }
  return digits;
}

// The step choice of the Swing reference code (research notes §1.3), for a block at
// displacement delta from an even coordinate: the signed distance is delta for odd delta and
// -delta for even delta; of it and its wrap-around twin (one each side of zero), those with at
// most `steps` negabinary digits are paths; a path leaves at the step where its leading run of
// equal digits ends and arrives at its most significant digit. When two paths leave at different
// steps, the one that arrives later is taken. -1 when no path exists.
int reference_first_step(int delta, int size, int steps) {
  const int64_t signed_distance = delta % 2 == 1 ? delta : -delta;
  const int64_t x = ((signed_distance % size) + size) % size;
  int best_first = -1;
  int best_last = -1;
  for (int64_t v : {x, x - size}) {
    const std::vector<int> digits = negabinary_digits(v);
    if (v == 0 || static_cast<int>(digits.size()) > steps) continue;
    size_t run = 1;
    while (run < digits.size() && digits[run] == digits[0]) ++run;
    const int first = static_cast<int>(run) - 1;
    const int last = static_cast<int>(digits.size()) - 1;
    if (best_first < 0 || (first != best_first && last > best_last)) {
      best_first = first;
      best_last = last;
    }
  }
  return best_first;
}

// True when every block's data follows one tree: the rank a block is forwarded to forwards it
// at a later step (or owns it). Tables are for an even coordinate; an odd one mirrors them.
bool consistent(const std::vector<int8_t>& first, const std::vector<int>& rho_mod, int size) {
  for (int delta = 1; delta < size; ++delta) {
    const int u = first[static_cast<size_t>(delta)];
    if (u < 0) return false;
    const int next = mod(static_cast<int64_t>(rho_mod[static_cast<size_t>(u)]) - delta, size);
    if (next != 0 && first[static_cast<size_t>(next)] <= u) return false;
  }
  return true;
}

}  // namespace

Result<ButterflyDimension> ButterflyDimension::swing(int size, bool mirrored) {
  MLSYS_CHECK(size >= 1, "dimension size must be positive");
  if (size > 1 && size % 2 != 0) {
    return unsupported(
        "swing bandwidth-optimal needs even dimension sizes, got " + std::to_string(size),
        "its pairing is a perfect matching only on even sizes; use swing-lat, which folds any size "
        "into a power of two");
  }
  const int steps = ceil_log2(size);
  ButterflyDimension d(Kind::kSwing, size, steps, mirrored);
  for (int j = 0; j < steps; ++j) d.rho_mod_.push_back(mod(swing_rho(j), size));

  // First choice: the reference code's rule. For powers of two every block has one path and
  // the rule just finds it.
  d.first_from_even_.assign(static_cast<size_t>(size), -1);
  for (int delta = 1; delta < size; ++delta) {
    d.first_from_even_[static_cast<size_t>(delta)] =
        static_cast<int8_t>(reference_first_step(delta, size, steps));
  }
  if (consistent(d.first_from_even_, d.rho_mod_, size)) {
    d.fill_dense();
    return d;
  }

  // For some even sizes (26, 50, 52, ...) that rule would forward a block to a rank that has
  // already passed it on. Then enumerate every path (a subset of the steps, moving +rho at even
  // coordinates and -rho at odd ones) and keep, per displacement, the latest first step. That
  // choice is always consistent: the rest of a chosen path is a path from the next rank that
  // leaves later still, so the next rank's own choice leaves no earlier.
  d.first_from_even_.assign(static_cast<size_t>(size), -1);
  for (uint32_t subset = 1; subset < (uint32_t{1} << steps); ++subset) {
    int64_t pos = 0;
    for (int j = 0; j < steps; ++j) {
      if ((subset >> j) & 1U) pos += (mod(pos, 2) == 0 ? 1 : -1) * swing_rho(j);
    }
    const int delta = mod(pos, size);
    if (delta == 0) continue;
    const auto first = static_cast<int8_t>(std::countr_zero(subset));
    int8_t& slot = d.first_from_even_[static_cast<size_t>(delta)];
    slot = std::max(slot, first);
  }
  if (!consistent(d.first_from_even_, d.rho_mod_, size)) {
    return Error(ErrorCode::kInternal,
                 "swing: no consistent block routing on a dimension of size " + std::to_string(size));
  }
  d.fill_dense();
  return d;
}

int ButterflyDimension::peer(int c, int j) const {
  if (kind_ == Kind::kXor) return c ^ (1 << j);
  const bool minus = ((c & 1) != 0) != mirrored_;
  return mod(static_cast<int64_t>(c) +
                 (minus ? -rho_mod_[static_cast<size_t>(j)] : rho_mod_[static_cast<size_t>(j)]),
             size_);
}

void ButterflyDimension::fill_dense() {
  if (size_ > kDenseMax) return;
  std::vector<int8_t> dense(static_cast<size_t>(size_) * static_cast<size_t>(size_));
  for (int c = 0; c < size_; ++c) {
    for (int y = 0; y < size_; ++y)
      dense[static_cast<size_t>(c) * static_cast<size_t>(size_) + static_cast<size_t>(y)] =
          static_cast<int8_t>(first_step(c, y));
  }
  first_dense_ = std::move(dense);
}

int ButterflyDimension::first_step(int c, int y) const {
  if (!first_dense_.empty()) {
    return first_dense_[static_cast<size_t>(c) * static_cast<size_t>(size_) + static_cast<size_t>(y)];
  }
  if (c == y) return -1;
  if (kind_ == Kind::kXor) return std::countr_zero(static_cast<unsigned>(c ^ y));
  // An odd coordinate (or a mirrored port) walks the mirror image of an even one's paths.
  const bool minus = ((c & 1) != 0) != mirrored_;
  const int delta = minus ? mod(c - y, size_) : mod(y - c, size_);
  return first_from_even_[static_cast<size_t>(delta)];
}

std::vector<std::pair<int, int>> rotation_order(const std::vector<int>& steps_per_dim, int start_dim) {
  const int d = static_cast<int>(steps_per_dim.size());
  std::vector<int> done(static_cast<size_t>(d), 0);
  int total = 0;
  for (int s : steps_per_dim) total += s;
  std::vector<std::pair<int, int>> order;
  order.reserve(static_cast<size_t>(total));
  int k = d > 0 ? start_dim % d : 0;
  for (int s = 0; s < total; ++s) {
    while (done[static_cast<size_t>(k)] == steps_per_dim[static_cast<size_t>(k)]) k = (k + 1) % d;
    order.emplace_back(k, done[static_cast<size_t>(k)]++);
    k = (k + 1) % d;
  }
  return order;
}

namespace {

std::vector<int> sizes_of(const std::vector<ButterflyDimension>& dims) {
  std::vector<int> sizes;
  for (const auto& d : dims) sizes.push_back(d.size());
  return sizes;
}

}  // namespace

Butterfly::Butterfly(std::vector<ButterflyDimension> dims, int start_dim)
    : dims_(std::move(dims)), index_(sizes_of(dims_)) {
  std::vector<int> steps;
  for (const auto& d : dims_) steps.push_back(d.steps());
  order_ = rotation_order(steps, start_dim);
  global_of_.resize(dims_.size());
  for (size_t k = 0; k < dims_.size(); ++k) global_of_[k].assign(static_cast<size_t>(steps[k]), 0);
  for (size_t s = 0; s < order_.size(); ++s) {
    global_of_[static_cast<size_t>(order_[s].first)][static_cast<size_t>(order_[s].second)] =
        static_cast<int>(s);
  }
}

int64_t Butterfly::peer(int64_t v, int s) const {
  const auto [k, j] = order_[static_cast<size_t>(s)];
  const auto& stride = index_.strides()[static_cast<size_t>(k)];
  const int c = static_cast<int>((v / stride) % index_.size(k));
  return v + (dims_[static_cast<size_t>(k)].peer(c, j) - c) * stride;
}

std::vector<int64_t> Butterfly::sent_at(int64_t v, int s) const {
  const auto [k, j] = order_[static_cast<size_t>(s)];
  const std::vector<int> c = index_.coords(v);
  std::vector<std::vector<int>> lists(dims_.size());
  for (size_t m = 0; m < dims_.size(); ++m) {
    const ButterflyDimension& dim = dims_[m];
    const int cm = c[m];
    auto& list = lists[m];
    for (int y = 0; y < dim.size(); ++y) {
      const int f = dim.first_step(cm, y);
      // The step's own dimension: blocks whose path starts here. Other dimensions: coordinates
      // whose own first step comes later (or that already match).
      const bool take =
          static_cast<int>(m) == k ? f == j : (f < 0 || global_of_[m][static_cast<size_t>(f)] > s);
      if (take) list.push_back(y);
    }
  }
  return product_ids(index_.strides(), lists);
}

}  // namespace mlsys::coll::internal
