// The ACES-style CPU kernel (Lu et al., ASPLOS'24, "adaptive execution flow"; research notes §1.2),
// numeric phase. A's rows are cut into bands of similar length (a new band where the row length
// changes by more than 10); each band runs with one condensing degree, which decides the order in
// which A's entries are issued and so how often each B row is re-read:
//   none       — tiles of up to 32 rows issued column by column: each B(k,:) is read once per tile
//                and scattered into every tile row that has column k (B reuse, many live rows);
//   moderate   — A's columns split in two halves, each half issued row by row over the tile: a
//                tile touches half of B at a time (B split in two cache blocks);
//   aggressive — row after row with one live accumulator (the row-wise Gustavson order).
// Bands of >= 256 rows time 32 rows with each degree (ACES's 3 x 32 sampling passes, whose results
// are kept) and run the rest with the fastest per multiplication. Shorter bands use aggressive: on
// a CPU core there are no merge-conflict stalls for moderate to avoid, and one live row is the
// cheapest (the paper's default for short bands is moderate — a deliberate difference).
// Every order issues each row's entries in increasing column of A, so every C(i,j) is summed in
// the same order as in the other kernels: results are bit-identical whatever the degrees.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <vector>

#include "mlsys/sparse/internal/spgemm_kernels.h"

namespace mlsys::sparse::internal {
namespace {

constexpr int64_t kBandJump = 10;           // |len(i) - len(i-1)| above this starts a band
constexpr int64_t kSampledBand = 256;       // bands at least this long are sampled
constexpr int64_t kSampleRows = 32;         // rows per sampling pass
constexpr int64_t kTileRows = 32;           // rows issued together by none / moderate
constexpr int64_t kTileProducts = 8192;     // keeps a tile's hash tables in L2
constexpr int64_t kTileEntries = 1 << 20;   // A entries of a tile: positions fit the packed 32 bits
constexpr Condensing kShortBandDegree = Condensing::kAggressive;

template <class T>
class AcesWorker {
 public:
  AcesWorker(const Csr<T>& a, const Csr<T>& b, const std::vector<int64_t>& products, const SpgemmOptions& options,
             Csr<T>& c)
      : a_(a), b_(b), products_(products), options_(options), c_(c), engine_(a, b, AccMode::kAuto) {}

  void run(int64_t lo, int64_t hi) {
    int64_t start = lo;
    for (int64_t i = lo + 1; i <= hi; ++i) {
      if (i == hi || std::llabs(a_.row_nnz(i) - a_.row_nnz(i - 1)) > kBandJump) {
        run_band(start, i);
        start = i;
      }
    }
  }

  int64_t bands = 0;
  int64_t degree_rows[3] = {0, 0, 0};
  Bytes bytes() const {
    return engine_.bytes() + B(static_cast<int64_t>(order_.capacity() * sizeof(uint64_t) +
                                                    (table_off_.capacity() + split_.capacity()) * sizeof(int64_t)));
  }

 private:
  void run_band(int64_t r0, int64_t r1) {
    ++bands;
    if (options_.aces_degree) {
      run_rows(r0, r1, *options_.aces_degree);
      return;
    }
    if (r1 - r0 < kSampledBand) {
      run_rows(r0, r1, kShortBandDegree);
      return;
    }
    Condensing best = Condensing::kAggressive;
    double best_cost = 0;
    int64_t r = r0;
    for (Condensing d : {Condensing::kNone, Condensing::kModerate, Condensing::kAggressive}) {
      int64_t work = kSampleRows;
      for (int64_t i = r; i < r + kSampleRows; ++i) work += products_[u(i)];
      const auto t0 = std::chrono::steady_clock::now();
      run_rows(r, r + kSampleRows, d);
      const auto t1 = std::chrono::steady_clock::now();
      const double cost = static_cast<double>((t1 - t0).count()) / static_cast<double>(work);
      if (d == Condensing::kNone || cost < best_cost) {
        best = d;
        best_cost = cost;
      }
      r += kSampleRows;
    }
    run_rows(r, r1, best);
  }

  void run_rows(int64_t r0, int64_t r1, Condensing degree) {
    degree_rows[static_cast<int>(degree)] += r1 - r0;
    if (degree == Condensing::kAggressive) {
      for (int64_t i = r0; i < r1; ++i) fill_row(i);
      return;
    }
    int64_t t0 = r0;
    while (t0 < r1) {
      int64_t t1 = t0;
      int64_t work = 0;
      while (t1 < r1 && (t1 == t0 || (t1 - t0 < kTileRows && work + products_[u(t1)] <= kTileProducts &&
                                        a_.row_ptr[u(t1) + 1] - a_.row_ptr[u(t0)] <= kTileEntries))) {
        work += products_[u(t1)];
        ++t1;
      }
      run_tile(t0, t1, degree);
      t0 = t1;
    }
  }

  void fill_row(int64_t i) {
    const Offset off = c_.row_ptr[u(i)];
    engine_.fill(i, products_[u(i)], c_.row_ptr[u(i) + 1] - off, c_.col.data() + off, c_.val.data() + off);
  }

  // Scatters av * B(k,:) into one row's table.
  static void scatter(Index* keys, T* vals, uint64_t cap, T av, const Index* bc, const T* bv, Offset q0, Offset q1) {
    const uint64_t mask = cap - 1;
    const int shift = 64 - std::countr_zero(cap);
    for (Offset q = q0; q < q1; ++q) {
      const Index j = bc[q];
      uint64_t s = RowEngine<T>::hash(j, shift);
      for (;;) {
        if (keys[s] == j) {
          vals[s] += av * bv[q];
          break;
        }
        if (keys[s] == RowEngine<T>::kEmpty) {
          keys[s] = j;
          vals[s] = av * bv[q];
          break;
        }
        s = (s + 1) & mask;
      }
    }
  }

  void run_tile(int64_t t0, int64_t t1, Condensing degree) {
    const int64_t n = t1 - t0;
    table_off_.assign(u(n) + 1, 0);
    for (int64_t r = 0; r < n; ++r) {
      const int64_t i = t0 + r;
      // Rows of 0 or 1 entries need no accumulator: they copy a scaled B row.
      const uint64_t cap = a_.row_nnz(i) <= 1 ? 0 : engine_.table_size(products_[u(i)]);
      table_off_[u(r) + 1] = table_off_[u(r)] + static_cast<int64_t>(cap);
    }
    Index* keys = engine_.tile_keys(static_cast<uint64_t>(table_off_[u(n)]));
    T* vals = engine_.tile_vals();
    const Offset* bp = b_.row_ptr.data();
    const Index* bc = b_.col.data();
    const T* bv = b_.val.data();
    const Offset base = a_.row_ptr[u(t0)];
    if (degree == Condensing::kNone) {
      // Column order over the tile: pack (k, position in the tile's slice of A) and sort.
      order_.clear();
      for (int64_t r = 0; r < n; ++r) {
        if (table_off_[u(r) + 1] == table_off_[u(r)]) continue;
        for (Offset p = a_.row_ptr[u(t0 + r)]; p < a_.row_ptr[u(t0 + r) + 1]; ++p) {
          order_.push_back((static_cast<uint64_t>(a_.col[u(p)]) << 32) | static_cast<uint64_t>(p - base));
        }
      }
      std::sort(order_.begin(), order_.end());
      int64_t r = 0;
      for (const uint64_t e : order_) {
        const Offset p = base + static_cast<Offset>(e & 0xffffffffULL);
        const auto k = static_cast<Index>(e >> 32);
        // The row of p: a short search over the tile's row pointers.
        r = std::upper_bound(a_.row_ptr.begin() + t0, a_.row_ptr.begin() + t1 + 1, p) - a_.row_ptr.begin() - 1 - t0;
        const int64_t off = table_off_[u(r)];
        scatter(keys + off, vals + off, static_cast<uint64_t>(table_off_[u(r) + 1] - off), a_.val[u(p)], bc, bv, bp[k],
                bp[k + 1]);
      }
    } else {
      // Moderate: the columns below A.cols / 2 for every tile row, then the rest.
      const auto mid = static_cast<Index>(a_.cols / 2);
      split_.assign(u(n), 0);
      for (int64_t r = 0; r < n; ++r) {
        const auto first = a_.col.begin() + a_.row_ptr[u(t0 + r)];
        const auto last = a_.col.begin() + a_.row_ptr[u(t0 + r) + 1];
        split_[u(r)] = std::lower_bound(first, last, mid) - a_.col.begin();
      }
      for (int half = 0; half < 2; ++half) {
        for (int64_t r = 0; r < n; ++r) {
          const int64_t off = table_off_[u(r)];
          const auto cap = static_cast<uint64_t>(table_off_[u(r) + 1] - off);
          if (cap == 0) continue;
          const Offset p0 = half == 0 ? a_.row_ptr[u(t0 + r)] : split_[u(r)];
          const Offset p1 = half == 0 ? split_[u(r)] : a_.row_ptr[u(t0 + r) + 1];
          for (Offset p = p0; p < p1; ++p) {
            const Index k = a_.col[u(p)];
            scatter(keys + off, vals + off, cap, a_.val[u(p)], bc, bv, bp[k], bp[k + 1]);
          }
        }
      }
    }
    for (int64_t r = 0; r < n; ++r) {
      const int64_t i = t0 + r;
      const int64_t off = table_off_[u(r)];
      const auto cap = static_cast<uint64_t>(table_off_[u(r) + 1] - off);
      if (cap == 0) {
        fill_row(i);
        continue;
      }
      const Offset c_off = c_.row_ptr[u(i)];
      engine_.extract_table(keys + off, vals + off, cap, c_.row_ptr[u(i) + 1] - c_off, c_.col.data() + c_off,
                            c_.val.data() + c_off);
    }
  }

  const Csr<T>& a_;
  const Csr<T>& b_;
  const std::vector<int64_t>& products_;
  const SpgemmOptions& options_;
  Csr<T>& c_;
  RowEngine<T> engine_;
  std::vector<uint64_t> order_;
  std::vector<int64_t> table_off_;
  std::vector<int64_t> split_;
};

}  // namespace

template <class T>
void aces_numeric(const Csr<T>& a, const Csr<T>& b, const std::vector<int64_t>& products,
                  const std::vector<int64_t>& bounds, const SpgemmOptions& options, Csr<T>& c, SpgemmStats& stats) {
  const size_t parts = bounds.size() - 1;
  std::vector<int64_t> bands(parts, 0);
  std::vector<std::array<int64_t, 3>> degree_rows(parts, {0, 0, 0});
  std::vector<Bytes> used(parts);
  run_parallel(bounds, [&](int64_t lo, int64_t hi, size_t part) {
    AcesWorker<T> w(a, b, products, options, c);
    w.run(lo, hi);
    bands[part] = w.bands;
    for (int d = 0; d < 3; ++d) degree_rows[part][static_cast<size_t>(d)] = w.degree_rows[d];
    used[part] = w.bytes();
  });
  stats.workspace = B(0);
  for (size_t p = 0; p < parts; ++p) {
    stats.bands += bands[p];
    for (int d = 0; d < 3; ++d) stats.band_degree[d] += degree_rows[p][static_cast<size_t>(d)];
    stats.workspace = stats.workspace + used[p];
  }
}

template void aces_numeric<double>(const Csr<double>&, const Csr<double>&, const std::vector<int64_t>&,
                                   const std::vector<int64_t>&, const SpgemmOptions&, Csr<double>&, SpgemmStats&);
template void aces_numeric<float>(const Csr<float>&, const Csr<float>&, const std::vector<int64_t>&,
                                  const std::vector<int64_t>&, const SpgemmOptions&, Csr<float>&, SpgemmStats&);

}  // namespace mlsys::sparse::internal
