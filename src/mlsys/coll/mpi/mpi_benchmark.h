// The engine of `mlsys coll run`: runs our schedule and the MPI library's own collective on the
// same deterministic data, checks ours against MPI's, and times both osu-style in one run.
// Also the MPI session guard and the check that every rank was given the same options.
//
//   MLSYS_RETURN_IF_ERROR(start_mpi());                          // MPI_Init unless already done
//   MLSYS_RETURN_IF_ERROR(check_ranks_agree(MPI_COMM_WORLD, {{"--sizes", "1KiB"}, ...}));
//   auto report = run_collective_benchmark(MPI_COMM_WORLD, config);   // same on every rank
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mlsys/coll/mpi/mpi_executor.h"
#include "mlsys/coll/mpi/reduce_kernels.h"
#include "mlsys/coll/schedule.h"
#include "mlsys/core/result.h"
#include "mlsys/core/units.h"

namespace mlsys::coll {

/// Starts MPI (MPI_Init) unless it is running already. MPI_Finalize then runs at process exit,
/// after the caller has printed any error: mpirun tears the whole job down when the first rank
/// exits with an error, and MPI_Finalize's synchronisation keeps every rank alive until all have
/// reported. Without mpirun MPI starts as a one-rank singleton. Error: MPI already finalised.
Status start_mpi();
/// This process's rank in MPI_COMM_WORLD, and its size.
int world_rank();
int world_size();

/// The MPI library's version banner, first line ("Open MPI v4.1.4, package: ...").
std::string mpi_library_version();

/// Collective over `comm`: every rank passes its options as (name, value-as-written) pairs, the
/// same names in the same order. Returns ok when all ranks agree; otherwise, on every rank, an
/// InvalidInput error naming the options and the ranks that differ from rank 0 and this rank's
/// value, e.g. "ranks disagree on --sizes: ranks 1,3 differ from rank 0 (this rank, 1, has
/// '2KiB')". Never hangs on a disagreement: one MPI_Allgather of fixed size decides.
Status check_ranks_agree(MPI_Comm comm, const std::vector<std::pair<std::string, std::string>>& options);

/// "4B..64MiB" (powers of two from LOW up to HIGH; HIGH included), comma lists ("0B,28B,1MiB")
/// and both ("4B..1KiB,3000B"). Listed sizes must be multiples of `element`; range sizes are
/// rounded down to one and sizes that round to 0 are skipped. Sorted, without repeats.
Result<std::vector<Bytes>> parse_size_list(std::string_view text, int64_t element);

struct BenchmarkConfig {
  Collective collective = Collective::kAllreduce;
  std::string algorithm = "swing-bw";  // a registry name or "auto"
  std::vector<int> torus;              // empty: one dimension
  int ports = 1;
  int ranks_per_node = 1;
  /// Allreduce: the whole vector; reduce-scatter: each rank's result (recvcount); allgather:
  /// each rank's contribution (sendcount).
  std::vector<Bytes> sizes;
  DataType type = DataType::kF32;
  ReduceOp op = ReduceOp::kSum;
  int iters = 0;   // timed iterations per size; 0: enough for about 0.2 s, 5 to 1000
  int warmup = 3;  // untimed iterations per size before timing
  Bytes chunk = MiB(4);
  uint64_t seed = 0;
};

/// Over iterations, of each iteration's slowest rank.
struct TimingStats {
  Time min;
  Time avg;
  Time max;
};

struct SizeResult {
  Bytes bytes;
  int64_t count = 0;      // elements per rank (see BenchmarkConfig::sizes)
  std::string algorithm;  // what ran at this size (differs by size only with "auto")
  int iters = 0;
  TimingStats ours;
  TimingStats mpi;
  /// Largest |ours - MPI| over all elements and ranks, and the allowed bound (see tolerance()).
  double max_error = 0.0;
  double tolerance = 0.0;
  bool verified = false;
};

struct BenchmarkReport {
  int ranks = 0;
  std::string mpi_library;
  std::vector<std::string> notes;  // fallbacks taken ("swing-bw does not run here (...)")
  std::vector<SizeResult> rows;
  bool all_verified() const;
};

/// The verification bound for one element, derived from the dtype's unit roundoff u (2^-24 f32,
/// 2^-53 f64, 2^-8 bf16) and P: integers and max/min must match exactly; a sum may differ by
/// 2 (P-1) u sum|x_r| (the classic bound for any summation order, once for ours and once for
/// MPI's) and a product by 2 (P-1) u |result|. `magnitude` is sum|x_r| for sums and |result|
/// for products.
double tolerance(DataType type, ReduceOp op, int ranks, double magnitude);

/// Collective over `comm`: for each size fills every rank's input deterministically from
/// `seed` (integer-valued, so float sums are exact unless P is large), runs our schedule and
/// MPI's collective, compares, then times `warmup` + `iters` rounds of both, interleaved, with
/// a barrier before each timed call. Identical on every rank. Errors: unknown algorithm, bad
/// torus, a collective other than allreduce / reduce-scatter / allgather, MPI failures.
Result<BenchmarkReport> run_collective_benchmark(MPI_Comm comm, const BenchmarkConfig& config);

}  // namespace mlsys::coll
