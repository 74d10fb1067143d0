// The inner-product (dot) and outer-product SpGEMM dataflows, as ACES's background section
// defines them (research notes §1.1): InP computes each C(i,j) = A(i,:)·B(:,j) on CSR x CSC;
// OutP computes C = sum_k A(:,k)·B(k,:) and merges the partial products of each row.
// Both keep the summation order of the row-wise kernels (increasing k per C(i,j)).

#include <algorithm>
#include <utility>
#include <vector>

#include "mlsys/sparse/internal/spgemm_kernels.h"

namespace mlsys::sparse::internal {
namespace {

constexpr int64_t kOuterPanelProducts = int64_t{1} << 20;  // partial products buffered per panel

// Inner product of row i with every non-empty column of B. A's row is scattered into a dense
// stamp/position array so each column costs its own length, not a merge.
template <class T>
class InnerRows {
 public:
  InnerRows(const Csr<T>& a, const Csc<T>& bt, const std::vector<Index>& nonempty)
      : a_(a), bt_(bt), nonempty_(nonempty), stamp_(u(a.cols), 0), pos_(u(a.cols), 0) {}

  int64_t count(int64_t i) {
    if (a_.row_nnz(i) == 0) return 0;
    const int32_t g = mark(i);
    int64_t n = 0;
    for (const Index j : nonempty_) {
      for (Offset q = bt_.col_ptr[u(j)]; q < bt_.col_ptr[u(j) + 1]; ++q) {
        if (stamp_[u(bt_.row[u(q)])] == g) {
          ++n;
          break;
        }
      }
    }
    return n;
  }

  void fill(int64_t i, Index* out_col, T* out_val) {
    if (a_.row_nnz(i) == 0) return;
    const int32_t g = mark(i);
    int64_t n = 0;
    for (const Index j : nonempty_) {
      bool hit = false;
      T sum{};
      for (Offset q = bt_.col_ptr[u(j)]; q < bt_.col_ptr[u(j) + 1]; ++q) {
        const Index k = bt_.row[u(q)];
        if (stamp_[u(k)] != g) continue;
        const T prod = a_.val[u(pos_[u(k)])] * bt_.val[u(q)];
        sum = hit ? sum + prod : prod;
        hit = true;
      }
      if (hit) {
        out_col[n] = j;
        out_val[n] = sum;
        ++n;
      }
    }
  }

  Bytes bytes() const { return B(static_cast<int64_t>(stamp_.capacity() * sizeof(int32_t) + pos_.capacity() * sizeof(Offset))); }

 private:
  int32_t mark(int64_t i) {
    if (generation_ == INT32_MAX) {
      std::fill(stamp_.begin(), stamp_.end(), 0);
      generation_ = 0;
    }
    const int32_t g = ++generation_;
    for (Offset p = a_.row_ptr[u(i)]; p < a_.row_ptr[u(i) + 1]; ++p) {
      stamp_[u(a_.col[u(p)])] = g;
      pos_[u(a_.col[u(p)])] = p;
    }
    return g;
  }

  const Csr<T>& a_;
  const Csc<T>& bt_;
  const std::vector<Index>& nonempty_;
  std::vector<int32_t> stamp_;
  std::vector<Offset> pos_;
  int32_t generation_ = 0;
};

}  // namespace

template <class T>
Csr<T> inner_product(const Csr<T>& a, const Csr<T>& b, int threads, SpgemmStats& stats) {
  const Csc<T> bt = to_csc(b);
  std::vector<Index> nonempty;
  for (int64_t j = 0; j < b.cols; ++j) {
    if (bt.col_ptr[u(j) + 1] > bt.col_ptr[u(j)]) nonempty.push_back(static_cast<Index>(j));
  }
  // Each non-empty row of A scans all of B's columns: equal work per non-empty row.
  std::vector<int64_t> work(u(a.rows), 0);
  for (int64_t i = 0; i < a.rows; ++i) work[u(i)] = a.row_nnz(i) > 0 ? 1024 : 0;
  const int parts = static_cast<int>(std::clamp<int64_t>(threads, 1, std::max<int64_t>(a.rows, 1)));
  const std::vector<int64_t> bounds = partition_rows(work, parts);
  Csr<T> c = empty_csr<T>(a.rows, b.cols);
  std::vector<Bytes> used(u(parts));
  run_parallel(bounds, [&](int64_t lo, int64_t hi, size_t part) {
    InnerRows<T> k(a, bt, nonempty);
    for (int64_t i = lo; i < hi; ++i) c.row_ptr[u(i) + 1] = k.count(i);
    used[part] = k.bytes();
  });
  for (int64_t i = 0; i < a.rows; ++i) c.row_ptr[u(i) + 1] += c.row_ptr[u(i)];
  c.col.resize(u(c.row_ptr.back()));
  c.val.resize(u(c.row_ptr.back()));
  run_parallel(bounds, [&](int64_t lo, int64_t hi, size_t) {
    InnerRows<T> k(a, bt, nonempty);
    for (int64_t i = lo; i < hi; ++i) k.fill(i, c.col.data() + c.row_ptr[u(i)], c.val.data() + c.row_ptr[u(i)]);
  });
  Bytes total = csr_bytes<T>(bt.cols, bt.nnz()) + B(static_cast<int64_t>(nonempty.capacity() * sizeof(Index)) +
                                                     static_cast<int64_t>(work.capacity() * sizeof(int64_t)));
  for (Bytes x : used) total = total + x;
  stats.workspace = total;
  return c;
}

template <class T>
void outer_numeric(const Csr<T>& a, const Csr<T>& b, const std::vector<int64_t>& products,
                   const std::vector<int64_t>& bounds, Csr<T>& c, SpgemmStats& stats) {
  const Csc<T> at = to_csc(a);
  std::vector<Bytes> used(bounds.size() - 1);
  run_parallel(bounds, [&](int64_t lo, int64_t hi, size_t part) {
    // cursor[k]: the first entry of A(:,k) at or below the current panel's first row.
    std::vector<Offset> cursor(u(a.cols), 0);
    for (int64_t k = 0; k < a.cols; ++k) {
      const auto first = at.row.begin() + at.col_ptr[u(k)];
      const auto last = at.row.begin() + at.col_ptr[u(k) + 1];
      cursor[u(k)] = std::lower_bound(first, last, static_cast<Index>(lo)) - at.row.begin();
    }
    std::vector<std::pair<Index, T>> partial;
    std::vector<int64_t> fill;
    int64_t r0 = lo;
    while (r0 < hi) {
      int64_t r1 = r0;
      int64_t work = 0;
      while (r1 < hi && (r1 == r0 || work + products[u(r1)] <= kOuterPanelProducts)) work += products[u(r1++)];
      partial.resize(u(work));
      fill.assign(u(r1 - r0) + 1, 0);
      for (int64_t i = r0; i < r1; ++i) fill[u(i - r0) + 1] = fill[u(i - r0)] + products[u(i)];
      // Outer products in increasing k: row i's partial products land in k order.
      for (int64_t k = 0; k < a.cols; ++k) {
        Offset& p = cursor[u(k)];
        const Offset end = at.col_ptr[u(k) + 1];
        if (p == end || at.row[u(p)] >= r1) continue;
        const Offset q0 = b.row_ptr[u(k)];
        const Offset q1 = b.row_ptr[u(k) + 1];
        for (; p < end && at.row[u(p)] < r1; ++p) {
          const T av = at.val[u(p)];
          int64_t& f = fill[u(at.row[u(p)] - r0)];
          for (Offset q = q0; q < q1; ++q) partial[u(f++)] = {b.col[u(q)], av * b.val[u(q)]};
        }
      }
      // Merge each row's partial products: a stable sort by column keeps k order within a column.
      int64_t start = 0;
      for (int64_t i = r0; i < r1; ++i) {
        const auto first = partial.begin() + start;
        const auto last = partial.begin() + start + products[u(i)];
        std::stable_sort(first, last, [](const auto& x, const auto& y) { return x.first < y.first; });
        Offset out = c.row_ptr[u(i)] - 1;
        for (auto it = first; it != last; ++it) {
          if (it != first && it->first == (it - 1)->first) {
            c.val[u(out)] += it->second;
          } else {
            ++out;
            c.col[u(out)] = it->first;
            c.val[u(out)] = it->second;
          }
        }
        start += products[u(i)];
      }
      r0 = r1;
    }
    used[part] = B(static_cast<int64_t>(cursor.capacity() * sizeof(Offset) +
                                        partial.capacity() * sizeof(std::pair<Index, T>) +
                                        fill.capacity() * sizeof(int64_t)));
  });
  stats.workspace = csr_bytes<T>(at.cols, at.nnz());
  for (Bytes x : used) stats.workspace = stats.workspace + x;
}

#define MLSYS_DATAFLOWS_INSTANTIATE(T)                                                                   \
  template Csr<T> inner_product<T>(const Csr<T>&, const Csr<T>&, int, SpgemmStats&);                  \
  template void outer_numeric<T>(const Csr<T>&, const Csr<T>&, const std::vector<int64_t>&,           \
                                 const std::vector<int64_t>&, Csr<T>&, SpgemmStats&);
MLSYS_DATAFLOWS_INSTANTIATE(double)
MLSYS_DATAFLOWS_INSTANTIATE(float)
#undef MLSYS_DATAFLOWS_INSTANTIATE

}  // namespace mlsys::sparse::internal
