// Sparse matrix product C = A·B over plus-times, with a symbolic phase (nnz per row of C) and a
// numeric phase, sorted output, and std::thread parallelism balanced by multiplications. Row-wise
// (Gustavson: dense or hash accumulator, heap merge), inner-product, outer-product and ACES-style
// kernels (row bands, per-band condensing chosen by sampling); `kAuto` picks one per product.
//
//   MLSYS_ASSIGN_OR_RETURN(sparse::Csr<double> c,
//                          sparse::spgemm(a, b, {.algo = sparse::SpgemmAlgo::kHash, .threads = 2}));
//   int64_t mults = sparse::multiplications(a, b);   // 2 * mults / time = GFLOPS
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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
  kInner,      // inner product (dot): C(i,j) = A(i,:)·B(:,j) on CSR x CSC, O(rows x cols) pairs
  kOuter,      // outer product: C = sum_k A(:,k)·B(k,:), partial products merged per row panel
  kAces,       // ACES: row bands, per-band condensing degree chosen by sampling (spgemm_aces.cpp)
  kAuto,       // choose_spgemm_algo's pick for the inputs
};

/// ACES's condensing degree for a band of A's rows (research notes §1.2).
enum class Condensing {
  kNone,        // A's entries of a tile of rows issued column by column: each B row read once per tile
  kModerate,    // A's columns split in two halves, column order within each half
  kAggressive,  // row after row (one accumulator live): no tile-wide state
};
std::string_view to_string(Condensing degree);

std::string_view to_string(SpgemmAlgo algo);
/// "reference", "spa", "hash", "heap", "inner", "outer", "aces" or "auto".
Result<SpgemmAlgo> parse_spgemm_algo(std::string_view name);

struct SpgemmOptions {
  SpgemmAlgo algo = SpgemmAlgo::kHash;
  int threads = 1;  // >= 1; rows split into ranges of equal multiplications (kAuto: <= 1 per 200k)
  /// Refuse (kUnsupported, with the estimate) when the upper bound of C's bytes plus the
  /// kernel's workspace exceeds this.
  std::optional<Bytes> max_output_bytes;
  /// kAces only: force one condensing degree in every band instead of sampling (ablation).
  std::optional<Condensing> aces_degree;
};

/// What a run did, for reports: the kernel that ran and its own allocations.
struct SpgemmStats {
  SpgemmAlgo algo = SpgemmAlgo::kHash;  // the kernel that ran (kAuto resolved)
  /// Peak bytes of the kernel's own allocations besides C: per-thread accumulators, row
  /// counts, partition and panel buffers, counted from their sizes when they are largest.
  Bytes workspace;
  int64_t bands = 0;                      // kAces: row bands
  int64_t band_degree[3] = {0, 0, 0};     // kAces: rows run with none / moderate / aggressive
};

/// The kernel kAuto runs for A·B and why. Rule (GraphBLAS saxpy3-style, by flops and row
/// density): fewer than 2 products per row → kSpa; a dense accumulator of B.cols stamps and
/// values that fits 1 MiB (a core's L2) → kSpa; otherwise kAces, whose rows choose a dense or a
/// hash accumulator by GraphBLAS's B.cols/12 rule. kAuto also uses at most one thread per
/// 200,000 multiplications (as GraphBLAS runs small products on one thread).
struct AlgoChoice {
  SpgemmAlgo algo;
  std::string reason;
};
template <class T>
AlgoChoice choose_spgemm_algo(const Csr<T>& a, const Csr<T>& b);

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
template <class T>
Bytes csr_bytes(const Csr<T>& m) {
  return csr_bytes<T>(m.rows, m.nnz());
}

/// Upper bound of the workspace `algo` allocates for A·B at `threads` threads (the refusal
/// before allocating adds it to C's upper bound).
template <class T>
Bytes spgemm_workspace_bound(const Csr<T>& a, const Csr<T>& b, SpgemmAlgo algo, int threads);

/// C = A·B. Every entry that receives at least one product is a structural entry of C, even
/// when its sum is zero (GraphBLAS's convention; explicit zeros of A and B take part). For every
/// algorithm and thread count, each C(i,j) sums its products in the order of A's row i (then
/// B's row), so all algorithms give bit-identical results.
/// kInvalidInput when A.cols != B.rows; kUnsupported when max_output_bytes is exceeded.
template <class T>
Result<Csr<T>> spgemm(const Csr<T>& a, const Csr<T>& b, const SpgemmOptions& options = {});
/// The same, also filling `stats` (not null).
template <class T>
Result<Csr<T>> spgemm(const Csr<T>& a, const Csr<T>& b, const SpgemmOptions& options, SpgemmStats* stats);

}  // namespace mlsys::sparse
