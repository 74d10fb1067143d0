#include "mlsys/sparse/matrix.h"

#include <algorithm>
#include <numeric>

#include "mlsys/core/check.h"

namespace mlsys::sparse {

template <class T>
Csr<T> empty_csr(int64_t rows, int64_t cols) {
  Csr<T> out;
  out.rows = rows;
  out.cols = cols;
  out.row_ptr.assign(static_cast<size_t>(rows) + 1, 0);
  return out;
}

template <class T>
Csr<T> to_csr(const Coo<T>& a) {
  MLSYS_CHECK(a.row.size() == a.val.size() && a.col.size() == a.val.size());
  // Counting sort by row, then a stable sort of each row by column keeps duplicates in input
  // order, so their sum is the same left-to-right sum on every run.
  const size_t n = a.val.size();
  std::vector<Offset> count(static_cast<size_t>(a.rows) + 1, 0);
  for (size_t e = 0; e < n; ++e) {
    MLSYS_CHECK(a.row[e] >= 0 && a.row[e] < a.rows && a.col[e] >= 0 && a.col[e] < a.cols);
    ++count[static_cast<size_t>(a.row[e]) + 1];
  }
  std::partial_sum(count.begin(), count.end(), count.begin());
  std::vector<size_t> order(n);
  std::vector<Offset> next(count.begin(), count.end() - 1);
  for (size_t e = 0; e < n; ++e) order[static_cast<size_t>(next[static_cast<size_t>(a.row[e])]++)] = e;

  Csr<T> out = empty_csr<T>(a.rows, a.cols);
  out.col.reserve(n);
  out.val.reserve(n);
  for (int64_t i = 0; i < a.rows; ++i) {
    auto first = order.begin() + count[static_cast<size_t>(i)];
    auto last = order.begin() + count[static_cast<size_t>(i) + 1];
    std::stable_sort(first, last, [&](size_t x, size_t y) { return a.col[x] < a.col[y]; });
    for (auto it = first; it != last; ++it) {
      const Index c = a.col[*it];
      if (it != first && c == out.col.back()) {
        out.val.back() += a.val[*it];
      } else {
        out.col.push_back(c);
        out.val.push_back(a.val[*it]);
      }
    }
    out.row_ptr[static_cast<size_t>(i) + 1] = static_cast<Offset>(out.val.size());
  }
  return out;
}

template <class T>
Coo<T> to_coo(const Csr<T>& a) {
  Coo<T> out{.rows = a.rows, .cols = a.cols, .row = {}, .col = a.col, .val = a.val};
  out.row.resize(a.val.size());
  for (int64_t i = 0; i < a.rows; ++i) {
    for (Offset p = a.row_ptr[i]; p < a.row_ptr[i + 1]; ++p) out.row[static_cast<size_t>(p)] = static_cast<Index>(i);
  }
  return out;
}

template <class T>
Csr<T> transpose(const Csr<T>& a) {
  Csr<T> out = empty_csr<T>(a.cols, a.rows);
  for (const Index c : a.col) ++out.row_ptr[static_cast<size_t>(c) + 1];
  std::partial_sum(out.row_ptr.begin(), out.row_ptr.end(), out.row_ptr.begin());
  out.col.resize(a.col.size());
  out.val.resize(a.val.size());
  std::vector<Offset> next(out.row_ptr.begin(), out.row_ptr.end() - 1);
  // Visiting rows in increasing order writes each output row's columns already sorted.
  for (int64_t i = 0; i < a.rows; ++i) {
    for (Offset p = a.row_ptr[i]; p < a.row_ptr[i + 1]; ++p) {
      const Offset q = next[static_cast<size_t>(a.col[static_cast<size_t>(p)])]++;
      out.col[static_cast<size_t>(q)] = static_cast<Index>(i);
      out.val[static_cast<size_t>(q)] = a.val[static_cast<size_t>(p)];
    }
  }
  return out;
}

template <class T>
Csc<T> to_csc(const Csr<T>& a) {
  Csr<T> t = transpose(a);
  return Csc<T>{.rows = a.rows, .cols = a.cols, .col_ptr = std::move(t.row_ptr), .row = std::move(t.col),
                .val = std::move(t.val)};
}

template <class T>
Csr<T> to_csr(const Csc<T>& a) {
  const Csr<T> t{.rows = a.cols, .cols = a.rows, .row_ptr = a.col_ptr, .col = a.row, .val = a.val};
  return transpose(t);
}

template <class T>
bool valid(const Csr<T>& a) {
  if (a.rows < 0 || a.cols < 0 || a.rows > kMaxDimension || a.cols > kMaxDimension) return false;
  if (a.row_ptr.size() != static_cast<size_t>(a.rows) + 1 || a.col.size() != a.val.size()) return false;
  if (a.row_ptr.front() != 0 || a.row_ptr.back() != a.nnz()) return false;
  for (int64_t i = 0; i < a.rows; ++i) {
    if (a.row_ptr[i + 1] < a.row_ptr[i]) return false;
    for (Offset p = a.row_ptr[i]; p < a.row_ptr[i + 1]; ++p) {
      const Index c = a.col[static_cast<size_t>(p)];
      if (c < 0 || c >= a.cols) return false;
      if (p > a.row_ptr[i] && a.col[static_cast<size_t>(p) - 1] >= c) return false;
    }
  }
  return true;
}

#define MLSYS_SPARSE_INSTANTIATE(T)                 \
  template Csr<T> empty_csr<T>(int64_t, int64_t);   \
  template Csr<T> to_csr<T>(const Coo<T>&);         \
  template Coo<T> to_coo<T>(const Csr<T>&);         \
  template Csc<T> to_csc<T>(const Csr<T>&);         \
  template Csr<T> to_csr<T>(const Csc<T>&);         \
  template Csr<T> transpose<T>(const Csr<T>&);      \
  template bool valid<T>(const Csr<T>&);
MLSYS_SPARSE_INSTANTIATE(double)
MLSYS_SPARSE_INSTANTIATE(float)
#undef MLSYS_SPARSE_INSTANTIATE

}  // namespace mlsys::sparse
