// Building blocks shared by the SpGEMM kernels (private to sparse/): row partitioning by
// multiplications, the thread runner, and RowEngine, the per-thread row-wise accumulator
// (dense or hash, GraphBLAS's rule) behind kSpa, kHash, kAces and the symbolic phases.
//
//   internal::RowEngine<double> e(a, b, internal::AccMode::kAuto);
//   int64_t n = e.count(i, products[i]);            // symbolic
//   e.fill(i, products[i], n, c_col + off, c_val + off);   // numeric, sorted
#pragma once

#include <algorithm>
#include <bit>
#include <cstring>
#include <cstdint>
#include <thread>
#include <vector>

#include "mlsys/core/check.h"
#include "mlsys/core/units.h"
#include "mlsys/sparse/matrix.h"
#include "mlsys/sparse/spgemm.h"

namespace mlsys::sparse::internal {

inline size_t u(int64_t v) { return static_cast<size_t>(v); }

/// Multiplications of each row of A·B.
template <class T>
std::vector<int64_t> row_products(const Csr<T>& a, const Csr<T>& b) {
  std::vector<int64_t> out(u(a.rows), 0);
  const Offset* bp = b.row_ptr.data();
  for (int64_t i = 0; i < a.rows; ++i) {
    int64_t sum = 0;
    for (Offset p = a.row_ptr[u(i)]; p < a.row_ptr[u(i) + 1]; ++p) {
      const Index k = a.col[u(p)];
      sum += bp[k + 1] - bp[k];
    }
    out[u(i)] = sum;
  }
  return out;
}

/// Row ranges [bounds[t], bounds[t+1]) of roughly equal work; a row's work is its products plus
/// one, so long runs of empty rows are spread too.
std::vector<int64_t> partition_rows(const std::vector<int64_t>& products, int parts);

/// Runs fn(lo, hi, part) for every range, the first on the calling thread.
template <class Fn>
void run_parallel(const std::vector<int64_t>& bounds, Fn&& fn) {
  const size_t parts = bounds.size() - 1;
  if (parts == 1) {
    fn(bounds[0], bounds[1], size_t{0});
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(parts - 1);
  for (size_t t = 1; t < parts; ++t) workers.emplace_back([&, t] { fn(bounds[t], bounds[t + 1], t); });
  fn(bounds[0], bounds[1], size_t{0});
  for (auto& w : workers) w.join();
}

/// Sorts packed (column << 32 | payload) keys; insertion sort below 32 keys, where it beats
/// std::sort's setup.
inline void sort_packed(uint64_t* first, uint64_t* last) {
  if (last - first <= 32) {
    for (uint64_t* i = first + 1; i < last; ++i) {
      const uint64_t v = *i;
      uint64_t* j = i;
      for (; j > first && *(j - 1) > v; --j) *j = *(j - 1);
      *j = v;
    }
    return;
  }
  std::sort(first, last);
}

enum class AccMode { kAuto, kDense, kHash };

/// The row-wise (Gustavson) engine of one thread. Rows with one entry of A copy the scaled B row;
/// other rows accumulate in a dense array (a generation byte per column of B) or in a
/// linear-probing hash table of 2^ceil(log2(2 min(products, cols))) slots. kAuto picks dense
/// when the hash table would reach B.cols / 12 slots or the row has >= B.cols / 2 products
/// (GraphBLAS 7.4's saxpy3 rule). Output rows are sorted; each C(i,j) is the left-to-right sum
/// of its products in the order of A's row, starting from the first product.
template <class T>
class RowEngine {
 public:
  static constexpr Index kEmpty = -1;

  RowEngine(const Csr<T>& a, const Csr<T>& b, AccMode mode) : a_(a), b_(b), mode_(mode) {}

  bool dense_for(int64_t products) const {
    if (mode_ != AccMode::kAuto) return mode_ == AccMode::kDense;
    if (2 * products >= b_.cols) return true;
    return static_cast<int64_t>(table_size(products)) * 12 >= b_.cols;
  }
  uint64_t table_size(int64_t products) const {
    const int64_t bound = std::max<int64_t>(1, std::min(products, b_.cols));
    return std::bit_ceil(static_cast<uint64_t>(2 * bound));
  }

  /// nnz(C(i,:)); `products` is the row's multiplications.
  int64_t count(int64_t i, int64_t products) {
    const Offset lo = a_.row_ptr[u(i)];
    const Offset hi = a_.row_ptr[u(i) + 1];
    if (hi - lo <= 1) return products;
    const Offset* bp = b_.row_ptr.data();
    const Index* bc = b_.col.data();
    if (dense_for(products)) {
      ensure_dense();
      const auto flag_bytes = static_cast<int64_t>(flags_.size());
      if (products * 2 >= flag_bytes) {
        // Many products per column (high compression): a plain store per product, then the
        // flags summed 8 at a time (bytes of 0/1: the multiply adds them into the top byte).
        uint8_t* flags = flags_.data();
        for (Offset p = lo; p < hi; ++p) {
          const Index k = a_.col[u(p)];
          const Offset q_end = bp[k + 1];
          for (Offset q = bp[k]; q < q_end; ++q) flags[bc[q]] = 1;
        }
        int64_t n = 0;
        for (int64_t w = 0; w < flag_bytes; w += 8) {
          n += static_cast<int64_t>((load_word(flags + w) * 0x0101010101010101ULL) >> 56);
        }
        std::memset(flags, 0, u(flag_bytes));
        return n;
      }
      const uint8_t g = next_generation();
      uint8_t* stamp = stamp_.data();
      int64_t n = 0;
      for (Offset p = lo; p < hi; ++p) {
        const Index k = a_.col[u(p)];
        for (Offset q = bp[k]; q < bp[k + 1]; ++q) {
          const Index j = bc[q];
          n += stamp[j] != g;
          stamp[j] = g;
        }
      }
      return n;
    }
    const uint64_t cap = prepare_table(products);
    const uint64_t mask = cap - 1;
    const int shift = 64 - std::countr_zero(cap);
    Index* keys = keys_.data();
    int64_t n = 0;
    for (Offset p = lo; p < hi; ++p) {
      const Index k = a_.col[u(p)];
      for (Offset q = bp[k]; q < bp[k + 1]; ++q) {
        const Index j = bc[q];
        uint64_t s = hash(j, shift);
        while (keys[s] != j) {
          if (keys[s] == kEmpty) {
            keys[s] = j;
            ++n;
            break;
          }
          s = (s + 1) & mask;
        }
      }
    }
    std::fill(keys, keys + cap, kEmpty);
    return n;
  }

  /// Writes C(i,:) (nnz entries, sorted) to out_col/out_val.
  void fill(int64_t i, int64_t products, int64_t nnz, Index* out_col, T* out_val) {
    const Offset lo = a_.row_ptr[u(i)];
    const Offset hi = a_.row_ptr[u(i) + 1];
    if (hi == lo) return;
    const Offset* bp = b_.row_ptr.data();
    const Index* bc = b_.col.data();
    const T* bv = b_.val.data();
    if (hi - lo == 1) {
      const Index k = a_.col[u(lo)];
      const T av = a_.val[u(lo)];
      const Offset q0 = bp[k];
      for (Offset q = q0; q < bp[k + 1]; ++q) {
        out_col[q - q0] = bc[q];
        out_val[q - q0] = av * bv[q];
      }
      return;
    }
    if (dense_for(products)) {
      fill_dense(lo, hi, nnz, out_col, out_val);
      return;
    }
    const uint64_t cap = prepare_table(products);
    const uint64_t mask = cap - 1;
    const int shift = 64 - std::countr_zero(cap);
    Index* keys = keys_.data();
    T* vals = vals_.data();
    for (Offset p = lo; p < hi; ++p) {
      const Index k = a_.col[u(p)];
      const T av = a_.val[u(p)];
      for (Offset q = bp[k]; q < bp[k + 1]; ++q) {
        const Index j = bc[q];
        uint64_t s = hash(j, shift);
        for (;;) {
          if (keys[s] == j) {
            vals[s] += av * bv[q];
            break;
          }
          if (keys[s] == kEmpty) {
            keys[s] = j;
            vals[s] = av * bv[q];
            break;
          }
          s = (s + 1) & mask;
        }
      }
    }
    extract_table(keys, vals, cap, nnz, out_col, out_val);
  }

  /// Moves the entries of a table of `cap` slots to sorted output and empties the table.
  void extract_table(Index* keys, const T* vals, uint64_t cap, int64_t nnz, Index* out_col, T* out_val) {
    if (sort_.size() < u(nnz)) sort_.resize(u(nnz));
    uint64_t* packed = sort_.data();
    int64_t n = 0;
    for (uint64_t s = 0; s < cap; ++s) {
      if (keys[s] != kEmpty) {
        packed[n++] = (static_cast<uint64_t>(keys[s]) << 32) | s;
        keys[s] = kEmpty;
      }
    }
    sort_packed(packed, packed + n);
    for (int64_t e = 0; e < n; ++e) {
      out_col[e] = static_cast<Index>(packed[e] >> 32);
      out_val[e] = vals[packed[e] & 0xffffffffULL];
    }
  }

  /// A hash table of at least `cap` empty slots for callers that run several rows at once.
  Index* tile_keys(uint64_t cap) {
    if (tile_keys_.size() < cap) tile_keys_.assign(cap, kEmpty);
    if (tile_vals_.size() < cap) tile_vals_.resize(cap);
    return tile_keys_.data();
  }
  T* tile_vals() { return tile_vals_.data(); }

  static uint64_t hash(Index j, int shift) {
    return shift >= 64 ? 0 : (static_cast<uint64_t>(static_cast<uint32_t>(j)) * 0x9E3779B97F4A7C15ULL) >> shift;
  }

  /// Bytes this engine holds now (its buffers only grow, so this is its peak).
  Bytes bytes() const {
    const auto n = static_cast<int64_t>(stamp_.capacity() + dense_.capacity() * sizeof(T) +
                                        list_.capacity() * sizeof(Index) + flags_.capacity() +
                                        keys_.capacity() * sizeof(Index) + vals_.capacity() * sizeof(T) +
                                        sort_.capacity() * sizeof(uint64_t) + tile_keys_.capacity() * sizeof(Index) +
                                        tile_vals_.capacity() * sizeof(T));
    return B(n);
  }

 private:
  void ensure_dense() {
    if (stamp_.empty()) {
      stamp_.assign(u(b_.cols), 0);
      dense_.assign(u(b_.cols), -T{0});
      flags_.assign(u((b_.cols + 63) / 64 * 64), 0);
      list_.resize(u(b_.cols) + 1);
    }
  }

  // Byte stamps (a quarter of int32 ones, so they stay in L1 for wider B); all are cleared
  // once every 255 rows.
  uint8_t next_generation() {
    ensure_dense();
    if (generation_ == UINT8_MAX) {
      std::fill(stamp_.begin(), stamp_.end(), 0);
      generation_ = 0;
    }
    return ++generation_;
  }

  uint64_t prepare_table(int64_t products) {
    const uint64_t cap = table_size(products);
    if (keys_.size() < cap) {
      keys_.assign(cap, kEmpty);
      vals_.resize(cap);
    }
    return cap;
  }

  // Branch-free Gustavson row: every accumulator slot rests at -0.0, the additive identity
  // (-0.0 + x == x for every x, zeros of either sign included), so the first product needs no
  // test and the sum order stays that of A's row. A byte flag per column marks the touched ones
  // (a plain store: no read-modify-write chain between neighbouring columns, unlike a bitmap).
  // nnz is known from the symbolic phase, so the cheaper way to emit sorted columns is chosen up
  // front: a scan of the flags 64 at a time (in order for free) or, for rows
  // much sparser than that, a list of touched columns sorted afterwards.
  void fill_dense(Offset lo, Offset hi, int64_t nnz, Index* out_col, T* out_val) {
    ensure_dense();
    uint8_t* flags = flags_.data();
    T* acc = dense_.data();
    const Offset* bp = b_.row_ptr.data();
    const Index* bc = b_.col.data();
    const T* bv = b_.val.data();
    // The scan skips 64 untouched columns per step; sorting costs about nnz log2 nnz compares.
    const auto blocks = static_cast<int64_t>(flags_.size() / 64);
    const int64_t log_n = 64 - std::countl_zero(static_cast<uint64_t>(nnz) | 1);
    if (blocks * 4 <= nnz * log_n) {
      for (Offset p = lo; p < hi; ++p) {
        const Index k = a_.col[u(p)];
        const T av = a_.val[u(p)];
        const Offset q_end = bp[k + 1];
        for (Offset q = bp[k]; q < q_end; ++q) {
          const Index j = bc[q];
          flags[j] = 1;
          acc[j] += av * bv[q];
        }
      }
      int64_t e = 0;
      for (int64_t blk = 0; blk < blocks; ++blk) {
        uint8_t* f = flags + blk * 64;
        if ((load_word(f) | load_word(f + 8) | load_word(f + 16) | load_word(f + 24) | load_word(f + 32) |
             load_word(f + 40) | load_word(f + 48) | load_word(f + 56)) == 0) {
          continue;
        }
        for (int w = 0; w < 64; w += 8) {
          uint64_t bits = load_word(f + w);
          const auto base = static_cast<Index>(blk * 64 + w);
          while (bits != 0) {
            const Index j = base + (std::countr_zero(bits) >> 3);
            bits &= bits - 1;
            out_col[e] = j;
            out_val[e] = acc[j];
            acc[j] = -T{0};
            ++e;
          }
        }
        std::memset(f, 0, 64);
      }
      MLSYS_CHECK(e == nnz, "numeric phase disagrees with the symbolic count");
      return;
    }
    // Touched columns go to list unconditionally (the count only advances on a new column),
    // which keeps the loop free of branches and its writes inside the workspace.
    Index* list = list_.data();
    int64_t n = 0;
    for (Offset p = lo; p < hi; ++p) {
      const Index k = a_.col[u(p)];
      const T av = a_.val[u(p)];
      const Offset q_end = bp[k + 1];
      for (Offset q = bp[k]; q < q_end; ++q) {
        const Index j = bc[q];
        list[n] = j;
        n += flags[j] ^ 1;
        flags[j] = 1;
        acc[j] += av * bv[q];
      }
    }
    MLSYS_CHECK(n == nnz, "numeric phase disagrees with the symbolic count");
    sort_small(list, list + n);
    for (int64_t e = 0; e < n; ++e) {
      const Index j = list[e];
      flags[j] = 0;
      out_col[e] = j;
      out_val[e] = acc[j];
      acc[j] = -T{0};
    }
  }

  static uint64_t load_word(const uint8_t* p) {
    uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
  }

  static void sort_small(Index* first, Index* last) {
    if (last - first <= 24) {
      for (Index* i = first + 1; i < last; ++i) {
        const Index v = *i;
        Index* j = i;
        for (; j > first && *(j - 1) > v; --j) *j = *(j - 1);
        *j = v;
      }
      return;
    }
    std::sort(first, last);
  }

  const Csr<T>& a_;
  const Csr<T>& b_;
  AccMode mode_;
  std::vector<uint8_t> stamp_;
  std::vector<T> dense_;  // at rest every slot holds -0.0 (see fill_dense)
  std::vector<uint8_t> flags_;  // one byte per column of B (rounded up to 64), all 0 at rest
  std::vector<Index> list_;  // B.cols + 1 slots: the touched columns of the row being filled
  uint8_t generation_ = 0;
  std::vector<Index> keys_;
  std::vector<T> vals_;
  std::vector<uint64_t> sort_;
  std::vector<Index> tile_keys_;
  std::vector<T> tile_vals_;
};

/// The ACES-style kernel (spgemm_aces.cpp). `row_nnz` is filled by the caller's symbolic phase.
template <class T>
void aces_numeric(const Csr<T>& a, const Csr<T>& b, const std::vector<int64_t>& products,
                  const std::vector<int64_t>& bounds, const SpgemmOptions& options, Csr<T>& c, SpgemmStats& stats);

/// Inner-product kernel (spgemm_dataflows.cpp): both phases; C's row pointers and arrays are built here.
template <class T>
Csr<T> inner_product(const Csr<T>& a, const Csr<T>& b, int threads, SpgemmStats& stats);

/// Outer-product kernel (spgemm_dataflows.cpp): numeric phase into C sized by the symbolic phase.
template <class T>
void outer_numeric(const Csr<T>& a, const Csr<T>& b, const std::vector<int64_t>& products,
                   const std::vector<int64_t>& bounds, Csr<T>& c, SpgemmStats& stats);

}  // namespace mlsys::sparse::internal
