#include "mlsys/sparse/aces_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>

namespace mlsys::sparse {
namespace {

size_t u(int64_t v) { return static_cast<size_t>(v); }

constexpr int64_t kFar = int64_t{1} << 40;  // RD of a fiber not requested within the look-ahead
constexpr int64_t kBandJump = 10;           // ACES: a new band where row length changes by > 10
constexpr int64_t kSampledBand = 256;
constexpr int64_t kSampleRows = 32;

// A set-associative cache of B-fiber lines. Lines of the fiber being fetched are never victims.
class FiberCache {
 public:
  FiberCache(int64_t sets, int ways, CachePolicy policy, int64_t lookahead)
      : sets_(sets), ways_(ways), policy_(policy), lookahead_(lookahead), slots_(u(sets * ways)) {}

  // Requests every line of fiber f at step t; next_use(g) is the step of fiber g's next request
  // after t (or a huge value). Returns the number of missed lines.
  template <class NextUse>
  int64_t access(int32_t f, int64_t first_line, int64_t lines, int64_t t, const std::vector<int64_t>& fiber_lines,
                 NextUse&& next_use) {
    int64_t misses = 0;
    for (int64_t l = first_line; l < first_line + lines; ++l) {
      Slot* set = &slots_[u((l % sets_) * ways_)];
      Slot* hit = nullptr;
      for (int w = 0; w < ways_; ++w) {
        if (set[w].line == l) hit = &set[w];
      }
      if (hit != nullptr) {
        hit->last_use = t;
        continue;
      }
      ++misses;
      Slot* victim = nullptr;
      int64_t best = -1;
      int64_t best_fd = -1;
      for (int w = 0; w < ways_; ++w) {
        Slot& s = set[w];
        if (s.line < 0) {
          victim = &s;
          break;
        }
        if (s.fiber == f) continue;
        int64_t score = 0;
        const int64_t fd = fiber_lines[u(s.fiber)];
        if (policy_ == CachePolicy::kLru) {
          score = t - s.last_use;
        } else {
          const int64_t d = next_use(s.fiber) - t;
          const int64_t rd = d > lookahead_ ? kFar : d;
          score = policy_ == CachePolicy::kRd ? rd : rd + fd;
        }
        if (score > best || (score == best && policy_ == CachePolicy::kPureFiber && fd > best_fd)) {
          best = score;
          best_fd = fd;
          victim = &s;
        }
      }
      if (victim == nullptr) {
        // Every way holds this fiber's own lines: the fiber is larger than the set; replace the oldest.
        victim = set;
        for (int w = 1; w < ways_; ++w) {
          if (set[w].last_use < victim->last_use) victim = &set[w];
        }
      }
      *victim = Slot{l, f, t};
    }
    return misses;
  }

 private:
  struct Slot {
    int64_t line = -1;
    int32_t fiber = -1;
    int64_t last_use = 0;
  };
  int64_t sets_;
  int ways_;
  CachePolicy policy_;
  int64_t lookahead_;
  std::vector<Slot> slots_;
};

struct Task {
  Index row;
  Index k;
};

// A's entries of rows [r0, r1) in the issue order of `degree` (research notes §1.2).
void issue_order(const Csr<double>& a, int64_t r0, int64_t r1, Condensing degree, std::vector<Task>& out) {
  std::vector<std::tuple<int64_t, int64_t, Index, Index>> keyed;  // (major, minor, row, k)
  const auto mid = static_cast<Index>(a.cols / 2);
  for (int64_t i = r0; i < r1; ++i) {
    const Offset lo = a.row_ptr[u(i)];
    const Offset hi = a.row_ptr[u(i) + 1];
    const Offset split = std::lower_bound(a.col.begin() + lo, a.col.begin() + hi, mid) - a.col.begin();
    for (Offset p = lo; p < hi; ++p) {
      const Index k = a.col[u(p)];
      const auto row = static_cast<Index>(i);
      switch (degree) {
        case Condensing::kNone: keyed.emplace_back(k, i, row, k); break;  // column by column
        case Condensing::kAggressive: keyed.emplace_back(p - lo, i, row, k); break;  // c-th entry of every row
        case Condensing::kModerate:  // condensed within each half of the columns
          keyed.emplace_back(p < split ? p - lo : (int64_t{1} << 40) + (p - split), i, row, k);
          break;
      }
    }
  }
  std::sort(keyed.begin(), keyed.end());
  for (const auto& e : keyed) out.push_back({std::get<2>(e), std::get<3>(e)});
}

struct Simulation {
  int64_t compute = 0;
  int64_t conflict = 0;
  int64_t misses = 0;
  int64_t hits = 0;
  int64_t pure = 0;
  int64_t mults = 0;
};

// Runs the task stream through the PEs and the cache.
Simulation simulate(const Csr<double>& b, const std::vector<int64_t>& c_row_nnz, const std::vector<Task>& tasks,
                    const AcesConfig& cfg) {
  const int64_t line_entries = std::max<int64_t>(1, cfg.line_bytes / static_cast<int64_t>(sizeof(Index) + sizeof(double)));
  std::vector<int64_t> fiber_lines(u(b.rows), 0);
  std::vector<int64_t> first_line(u(b.rows), 0);
  int64_t next_line = 0;
  for (int64_t k = 0; k < b.rows; ++k) {
    fiber_lines[u(k)] = (b.row_nnz(k) + line_entries - 1) / line_entries;
    first_line[u(k)] = next_line;
    next_line += fiber_lines[u(k)];
  }
  // Next request of the same fiber, for RD.
  std::vector<int64_t> nxt(tasks.size(), kFar);
  std::vector<int64_t> seen(u(b.rows), kFar);
  for (size_t t = tasks.size(); t-- > 0;) {
    nxt[t] = seen[u(tasks[t].k)];
    seen[u(tasks[t].k)] = static_cast<int64_t>(t);
  }
  std::vector<int64_t>& next_use = seen;  // now: the first request of each fiber
  const int64_t lines = std::max<int64_t>(1, cfg.cache.count() / cfg.line_bytes);
  FiberCache cache(std::max<int64_t>(1, lines / cfg.ways), cfg.ways, cfg.policy, cfg.lookahead);
  std::vector<int64_t> partial(c_row_nnz.size(), 0);  // products merged so far per C row
  const double bytes_per_cycle = cfg.dram.base() / (cfg.clock_ghz * 1e9);
  Simulation sim;
  std::vector<std::pair<Index, int64_t>> wave_rows;
  for (size_t w0 = 0; w0 < tasks.size(); w0 += u(cfg.pes)) {
    const size_t w1 = std::min(tasks.size(), w0 + u(cfg.pes));
    int64_t mult = 0;
    int64_t single_merge = 0;
    wave_rows.clear();
    for (size_t t = w0; t < w1; ++t) {
      const Task& task = tasks[t];
      const int64_t len = b.row_nnz(task.k);
      next_use[u(task.k)] = nxt[t];
      const int64_t miss = cache.access(task.k, first_line[u(task.k)], fiber_lines[u(task.k)], static_cast<int64_t>(t),
                                        fiber_lines,
                                        [&](int32_t g) { return next_use[u(g)]; });
      sim.misses += miss;
      sim.hits += fiber_lines[u(task.k)] - miss;
      sim.pure += miss == 0;
      sim.mults += len;
      // A missed line arrives after the latency plus its share of the DRAM bandwidth (pes share it).
      const int64_t fill = miss * cfg.line_bytes * cfg.pes / std::max<int64_t>(1, static_cast<int64_t>(bytes_per_cycle));
      mult = std::max(mult, len + (miss > 0 ? cfg.miss_latency_cycles + fill : 0));
      // Immediate merging streams the new partial fiber into the cached partial row; the row's
      // cached length only matters through the final merge of spilled fibers (not modelled).
      const int64_t merge = len + (partial[u(task.row)] > 0 ? 1 : 0);
      partial[u(task.row)] += len;
      single_merge = std::max(single_merge, merge);
      auto it = std::find_if(wave_rows.begin(), wave_rows.end(), [&](const auto& r) { return r.first == task.row; });
      if (it == wave_rows.end()) {
        wave_rows.emplace_back(task.row, merge);
      } else {
        it->second += merge;  // the synchronisation scheduler serialises merges into one row
      }
    }
    int64_t merge_wave = 0;
    for (const auto& r : wave_rows) merge_wave = std::max(merge_wave, r.second);
    sim.conflict += merge_wave - single_merge;
    sim.compute += std::max(mult, merge_wave);
  }
  return sim;
}

}  // namespace

std::string_view to_string(CachePolicy policy) {
  switch (policy) {
    case CachePolicy::kLru: return "LRU";
    case CachePolicy::kRd: return "RD";
    case CachePolicy::kPureFiber: return "PureFiber";
  }
  return "?";
}

Time AcesModelResult::time() const { return nsec(static_cast<int64_t>(std::llround(static_cast<double>(cycles)))); }

Result<AcesModelResult> model_aces(const Csr<double>& a, const Csr<double>& b, const AcesConfig& config) {
  if (a.cols != b.rows) {
    return invalid_input("inner dimensions differ: A is " + std::to_string(a.rows) + " x " + std::to_string(a.cols) +
                         ", B is " + std::to_string(b.rows) + " x " + std::to_string(b.cols));
  }
  if (config.pes < 1 || config.ways < 1 || config.line_bytes < 1 || config.cache.count() < config.line_bytes * config.ways) {
    return invalid_input("ACES cache/PE configuration needs >= 1 PE and at least one set of `ways` lines");
  }
  if (config.clock_ghz <= 0 || config.dram.base() <= 0) return invalid_input("clock and DRAM bandwidth must be positive");
  // Structural nnz per C row (the merge lengths need them).
  MLSYS_ASSIGN_OR_RETURN(const Csr<double> c, spgemm(a, b, {.algo = SpgemmAlgo::kHash}));
  std::vector<int64_t> c_row_nnz(u(a.rows));
  for (int64_t i = 0; i < a.rows; ++i) c_row_nnz[u(i)] = c.row_nnz(i);

  AcesModelResult r;
  std::vector<Task> tasks;
  tasks.reserve(u(a.nnz()));
  auto emit = [&](int64_t r0, int64_t r1, Condensing d) {
    if (r1 <= r0) return;
    r.degree_rows[static_cast<int>(d)] += r1 - r0;
    issue_order(a, r0, r1, d, tasks);
  };
  int64_t start = 0;
  for (int64_t i = 1; i <= a.rows; ++i) {
    if (i < a.rows && std::llabs(a.row_nnz(i) - a.row_nnz(i - 1)) <= kBandJump) continue;
    ++r.bands;
    const int64_t r0 = start;
    const int64_t r1 = i;
    start = i;
    if (config.degree) {
      emit(r0, r1, *config.degree);
    } else if (r1 - r0 < kSampledBand) {
      emit(r0, r1, Condensing::kModerate);
    } else {
      // Three sampling passes of 32 rows, one per degree; the cheapest per task runs the rest.
      Condensing best = Condensing::kModerate;
      double best_cost = std::numeric_limits<double>::infinity();
      int64_t s = r0;
      for (Condensing d : {Condensing::kNone, Condensing::kModerate, Condensing::kAggressive}) {
        std::vector<Task> sample;
        issue_order(a, s, s + kSampleRows, d, sample);
        const Simulation sim = simulate(b, c_row_nnz, sample, config);
        const double cost = static_cast<double>(sim.compute) / static_cast<double>(std::max<size_t>(sample.size(), 1));
        if (cost < best_cost) {
          best_cost = cost;
          best = d;
        }
        emit(s, s + kSampleRows, d);
        s += kSampleRows;
      }
      emit(s, r1, best);
    }
  }
  // Tasks on empty B rows do no work and fetch nothing.
  std::erase_if(tasks, [&](const Task& t) { return b.row_nnz(t.k) == 0; });
  const Simulation sim = simulate(b, c_row_nnz, tasks, config);
  r.tasks = static_cast<int64_t>(tasks.size());
  r.multiplications = sim.mults;
  r.pure_tasks = sim.pure;
  r.line_hits = sim.hits;
  r.line_misses = sim.misses;
  r.compute_cycles = sim.compute;
  r.conflict_cycles = sim.conflict;
  r.dram = csr_bytes(a) + B(sim.misses * config.line_bytes) + csr_bytes(c);
  const double bytes_per_cycle = config.dram.base() / (config.clock_ghz * 1e9);
  const auto dram_cycles = static_cast<int64_t>(std::ceil(static_cast<double>(r.dram.count()) / bytes_per_cycle));
  r.cycles = std::max(sim.compute, dram_cycles);
  return r;
}

int64_t pure_fibers(const std::vector<int>& fiber_lines, const std::vector<int>& requests, int capacity_lines,
                    CachePolicy policy) {
  std::vector<int64_t> lines(fiber_lines.begin(), fiber_lines.end());
  std::vector<int64_t> first(lines.size(), 0);
  for (size_t f = 1; f < lines.size(); ++f) first[f] = first[f - 1] + lines[f - 1];
  std::vector<int64_t> nxt(requests.size(), kFar);
  std::vector<int64_t> next_use(lines.size(), kFar);
  for (size_t t = requests.size(); t-- > 0;) {
    nxt[t] = next_use[u(requests[t])];
    next_use[u(requests[t])] = static_cast<int64_t>(t);
  }
  FiberCache cache(1, capacity_lines, policy, kFar - 1);
  int64_t pure = 0;
  for (size_t t = 0; t < requests.size(); ++t) {
    const int f = requests[t];
    next_use[u(f)] = nxt[t];
    const int64_t miss = cache.access(f, first[u(f)], lines[u(f)], static_cast<int64_t>(t), lines,
                                      [&](int32_t g) { return next_use[u(g)]; });
    pure += miss == 0;
  }
  return pure;
}

}  // namespace mlsys::sparse
