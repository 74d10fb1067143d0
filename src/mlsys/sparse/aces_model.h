// Analytical model of the ACES SpGEMM accelerator (Lu et al., ASPLOS'24; research notes §1):
// 16 multiplier PEs each running scalar x fiber tasks a_ik x B(k,:), 16 merger PEs merging the
// partial fibers into C rows, a set-associative global cache of B fibers with LRU, RD
// (next-request distance, Belady within the look-ahead) or PureFiber (evict max RD + fiber
// lines) replacement, and HBM. A's entries are issued per row band in the order of the band's
// condensing degree (none / moderate / aggressive), or adaptively (3 x 32-row sampling per band of
// >= 256 rows, moderate for shorter bands), as the paper describes. Cycles and DRAM traffic only:
// an ablation model for trends, not a cycle-accurate simulator.
//
//   sparse::AcesConfig cfg;                          // 16 PEs, 1 MB 16-way, 128 GB/s, PureFiber
//   MLSYS_ASSIGN_OR_RETURN(sparse::AcesModelResult r, sparse::model_aces(a, a, cfg));
//   // r.cycles, r.dram, r.pure_tasks ...
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"
#include "mlsys/sparse/matrix.h"
#include "mlsys/sparse/spgemm.h"

namespace mlsys::sparse {

enum class CachePolicy {
  kLru,        // least recently used line
  kRd,         // largest next-request distance of the line's fiber (Belady within the look-ahead)
  kPureFiber,  // largest RD + FD (FD = lines of the line's fiber); ties: larger FD
};
std::string_view to_string(CachePolicy policy);

struct AcesConfig {
  int pes = 16;                         // multiplier PEs, each paired with one merger PE
  Bytes cache = MiB(1);                 // global cache for B fibers
  int ways = 16;
  int line_bytes = 64;
  Bandwidth dram = GBps(128);
  double clock_ghz = 1.0;
  int lookahead = 32;                   // A entries buffered ahead: RD is known this far (tasks)
  int64_t miss_latency_cycles = 100;    // a task whose fiber misses a line waits this long
  CachePolicy policy = CachePolicy::kPureFiber;
  std::optional<Condensing> degree;     // nullopt: adaptive (ACES)
};

struct AcesModelResult {
  int64_t cycles = 0;          // max(pipeline cycles, DRAM bytes / bandwidth)
  int64_t compute_cycles = 0;  // waves of `pes` tasks: max(multiply + miss stall, serialised merges)
  int64_t conflict_cycles = 0; // merge cycles lost to tasks of one wave sharing a C row
  Bytes dram;                  // A once + missed B lines + C written once
  int64_t tasks = 0;           // = nnz(A) with a non-empty B row
  int64_t multiplications = 0; // = multiplications(A, B), for every degree and policy
  int64_t pure_tasks = 0;      // tasks whose every B line hit (PureFiber's objective)
  int64_t line_hits = 0;
  int64_t line_misses = 0;
  int64_t bands = 0;
  int64_t degree_rows[3] = {0, 0, 0};  // rows issued with none / moderate / aggressive
  Time time() const;                   // cycles at the clock
};

/// Models C = A·B on the accelerator. kInvalidInput when A.cols != B.rows or the cache shape is
/// not a positive number of sets.
Result<AcesModelResult> model_aces(const Csr<double>& a, const Csr<double>& b, const AcesConfig& config);

/// Pure fibers (requests whose lines all hit) of a fully associative cache of `capacity_lines`
/// lines serving one fiber per step, fiber f occupying fiber_lines[f] lines; RD is the exact
/// distance in steps to the fiber's next request. The paper's Fig. 5 example (lines 2,5,1,6,4;
/// 8 lines; B0 B1 B2 B4 B1 B0 B2 B3 B0) gives 1 with kRd (Belady) and 3 with kPureFiber.
int64_t pure_fibers(const std::vector<int>& fiber_lines, const std::vector<int>& requests, int capacity_lines,
                    CachePolicy policy);

}  // namespace mlsys::sparse
