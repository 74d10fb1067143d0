#include "mlsys/sparse/spgemm.h"

#include <algorithm>
#include <bit>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mlsys/core/check.h"

namespace mlsys::sparse {
namespace {

size_t u(int64_t v) { return static_cast<size_t>(v); }

template <class T>
std::vector<int64_t> row_products(const Csr<T>& a, const Csr<T>& b) {
  std::vector<int64_t> out(u(a.rows), 0);
  for (int64_t i = 0; i < a.rows; ++i) {
    int64_t sum = 0;
    for (Offset p = a.row_ptr[u(i)]; p < a.row_ptr[u(i) + 1]; ++p) sum += b.row_nnz(a.col[u(p)]);
    out[u(i)] = sum;
  }
  return out;
}

// Row ranges [bounds[t], bounds[t+1]) of roughly equal work; a row's work is its products plus
// one, so long runs of empty rows are spread too.
std::vector<int64_t> partition_rows(const std::vector<int64_t>& products, int parts) {
  const int64_t rows = static_cast<int64_t>(products.size());
  std::vector<int64_t> prefix(u(rows) + 1, 0);
  for (int64_t i = 0; i < rows; ++i) prefix[u(i) + 1] = prefix[u(i)] + products[u(i)] + 1;
  std::vector<int64_t> bounds(static_cast<size_t>(parts) + 1, rows);
  bounds[0] = 0;
  for (int t = 1; t < parts; ++t) {
    const int64_t target = prefix.back() / parts * t + prefix.back() % parts * t / parts;
    bounds[static_cast<size_t>(t)] = std::lower_bound(prefix.begin(), prefix.end(), target) - prefix.begin();
    bounds[static_cast<size_t>(t)] = std::clamp(bounds[static_cast<size_t>(t)], bounds[static_cast<size_t>(t) - 1], rows);
  }
  return bounds;
}

template <class Fn>
void run_parallel(const std::vector<int64_t>& bounds, Fn&& fn) {
  const size_t parts = bounds.size() - 1;
  if (parts == 1) {
    fn(bounds[0], bounds[1]);
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(parts - 1);
  for (size_t t = 1; t < parts; ++t) workers.emplace_back([&, t] { fn(bounds[t], bounds[t + 1]); });
  fn(bounds[0], bounds[1]);
  for (auto& w : workers) w.join();
}

// ---- dense accumulator (SPA) ----
template <class T>
struct SpaKernel {
  const Csr<T>& a;
  const Csr<T>& b;
  std::vector<int64_t> mark;  // row + 1 that last touched the column
  std::vector<T> acc;
  std::vector<Index> touched;

  SpaKernel(const Csr<T>& a_, const Csr<T>& b_) : a(a_), b(b_), mark(u(b_.cols), 0) {}

  int64_t count(int64_t i) {
    int64_t n = 0;
    for (Offset p = a.row_ptr[u(i)]; p < a.row_ptr[u(i) + 1]; ++p) {
      const Index k = a.col[u(p)];
      for (Offset q = b.row_ptr[u(k)]; q < b.row_ptr[u(k) + 1]; ++q) {
        const Index j = b.col[u(q)];
        if (mark[u(j)] != i + 1) {
          mark[u(j)] = i + 1;
          ++n;
        }
      }
    }
    return n;
  }

  void fill(int64_t i, Index* out_col, T* out_val) {
    if (acc.empty()) acc.assign(u(b.cols), T{});
    touched.clear();
    for (Offset p = a.row_ptr[u(i)]; p < a.row_ptr[u(i) + 1]; ++p) {
      const Index k = a.col[u(p)];
      const T av = a.val[u(p)];
      for (Offset q = b.row_ptr[u(k)]; q < b.row_ptr[u(k) + 1]; ++q) {
        const Index j = b.col[u(q)];
        if (mark[u(j)] != i + 1) {
          mark[u(j)] = i + 1;
          acc[u(j)] = av * b.val[u(q)];
          touched.push_back(j);
        } else {
          acc[u(j)] += av * b.val[u(q)];
        }
      }
    }
    std::sort(touched.begin(), touched.end());
    for (size_t e = 0; e < touched.size(); ++e) {
      out_col[e] = touched[e];
      out_val[e] = acc[u(touched[e])];
    }
  }
};

// ---- hash accumulator ----
template <class T>
struct HashKernel {
  static constexpr Index kEmpty = -1;
  const Csr<T>& a;
  const Csr<T>& b;
  const std::vector<int64_t>& products;
  std::vector<Index> keys;
  std::vector<T> vals;
  std::vector<size_t> used;
  int shift = 64;

  HashKernel(const Csr<T>& a_, const Csr<T>& b_, const std::vector<int64_t>& p) : a(a_), b(b_), products(p) {}

  void prepare(int64_t i) {
    const int64_t bound = std::max<int64_t>(1, std::min(products[u(i)], b.cols));
    const uint64_t cap = std::bit_ceil(static_cast<uint64_t>(2 * bound));
    if (keys.size() < cap) {
      keys.assign(cap, kEmpty);
      vals.resize(cap);
    }
    shift = 64 - std::countr_zero(cap);
    mask = cap - 1;
  }
  uint64_t mask = 0;

  // The slot of column j: found or newly claimed; `fresh` says which.
  size_t slot(Index j, bool& fresh) {
    size_t s = shift == 64 ? 0 : static_cast<size_t>((static_cast<uint64_t>(j) * 0x9E3779B97F4A7C15ULL) >> shift);
    for (;;) {
      if (keys[s] == j) {
        fresh = false;
        return s;
      }
      if (keys[s] == kEmpty) {
        keys[s] = j;
        used.push_back(s);
        fresh = true;
        return s;
      }
      s = (s + 1) & mask;
    }
  }

  void reset() {
    for (size_t s : used) keys[s] = kEmpty;
    used.clear();
  }

  int64_t count(int64_t i) {
    prepare(i);
    bool fresh = false;
    for (Offset p = a.row_ptr[u(i)]; p < a.row_ptr[u(i) + 1]; ++p) {
      const Index k = a.col[u(p)];
      for (Offset q = b.row_ptr[u(k)]; q < b.row_ptr[u(k) + 1]; ++q) slot(b.col[u(q)], fresh);
    }
    const auto n = static_cast<int64_t>(used.size());
    reset();
    return n;
  }

  void fill(int64_t i, Index* out_col, T* out_val) {
    prepare(i);
    bool fresh = false;
    for (Offset p = a.row_ptr[u(i)]; p < a.row_ptr[u(i) + 1]; ++p) {
      const Index k = a.col[u(p)];
      const T av = a.val[u(p)];
      for (Offset q = b.row_ptr[u(k)]; q < b.row_ptr[u(k) + 1]; ++q) {
        const size_t s = slot(b.col[u(q)], fresh);
        if (fresh) {
          vals[s] = av * b.val[u(q)];
        } else {
          vals[s] += av * b.val[u(q)];
        }
      }
    }
    std::sort(used.begin(), used.end(), [&](size_t x, size_t y) { return keys[x] < keys[y]; });
    for (size_t e = 0; e < used.size(); ++e) {
      out_col[e] = keys[used[e]];
      out_val[e] = vals[used[e]];
    }
    reset();
  }
};

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

// Symbolic phase, row pointers, numeric phase: the same for every accumulator.
template <class T, class Kernel, class Make>
Csr<T> two_phase(const Csr<T>& a, const Csr<T>& b, const std::vector<int64_t>& bounds, Make&& make) {
  Csr<T> c = empty_csr<T>(a.rows, b.cols);
  std::vector<int64_t> row_nnz(u(a.rows), 0);
  run_parallel(bounds, [&](int64_t lo, int64_t hi) {
    Kernel k = make();
    for (int64_t i = lo; i < hi; ++i) row_nnz[u(i)] = k.count(i);
  });
  for (int64_t i = 0; i < a.rows; ++i) c.row_ptr[u(i) + 1] = c.row_ptr[u(i)] + row_nnz[u(i)];
  c.col.resize(u(c.row_ptr.back()));
  c.val.resize(u(c.row_ptr.back()));
  run_parallel(bounds, [&](int64_t lo, int64_t hi) {
    Kernel k = make();
    for (int64_t i = lo; i < hi; ++i) k.fill(i, c.col.data() + c.row_ptr[u(i)], c.val.data() + c.row_ptr[u(i)]);
  });
  return c;
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
  }
  return "?";
}

Result<SpgemmAlgo> parse_spgemm_algo(std::string_view name) {
  for (SpgemmAlgo a : {SpgemmAlgo::kReference, SpgemmAlgo::kSpa, SpgemmAlgo::kHash, SpgemmAlgo::kHeap}) {
    if (name == to_string(a)) return a;
  }
  return invalid_input("unknown SpGEMM algorithm '" + std::string(name) + "'", "reference, spa, hash or heap");
}

template <class T>
int64_t multiplications(const Csr<T>& a, const Csr<T>& b) {
  MLSYS_CHECK(a.cols == b.rows, "inner dimensions differ");
  int64_t sum = 0;
  for (const Index k : a.col) sum += b.row_nnz(k);
  return sum;
}

template <class T>
int64_t nnz_upper_bound(const Csr<T>& a, const Csr<T>& b) {
  MLSYS_CHECK(a.cols == b.rows, "inner dimensions differ");
  int64_t sum = 0;
  for (const int64_t p : row_products(a, b)) sum += std::min(p, b.cols);
  return sum;
}

template <class T>
Bytes csr_bytes(int64_t rows, int64_t nnz) {
  return B((rows + 1) * static_cast<int64_t>(sizeof(Offset)) + nnz * static_cast<int64_t>(sizeof(Index) + sizeof(T)));
}

template <class T>
Result<Csr<T>> spgemm(const Csr<T>& a, const Csr<T>& b, const SpgemmOptions& options) {
  if (a.cols != b.rows) {
    return invalid_input("inner dimensions differ: A is " + std::to_string(a.rows) + " x " + std::to_string(a.cols) +
                         ", B is " + std::to_string(b.rows) + " x " + std::to_string(b.cols));
  }
  if (options.threads < 1) return invalid_input("threads must be >= 1, got " + std::to_string(options.threads));
  const std::vector<int64_t> products = row_products(a, b);
  if (options.max_output_bytes) {
    int64_t bound = 0;
    for (const int64_t p : products) bound += std::min(p, b.cols);
    Bytes need = csr_bytes<T>(a.rows, bound);
    std::string what = "C may need up to " + format_bytes(need) + " (" + std::to_string(bound) + " entries)";
    if (options.algo == SpgemmAlgo::kSpa) {
      // The dense accumulator holds a stamp and a value per column of B in every thread.
      const Bytes workspace = B(options.threads * b.cols * static_cast<int64_t>(sizeof(int64_t) + sizeof(T)));
      need = need + workspace;
      what += " plus " + format_bytes(workspace) + " of dense accumulators";
    }
    if (need > *options.max_output_bytes) {
      return unsupported("product too large: " + what + ", above the limit of " + format_bytes(*options.max_output_bytes),
                         "raise the memory limit, use --algo hash, or multiply smaller blocks");
    }
  }
  const int parts = static_cast<int>(std::clamp<int64_t>(options.threads, 1, std::max<int64_t>(a.rows, 1)));
  const std::vector<int64_t> bounds = partition_rows(products, parts);
  switch (options.algo) {
    case SpgemmAlgo::kReference: return reference(a, b);
    case SpgemmAlgo::kSpa: return two_phase<T, SpaKernel<T>>(a, b, bounds, [&] { return SpaKernel<T>(a, b); });
    case SpgemmAlgo::kHash:
      return two_phase<T, HashKernel<T>>(a, b, bounds, [&] { return HashKernel<T>(a, b, products); });
    case SpgemmAlgo::kHeap: return two_phase<T, HeapKernel<T>>(a, b, bounds, [&] { return HeapKernel<T>(a, b); });
  }
  return Error(ErrorCode::kInternal, "unhandled SpGEMM algorithm");
}

#define MLSYS_SPGEMM_INSTANTIATE(T)                                              \
  template int64_t multiplications<T>(const Csr<T>&, const Csr<T>&);            \
  template int64_t nnz_upper_bound<T>(const Csr<T>&, const Csr<T>&);            \
  template Bytes csr_bytes<T>(int64_t, int64_t);                                \
  template Result<Csr<T>> spgemm<T>(const Csr<T>&, const Csr<T>&, const SpgemmOptions&);
MLSYS_SPGEMM_INSTANTIATE(double)
MLSYS_SPGEMM_INSTANTIATE(float)
#undef MLSYS_SPGEMM_INSTANTIATE

}  // namespace mlsys::sparse
