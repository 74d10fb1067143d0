#include "mlsys/sparse/spgemm.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "mlsys/core/check.h"
#include "mlsys/sparse/internal/spgemm_kernels.h"

namespace mlsys::sparse {

namespace internal {

std::vector<int64_t> partition_rows(const std::vector<int64_t>& products, int parts) {
  const int64_t rows = static_cast<int64_t>(products.size());
  std::vector<int64_t> prefix(u(rows) + 1, 0);
  for (int64_t i = 0; i < rows; ++i) prefix[u(i) + 1] = prefix[u(i)] + products[u(i)] + 1;
  std::vector<int64_t> bounds(static_cast<size_t>(parts) + 1, rows);
  bounds[0] = 0;
  for (int t = 1; t < parts; ++t) {
    const int64_t target = prefix.back() / parts * t + prefix.back() % parts * t / parts;
    const auto ti = static_cast<size_t>(t);
    bounds[ti] = std::lower_bound(prefix.begin(), prefix.end(), target) - prefix.begin();
    bounds[ti] = std::clamp(bounds[ti], bounds[ti - 1], rows);
  }
  return bounds;
}

}  // namespace internal

namespace {

using internal::u;

constexpr int64_t kL2Bytes = int64_t{1} << 20;
// Below this many multiplications per thread, starting a thread costs more than it saves.
constexpr int64_t kMinProductsPerThread = 200000;

// ---- heap merge ----
template <class T>
struct HeapKernel {
  struct Cursor {
    Index col;
    Offset apos;  // position in A: ties pop in A's order, fixing the summation order
    Offset bpos;
    Offset bend;
  };
  static bool later(const Cursor& x, const Cursor& y) { return x.col != y.col ? x.col > y.col : x.apos > y.apos; }

  const Csr<T>& a;
  const Csr<T>& b;
  std::vector<Cursor> heap;

  HeapKernel(const Csr<T>& a_, const Csr<T>& b_) : a(a_), b(b_) {}
  Bytes bytes() const { return B(static_cast<int64_t>(heap.capacity() * sizeof(Cursor))); }
  int64_t count(int64_t i, int64_t) { return count(i); }
  void fill(int64_t i, int64_t, int64_t, Index* out_col, T* out_val) { fill(i, out_col, out_val); }

  void start(int64_t i) {
    heap.clear();
    for (Offset p = a.row_ptr[u(i)]; p < a.row_ptr[u(i) + 1]; ++p) {
      const Index k = a.col[u(p)];
      const Offset q = b.row_ptr[u(k)];
      const Offset end = b.row_ptr[u(k) + 1];
      if (q < end) heap.push_back({b.col[u(q)], p, q, end});
    }
    std::make_heap(heap.begin(), heap.end(), later);
  }

  // Restores the heap property below the root after the root's key grew (one sift-down
  // instead of a pop and a push).
  void sift_down() {
    const size_t n = heap.size();
    size_t i = 0;
    const Cursor moving = heap[0];
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && later(heap[child], heap[child + 1])) ++child;
      if (!later(moving, heap[child])) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = moving;
  }

  // Visits the products in (column, position in A) order: emit(col, apos, bpos).
  template <class Emit>
  void drain(Emit&& emit) {
    while (!heap.empty()) {
      Cursor& c = heap.front();
      emit(c.col, c.apos, c.bpos);
      if (++c.bpos < c.bend) {
        c.col = b.col[u(c.bpos)];
      } else {
        c = heap.back();
        heap.pop_back();
        if (heap.empty()) break;
      }
      sift_down();
    }
  }

  int64_t count(int64_t i) {
    start(i);
    int64_t n = 0;
    Index last = -1;
    drain([&](Index j, Offset, Offset) {
      if (j != last) {
        ++n;
        last = j;
      }
    });
    return n;
  }

  void fill(int64_t i, Index* out_col, T* out_val) {
    start(i);
    int64_t n = -1;
    drain([&](Index j, Offset ap, Offset bp) {
      const T prod = a.val[u(ap)] * b.val[u(bp)];
      if (n >= 0 && out_col[n] == j) {
        out_val[n] += prod;
      } else {
        ++n;
        out_col[n] = j;
        out_val[n] = prod;
      }
    });
  }
};

// One engine per row range, built once and kept across both phases: its accumulator
// buffers are allocated (and zero-filled) once per product, not once per phase.
template <class Make>
auto make_engines(size_t parts, Make&& make) {
  std::vector<decltype(make())> engines;
  engines.reserve(parts);
  for (size_t t = 0; t < parts; ++t) engines.push_back(make());
  return engines;
}

// The symbolic phase of every row-wise kernel: nnz per row of C into c.row_ptr, then C's arrays.
template <class T, class Engine>
void symbolic(const Csr<T>& a, const std::vector<int64_t>& products, const std::vector<int64_t>& bounds,
              Csr<T>& c, std::vector<Engine>& engines) {
  internal::run_parallel(bounds, [&](int64_t lo, int64_t hi, size_t part) {
    Engine& k = engines[part];
    for (int64_t i = lo; i < hi; ++i) c.row_ptr[u(i) + 1] = k.count(i, products[u(i)]);
  });
  for (int64_t i = 0; i < a.rows; ++i) c.row_ptr[u(i) + 1] += c.row_ptr[u(i)];
  c.col.resize(u(c.row_ptr.back()));
  c.val.resize(u(c.row_ptr.back()));
}

template <class Engine>
Bytes engine_bytes(const std::vector<Engine>& engines) {
  Bytes total;
  for (const Engine& k : engines) total = total + k.bytes();
  return total;
}

// The symbolic phase alone, for kernels with their own numeric phase; returns its workspace.
template <class T, class Make>
Bytes symbolic_only(const Csr<T>& a, const std::vector<int64_t>& products, const std::vector<int64_t>& bounds,
                    Csr<T>& c, Make&& make) {
  auto engines = make_engines(bounds.size() - 1, make);
  symbolic(a, products, bounds, c, engines);
  return engine_bytes(engines);
}

// Symbolic then numeric with one accumulator kind per thread.
template <class T, class Make>
Bytes two_phase(const Csr<T>& a, const std::vector<int64_t>& products, const std::vector<int64_t>& bounds,
                Csr<T>& c, Make&& make) {
  auto engines = make_engines(bounds.size() - 1, make);
  symbolic(a, products, bounds, c, engines);
  internal::run_parallel(bounds, [&](int64_t lo, int64_t hi, size_t part) {
    auto& k = engines[part];
    for (int64_t i = lo; i < hi; ++i) {
      const Offset off = c.row_ptr[u(i)];
      k.fill(i, products[u(i)], c.row_ptr[u(i) + 1] - off, c.col.data() + off, c.val.data() + off);
    }
  });
  return engine_bytes(engines);
}

template <class T>
Csr<T> reference(const Csr<T>& a, const Csr<T>& b) {
  Csr<T> c = empty_csr<T>(a.rows, b.cols);
  std::vector<std::pair<Index, T>> products;
  for (int64_t i = 0; i < a.rows; ++i) {
    products.clear();
    for (Offset p = a.row_ptr[u(i)]; p < a.row_ptr[u(i) + 1]; ++p) {
      const Index k = a.col[u(p)];
      for (Offset q = b.row_ptr[u(k)]; q < b.row_ptr[u(k) + 1]; ++q) {
        products.emplace_back(b.col[u(q)], a.val[u(p)] * b.val[u(q)]);
      }
    }
    std::stable_sort(products.begin(), products.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (size_t e = 0; e < products.size(); ++e) {
      if (e > 0 && products[e].first == products[e - 1].first) {
        c.val.back() += products[e].second;
      } else {
        c.col.push_back(products[e].first);
        c.val.push_back(products[e].second);
      }
    }
    c.row_ptr[u(i) + 1] = c.nnz();
  }
  return c;
}

}  // namespace

std::string_view to_string(SpgemmAlgo algo) {
  switch (algo) {
    case SpgemmAlgo::kReference: return "reference";
    case SpgemmAlgo::kSpa: return "spa";
    case SpgemmAlgo::kHash: return "hash";
    case SpgemmAlgo::kHeap: return "heap";
    case SpgemmAlgo::kInner: return "inner";
    case SpgemmAlgo::kOuter: return "outer";
    case SpgemmAlgo::kAces: return "aces";
    case SpgemmAlgo::kAuto: return "auto";
  }
  return "?";
}

std::string_view to_string(Condensing degree) {
  switch (degree) {
    case Condensing::kNone: return "none";
    case Condensing::kModerate: return "moderate";
    case Condensing::kAggressive: return "aggressive";
  }
  return "?";
}

Result<SpgemmAlgo> parse_spgemm_algo(std::string_view name) {
  for (SpgemmAlgo a : {SpgemmAlgo::kReference, SpgemmAlgo::kSpa, SpgemmAlgo::kHash, SpgemmAlgo::kHeap,
                       SpgemmAlgo::kInner, SpgemmAlgo::kOuter, SpgemmAlgo::kAces, SpgemmAlgo::kAuto}) {
    if (name == to_string(a)) return a;
  }
  return invalid_input("unknown SpGEMM algorithm '" + std::string(name) + "'",
                       "reference, spa, hash, heap, inner, outer, aces or auto");
}

namespace {

// choose_spgemm_algo's rule given the product's multiplications (spgemm() already has them).
template <class T>
AlgoChoice choose_for(const Csr<T>& a, const Csr<T>& b, int64_t mults) {
  if (mults < 2 * std::max<int64_t>(a.rows, 1)) {
    return {SpgemmAlgo::kSpa, "fewer than 2 multiplications per row: nothing to band or sample"};
  }
  // A dense accumulator that fits a core's L2 (stamps + values of all B columns) beats banding.
  if (b.cols * static_cast<int64_t>(sizeof(int32_t) + sizeof(T)) <= kL2Bytes) {
    return {SpgemmAlgo::kSpa, "B.cols stamps and values fit in 1 MiB (L2): dense accumulator"};
  }
  return {SpgemmAlgo::kAces, "row bands with sampled condensing; dense or hash accumulator per row by B.cols/12"};
}

}  // namespace

template <class T>
AlgoChoice choose_spgemm_algo(const Csr<T>& a, const Csr<T>& b) {
  MLSYS_CHECK(a.cols == b.rows, "inner dimensions differ");
  return choose_for(a, b, multiplications(a, b));
}

template <class T>
int64_t multiplications(const Csr<T>& a, const Csr<T>& b) {
  MLSYS_CHECK(a.cols == b.rows, "inner dimensions differ");
  int64_t sum = 0;
  const Offset* bp = b.row_ptr.data();
  for (const Index k : a.col) sum += bp[k + 1] - bp[k];
  return sum;
}

template <class T>
int64_t nnz_upper_bound(const Csr<T>& a, const Csr<T>& b) {
  MLSYS_CHECK(a.cols == b.rows, "inner dimensions differ");
  int64_t sum = 0;
  for (const int64_t p : internal::row_products(a, b)) sum += std::min(p, b.cols);
  return sum;
}

template <class T>
Bytes csr_bytes(int64_t rows, int64_t nnz) {
  return B((rows + 1) * static_cast<int64_t>(sizeof(Offset)) + nnz * static_cast<int64_t>(sizeof(Index) + sizeof(T)));
}

template <class T>
Bytes spgemm_workspace_bound(const Csr<T>& a, const Csr<T>& b, SpgemmAlgo algo, int threads) {
  if (algo == SpgemmAlgo::kAuto) algo = choose_spgemm_algo(a, b).algo;
  const int64_t t = threads;
  const auto value = static_cast<int64_t>(sizeof(T));
  const auto index = static_cast<int64_t>(sizeof(Index));
  // Per-row products and bounds are shared by all kernels.
  const int64_t shared = 8 * (a.rows + 1) + 8 * (t + 1);
  int64_t max_row = 0;
  for (const int64_t p : internal::row_products(a, b)) max_row = std::max(max_row, std::min(p, b.cols));
  const int64_t table = 2 * static_cast<int64_t>(std::bit_ceil(static_cast<uint64_t>(std::max<int64_t>(1, max_row))));
  switch (algo) {
    case SpgemmAlgo::kReference: return B(shared + max_row * 16 + 16 * 64);
    case SpgemmAlgo::kSpa: return B(shared + t * ((b.cols + 64) * (5 + index + value) + 8 * max_row));
    case SpgemmAlgo::kHash: return B(shared + t * 2 * (table * (index + value) + 8 * max_row));
    case SpgemmAlgo::kHeap: {
      int64_t max_len = 0;
      for (int64_t i = 0; i < a.rows; ++i) max_len = std::max(max_len, a.row_nnz(i));
      return B(shared + t * max_len * 32);
    }
    case SpgemmAlgo::kInner:
      return csr_bytes<T>(b.cols, b.nnz()) + B(shared + 4 * b.cols + t * a.cols * 12);
    case SpgemmAlgo::kOuter:
      return csr_bytes<T>(a.cols, a.nnz()) +
             B(shared + t * ((b.cols + 64) * (5 + index + value) + (int64_t{1} << 20) * 16 + 8 * a.rows));
    case SpgemmAlgo::kAces:
    case SpgemmAlgo::kAuto:
      return B(shared + t * ((b.cols + 64) * (5 + index + value) +
                             2 * (4 * table * (index + value) + 8 * max_row) + 16 * 65536));
  }
  return B(shared);
}

template <class T>
Result<Csr<T>> spgemm(const Csr<T>& a, const Csr<T>& b, const SpgemmOptions& options, SpgemmStats* stats) {
  MLSYS_CHECK(stats != nullptr);
  if (a.cols != b.rows) {
    return invalid_input("inner dimensions differ: A is " + std::to_string(a.rows) + " x " + std::to_string(a.cols) +
                         ", B is " + std::to_string(b.rows) + " x " + std::to_string(b.cols));
  }
  if (options.threads < 1) return invalid_input("threads must be >= 1, got " + std::to_string(options.threads));
  *stats = SpgemmStats{};
  // One pass over A gives every row's multiplications, for kAuto's choice and the partition.
  const bool row_wise = options.algo != SpgemmAlgo::kReference && options.algo != SpgemmAlgo::kInner;
  const std::vector<int64_t> products = row_wise ? internal::row_products(a, b) : std::vector<int64_t>{};
  int64_t total = 0;
  for (const int64_t p : products) total += p;
  SpgemmAlgo algo = options.algo == SpgemmAlgo::kAuto ? choose_for(a, b, total).algo : options.algo;
  stats->algo = algo;
  if (options.max_output_bytes) {
    const int64_t bound = nnz_upper_bound(a, b);
    const Bytes c_bytes = csr_bytes<T>(a.rows, bound);
    const Bytes workspace = spgemm_workspace_bound(a, b, algo, options.threads);
    if (c_bytes + workspace > *options.max_output_bytes) {
      return unsupported("product too large: C may need up to " + format_bytes(c_bytes) + " (" + std::to_string(bound) +
                             " entries) plus " + format_bytes(workspace) + " of " + std::string(to_string(algo)) +
                             " workspace, above the limit of " + format_bytes(*options.max_output_bytes),
                         "raise the memory limit, use --algo hash, or multiply smaller blocks");
    }
  }
  if (algo == SpgemmAlgo::kReference) return reference(a, b);
  if (algo == SpgemmAlgo::kInner) return internal::inner_product(a, b, options.threads, *stats);

  const int64_t useful = options.algo == SpgemmAlgo::kAuto ? std::max<int64_t>(1, total / kMinProductsPerThread)
                                                           : options.threads;
  const int parts = static_cast<int>(std::clamp<int64_t>(std::min<int64_t>(options.threads, useful), 1,
                                                         std::max<int64_t>(a.rows, 1)));
  const std::vector<int64_t> bounds = internal::partition_rows(products, parts);
  const Bytes shared = B(static_cast<int64_t>((products.capacity() + bounds.capacity()) * sizeof(int64_t)));
  Csr<T> c = empty_csr<T>(a.rows, b.cols);
  Bytes used;
  switch (algo) {
    case SpgemmAlgo::kSpa:
      used = two_phase(a, products, bounds, c, [&] { return internal::RowEngine<T>(a, b, internal::AccMode::kDense); });
      break;
    case SpgemmAlgo::kHash:
      used = two_phase(a, products, bounds, c, [&] { return internal::RowEngine<T>(a, b, internal::AccMode::kHash); });
      break;
    case SpgemmAlgo::kHeap: used = two_phase(a, products, bounds, c, [&] { return HeapKernel<T>(a, b); }); break;
    case SpgemmAlgo::kOuter:
      used = symbolic_only(a, products, bounds, c,
                           [&] { return internal::RowEngine<T>(a, b, internal::AccMode::kAuto); });
      internal::outer_numeric(a, b, products, bounds, c, *stats);
      used = std::max(used, stats->workspace);
      break;
    case SpgemmAlgo::kAces:
      used = symbolic_only(a, products, bounds, c,
                           [&] { return internal::RowEngine<T>(a, b, internal::AccMode::kAuto); });
      internal::aces_numeric(a, b, products, bounds, options, c, *stats);
      used = std::max(used, stats->workspace);
      break;
    default: return Error(ErrorCode::kInternal, "unhandled SpGEMM algorithm");
  }
  stats->workspace = used + shared;
  return c;
}

template <class T>
Result<Csr<T>> spgemm(const Csr<T>& a, const Csr<T>& b, const SpgemmOptions& options) {
  SpgemmStats stats;
  return spgemm(a, b, options, &stats);
}

#define MLSYS_SPGEMM_INSTANTIATE(T)                                                                    \
  template int64_t multiplications<T>(const Csr<T>&, const Csr<T>&);                                  \
  template int64_t nnz_upper_bound<T>(const Csr<T>&, const Csr<T>&);                                  \
  template Bytes csr_bytes<T>(int64_t, int64_t);                                                      \
  template Bytes spgemm_workspace_bound<T>(const Csr<T>&, const Csr<T>&, SpgemmAlgo, int);            \
  template AlgoChoice choose_spgemm_algo<T>(const Csr<T>&, const Csr<T>&);                            \
  template Result<Csr<T>> spgemm<T>(const Csr<T>&, const Csr<T>&, const SpgemmOptions&);              \
  template Result<Csr<T>> spgemm<T>(const Csr<T>&, const Csr<T>&, const SpgemmOptions&, SpgemmStats*);
MLSYS_SPGEMM_INSTANTIATE(double)
MLSYS_SPGEMM_INSTANTIATE(float)
#undef MLSYS_SPGEMM_INSTANTIATE

}  // namespace mlsys::sparse
