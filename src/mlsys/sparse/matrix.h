// Sparse matrix formats: COO (triplets, any order, duplicates allowed), CSR and CSC (sorted,
// duplicate-free), conversions between them, transpose and value-type casts.
//
//   sparse::Coo<double> coo{.rows = 2, .cols = 2, .row = {0, 1}, .col = {1, 0}, .val = {3, 4}};
//   sparse::Csr<double> a = sparse::to_csr(coo);        // duplicates summed, columns sorted
//   sparse::Csr<double> at = sparse::transpose(a);
#pragma once

#include <cstdint>
#include <vector>

namespace mlsys::sparse {

/// Row and column indices are 32-bit (dimensions up to 2^31 - 1, more than every matrix in the
/// SuiteSparse collection's SpGEMM sets); positions into the entry arrays are 64-bit, because
/// nnz(C) of a product can exceed 2^31 long before a dimension does. See README.md.
using Index = int32_t;
using Offset = int64_t;
inline constexpr int64_t kMaxDimension = 2147483647;

/// Triplets in any order; duplicates allowed (to_csr sums them). Explicit zeros are entries.
template <class T>
struct Coo {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<Index> row;
  std::vector<Index> col;
  std::vector<T> val;

  int64_t nnz() const { return static_cast<int64_t>(val.size()); }
};

/// Compressed sparse rows. Invariants (checked by valid()): row_ptr has rows + 1 non-decreasing
/// offsets from 0 to nnz; within a row, column indices are strictly increasing and < cols.
template <class T>
struct Csr {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<Offset> row_ptr{0};
  std::vector<Index> col;
  std::vector<T> val;

  int64_t nnz() const { return static_cast<int64_t>(val.size()); }
  int64_t row_nnz(int64_t i) const { return row_ptr[i + 1] - row_ptr[i]; }
  bool operator==(const Csr&) const = default;
};

/// Compressed sparse columns: the CSR of the transpose, with the same invariants per column.
template <class T>
struct Csc {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<Offset> col_ptr{0};
  std::vector<Index> row;
  std::vector<T> val;

  int64_t nnz() const { return static_cast<int64_t>(val.size()); }
  bool operator==(const Csc&) const = default;
};

/// An empty rows x cols CSR.
template <class T>
Csr<T> empty_csr(int64_t rows, int64_t cols);

/// Sorts by (row, col) and sums duplicates in their input order (the first occurrence's
/// position, values added left to right). A sum that is zero stays an entry.
template <class T>
Csr<T> to_csr(const Coo<T>& a);
/// Triplets in row-major order.
template <class T>
Coo<T> to_coo(const Csr<T>& a);
template <class T>
Csc<T> to_csc(const Csr<T>& a);
template <class T>
Csr<T> to_csr(const Csc<T>& a);
/// Aᵀ as CSR, in O(nnz + rows + cols).
template <class T>
Csr<T> transpose(const Csr<T>& a);

/// The same structure with values converted to U.
template <class U, class T>
Csr<U> cast_values(const Csr<T>& a) {
  Csr<U> out{.rows = a.rows, .cols = a.cols, .row_ptr = a.row_ptr, .col = a.col, .val = {}};
  out.val.assign(a.val.begin(), a.val.end());
  return out;
}

/// True when the CSR invariants above hold.
template <class T>
bool valid(const Csr<T>& a);

}  // namespace mlsys::sparse
