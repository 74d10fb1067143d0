// Sparse matrix product C = A·B over plus-times, with a symbolic phase (nnz per row of C) and a
// numeric phase, sorted output, and std::thread parallelism balanced by multiplications.
//
//   MLSYS_ASSIGN_OR_RETURN(sparse::Csr<double> c,
//                          sparse::spgemm(a, b, {.algo = sparse::SpgemmAlgo::kHash, .threads = 2}));
//   int64_t mults = sparse::multiplications(a, b);   // 2 * mults / time = GFLOPS
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/sparse/matrix.h"

namespace mlsys::sparse {

enum class SpgemmAlgo {
  kReference,  // per row: all products, stable sort by column, sum runs (simple, obviously right)
  kSpa,        // Gustavson with a dense accumulator (one slot per column of B)
  kHash,       // Gustavson with an open-addressing hash accumulator sized by the row's products
  kHeap,       // k-way merge of the scaled B rows with a binary heap
};

std::string_view to_string(SpgemmAlgo algo);
/// "reference", "spa", "hash" or "heap".
Result<SpgemmAlgo> parse_spgemm_algo(std::string_view name);

struct SpgemmOptions {
  SpgemmAlgo algo = SpgemmAlgo::kHash;
  int threads = 1;  // >= 1; rows are split into contiguous ranges of equal multiplications
  /// Refuse (kUnsupported, with the estimate) when the upper bound of C's bytes exceeds this.
  std::optional<Bytes> max_output_bytes;
};

/// Scalar multiplications of A·B: the sum over A's entries a_ik of nnz(B(k,:)). Also the
/// size of the symbolic phase's work. Requires A.cols == B.rows.
template <class T>
int64_t multiplications(const Csr<T>& a, const Csr<T>& b);

/// An upper bound of nnz(C): the sum over rows i of min(products of row i, B.cols).
template <class T>
int64_t nnz_upper_bound(const Csr<T>& a, const Csr<T>& b);

/// Bytes of a CSR with `rows` rows and `nnz` entries of T.
template <class T>
Bytes csr_bytes(int64_t rows, int64_t nnz);

/// C = A·B. Every entry that receives at least one product is a structural entry of C, even
/// when its sum is zero (GraphBLAS's convention; explicit zeros of A and B take part). For every
/// algorithm and thread count, each C(i,j) sums its products in the order of A's row i (then
/// B's row), so all algorithms give bit-identical results.
/// kInvalidInput when A.cols != B.rows; kUnsupported when max_output_bytes is exceeded.
template <class T>
Result<Csr<T>> spgemm(const Csr<T>& a, const Csr<T>& b, const SpgemmOptions& options = {});

}  // namespace mlsys::sparse
