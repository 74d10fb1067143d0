// Adapters for the SpGEMM peers a user would otherwise pick: SuiteSparse:GraphBLAS (GrB_mxm with
// the plus-times f64 semiring) and Eigen 3.4 (conservative sparse·sparse product). The inputs are
// converted once in make_peer (not timed); multiply() is the part to time.
//
//   MLSYS_ASSIGN_OR_RETURN(auto peer, sparse::make_peer(sparse::PeerKind::kGraphBlas, a, b, 2));
//   MLSYS_RETURN_IF_ERROR(peer->multiply());          // C = A·B, materialised and sorted
//   MLSYS_ASSIGN_OR_RETURN(sparse::Csr<double> c, peer->result());
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mlsys/core/result.h"
#include "mlsys/sparse/matrix.h"

namespace mlsys::sparse {

enum class PeerKind { kGraphBlas, kEigen };

std::string_view to_string(PeerKind kind);
/// "graphblas" or "eigen".
Result<PeerKind> parse_peer(std::string_view name);
/// Library and version, e.g. "SuiteSparse:GraphBLAS 7.4.0" or "Eigen 3.4.0".
std::string peer_version(PeerKind kind);

/// One prepared product C = A·B in a peer library's own formats.
class PeerProduct {
 public:
  virtual ~PeerProduct() = default;
  /// Computes C = A·B (replacing any previous C). GraphBLAS: GrB_mxm then
  /// GrB_Matrix_wait(MATERIALIZE), so the work a sorted-output kernel does is all counted.
  virtual Status multiply() = 0;
  /// C of the last multiply() as CSR with sorted rows (kInternal before any multiply()).
  virtual Result<Csr<double>> result() const = 0;
};

/// Converts A and B for the peer. `threads` >= 1 is the peer's thread count (GraphBLAS's
/// GxB_NTHREADS; Eigen's sparse product is single-threaded and ignores it).
/// kInvalidInput when A.cols != B.rows or threads < 1.
Result<std::unique_ptr<PeerProduct>> make_peer(PeerKind kind, const Csr<double>& a, const Csr<double>& b, int threads);

}  // namespace mlsys::sparse
