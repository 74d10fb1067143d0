#include "mlsys/sparse/peers/spgemm_peers.h"

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <numeric>
#include <utility>
#include <vector>

// GraphBLAS 7.4's header has no extern "C" guard of its own.
extern "C" {
#include <GraphBLAS.h>
}
#include <Eigen/SparseCore>

namespace mlsys::sparse {
namespace {

size_t u(int64_t v) { return static_cast<size_t>(v); }

Error graphblas_error(const char* what, GrB_Info info) {
  return Error(ErrorCode::kInternal, std::string("GraphBLAS ") + what + " failed with GrB_Info " + std::to_string(info));
}

// GrB_init may run once per process; the library keeps global state after it.
Status graphblas_init() {
  static std::once_flag once;
  static GrB_Info info = GrB_SUCCESS;
  std::call_once(once, [] { info = GrB_init(GrB_NONBLOCKING); });
  if (info != GrB_SUCCESS) return graphblas_error("GrB_init", info);
  return {};
}

Result<GrB_Matrix> to_graphblas(const Csr<double>& m) {
  std::vector<GrB_Index> ptr(m.row_ptr.begin(), m.row_ptr.end());
  std::vector<GrB_Index> idx(m.col.begin(), m.col.end());
  GrB_Matrix out = nullptr;
  // GraphBLAS copies the arrays on import; an empty matrix still needs non-null pointers.
  const double zero = 0.0;
  const GrB_Index one = 0;
  const GrB_Info info = GrB_Matrix_import_FP64(
      &out, GrB_FP64, static_cast<GrB_Index>(m.rows), static_cast<GrB_Index>(m.cols), ptr.data(),
      idx.empty() ? &one : idx.data(), m.val.empty() ? &zero : m.val.data(), ptr.size(), idx.size(), m.val.size(),
      GrB_CSR_FORMAT);
  if (info != GrB_SUCCESS) return graphblas_error("GrB_Matrix_import_FP64", info);
  return out;
}

void sort_rows(Csr<double>& c) {
  std::vector<std::pair<Index, double>> row;
  for (int64_t i = 0; i < c.rows; ++i) {
    const auto lo = u(c.row_ptr[u(i)]);
    const auto hi = u(c.row_ptr[u(i) + 1]);
    if (std::is_sorted(c.col.begin() + static_cast<std::ptrdiff_t>(lo), c.col.begin() + static_cast<std::ptrdiff_t>(hi))) continue;
    row.clear();
    for (size_t e = lo; e < hi; ++e) row.emplace_back(c.col[e], c.val[e]);
    std::sort(row.begin(), row.end());
    for (size_t e = lo; e < hi; ++e) std::tie(c.col[e], c.val[e]) = row[e - lo];
  }
}

class GraphBlasProduct final : public PeerProduct {
 public:
  GraphBlasProduct(GrB_Matrix a, GrB_Matrix b, int64_t rows, int64_t cols) : a_(a), b_(b), rows_(rows), cols_(cols) {}
  ~GraphBlasProduct() override {
    GrB_Matrix_free(&c_);
    GrB_Matrix_free(&b_);
    GrB_Matrix_free(&a_);
  }
  GraphBlasProduct(const GraphBlasProduct&) = delete;
  GraphBlasProduct& operator=(const GraphBlasProduct&) = delete;

  Status multiply() override {
    GrB_Matrix_free(&c_);
    GrB_Info info = GrB_Matrix_new(&c_, GrB_FP64, static_cast<GrB_Index>(rows_), static_cast<GrB_Index>(cols_));
    if (info != GrB_SUCCESS) return graphblas_error("GrB_Matrix_new", info);
    info = GrB_mxm(c_, nullptr, nullptr, GrB_PLUS_TIMES_SEMIRING_FP64, a_, b_, nullptr);
    if (info != GrB_SUCCESS) return graphblas_error("GrB_mxm", info);
    info = GrB_Matrix_wait(c_, GrB_MATERIALIZE);
    if (info != GrB_SUCCESS) return graphblas_error("GrB_Matrix_wait", info);
    return {};
  }

  Result<Csr<double>> result() const override {
    if (c_ == nullptr) return Error(ErrorCode::kInternal, "GraphBLAS result() before multiply()");
    // Export works on a copy: GrB_Matrix_export leaves its input intact.
    GrB_Index np = 0;
    GrB_Index ni = 0;
    GrB_Index nx = 0;
    GrB_Info info = GrB_Matrix_exportSize(&np, &ni, &nx, GrB_CSR_FORMAT, c_);
    if (info != GrB_SUCCESS) return graphblas_error("GrB_Matrix_exportSize", info);
    std::vector<GrB_Index> ptr(std::max<GrB_Index>(np, 1));
    std::vector<GrB_Index> idx(std::max<GrB_Index>(ni, 1));
    std::vector<double> val(std::max<GrB_Index>(nx, 1));
    info = GrB_Matrix_export_FP64(ptr.data(), idx.data(), val.data(), &np, &ni, &nx, GrB_CSR_FORMAT, c_);
    if (info != GrB_SUCCESS) return graphblas_error("GrB_Matrix_export_FP64", info);
    Csr<double> c = empty_csr<double>(rows_, cols_);
    const auto nnz = static_cast<size_t>(ptr[u(rows_)]);
    for (int64_t i = 0; i <= rows_; ++i) c.row_ptr[u(i)] = static_cast<Offset>(ptr[u(i)]);
    c.col.assign(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(nnz));
    c.val.assign(val.begin(), val.begin() + static_cast<std::ptrdiff_t>(nnz));
    sort_rows(c);
    return c;
  }

 private:
  GrB_Matrix a_ = nullptr;
  GrB_Matrix b_ = nullptr;
  GrB_Matrix c_ = nullptr;
  int64_t rows_ = 0;
  int64_t cols_ = 0;
};

using EigenCsr = Eigen::SparseMatrix<double, Eigen::RowMajor, int64_t>;

EigenCsr to_eigen(const Csr<double>& m) {
  EigenCsr out(m.rows, m.cols);
  std::vector<Eigen::Triplet<double, int64_t>> triplets;
  triplets.reserve(u(m.nnz()));
  for (int64_t i = 0; i < m.rows; ++i) {
    for (Offset p = m.row_ptr[u(i)]; p < m.row_ptr[u(i) + 1]; ++p) triplets.emplace_back(i, m.col[u(p)], m.val[u(p)]);
  }
  out.setFromTriplets(triplets.begin(), triplets.end());
  out.makeCompressed();
  return out;
}

class EigenProduct final : public PeerProduct {
 public:
  EigenProduct(EigenCsr a, EigenCsr b) : a_(std::move(a)), b_(std::move(b)) {}

  Status multiply() override {
    // The default sparse·sparse product is Eigen's conservative one: no pruning, so explicit
    // and cancelled zeros stay entries, as in our kernels.
    c_ = a_ * b_;
    c_.makeCompressed();
    done_ = true;
    return {};
  }

  Result<Csr<double>> result() const override {
    if (!done_) return Error(ErrorCode::kInternal, "Eigen result() before multiply()");
    Csr<double> c = empty_csr<double>(c_.rows(), c_.cols());
    for (int64_t i = 0; i < c_.rows(); ++i) {
      for (EigenCsr::InnerIterator it(c_, i); it; ++it) {
        c.col.push_back(static_cast<Index>(it.col()));
        c.val.push_back(it.value());
      }
      c.row_ptr[u(i) + 1] = c.nnz();
    }
    sort_rows(c);
    return c;
  }

 private:
  EigenCsr a_;
  EigenCsr b_;
  EigenCsr c_;
  bool done_ = false;
};

}  // namespace

std::string_view to_string(PeerKind kind) { return kind == PeerKind::kGraphBlas ? "graphblas" : "eigen"; }

Result<PeerKind> parse_peer(std::string_view name) {
  if (name == "graphblas") return PeerKind::kGraphBlas;
  if (name == "eigen") return PeerKind::kEigen;
  return invalid_input("unknown SpGEMM peer '" + std::string(name) + "'", "graphblas or eigen");
}

std::string peer_version(PeerKind kind) {
  if (kind == PeerKind::kGraphBlas) {
    return std::string(GxB_IMPLEMENTATION_NAME) + " " + std::to_string(GxB_IMPLEMENTATION_MAJOR) + "." +
           std::to_string(GxB_IMPLEMENTATION_MINOR) + "." + std::to_string(GxB_IMPLEMENTATION_SUB);
  }
  return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION);
}

Result<std::unique_ptr<PeerProduct>> make_peer(PeerKind kind, const Csr<double>& a, const Csr<double>& b, int threads) {
  if (a.cols != b.rows) {
    return invalid_input("inner dimensions differ: A is " + std::to_string(a.rows) + " x " + std::to_string(a.cols) +
                         ", B is " + std::to_string(b.rows) + " x " + std::to_string(b.cols));
  }
  if (threads < 1) return invalid_input("threads must be >= 1, got " + std::to_string(threads));
  if (kind == PeerKind::kEigen) return std::unique_ptr<PeerProduct>(std::make_unique<EigenProduct>(to_eigen(a), to_eigen(b)));
  MLSYS_RETURN_IF_ERROR(graphblas_init());
  const GrB_Info info = GxB_Global_Option_set(static_cast<GxB_Option_Field>(GxB_NTHREADS), threads);
  if (info != GrB_SUCCESS) return graphblas_error("GxB_Global_Option_set(GxB_NTHREADS)", info);
  MLSYS_ASSIGN_OR_RETURN(GrB_Matrix ga, to_graphblas(a));
  Result<GrB_Matrix> gb = to_graphblas(b);
  if (!gb) {
    GrB_Matrix_free(&ga);
    return gb.error();
  }
  return std::unique_ptr<PeerProduct>(std::make_unique<GraphBlasProduct>(ga, *gb, a.rows, b.cols));
}

}  // namespace mlsys::sparse
