// The reference executor: runs an Algorithm's schedules serially on in-memory vectors, the
// oracle every other executor (analytic, flow, MPI) and every algorithm is tested against. It
// also validates the schedules: every send must meet exactly one receive of the same blocks at
// the peer in the same step.
//
//   auto algo = make_algorithm("ring", {.ranks = 4});
//   std::vector<std::vector<int64_t>> v = {{1, 2}, {3, 4}, {5, 6}, {7, 8}};
//   auto out = run_reference(**algo, v, ReduceOp::kSum);   // every rank: {16, 20}
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "mlsys/coll/schedule.h"
#include "mlsys/core/result.h"

namespace mlsys::coll {

enum class ReduceOp { kSum, kMax, kMin, kProd };

std::string_view to_string(ReduceOp op);
/// "sum", "max", "min", "prod".
Result<ReduceOp> parse_reduce_op(std::string_view text);

/// Where vector element ranges of the blocks start: block b holds elements
/// [offsets[b], offsets[b+1]) of an `elements`-long vector cut into `blocks` blocks, the first
/// (elements % blocks) blocks one element longer (schedule.h's block_bytes rule).
std::vector<int64_t> block_offsets(int64_t elements, int64_t blocks);

/// Checks every rank's schedule without running it: rank numbers, peers in range and not the rank
/// itself, blocks ascending, distinct and below block_count(), no block copied twice (or copied
/// and reduced) into one rank in one step, and every send matched by exactly one receive of the
/// same blocks at the peer in the same step (and the other way round). The Error names the rank,
/// step and peer. Generates one schedule at a time, so it runs on thousands of ranks.
Status validate_schedules(const Algorithm& algorithm);

/// Runs the schedules on `buffers` (one vector per rank, all the same length) with `op` and
/// returns the buffers afterwards. All sends of step s read the buffers as they were at the start
/// of step s. Integer sums and products wrap around (two's complement), so they are exact in any
/// order. What the buffers must hold before and mean after depends on the collective (schedule.h):
/// allreduce: every vector in, the reduction everywhere out; reduce-scatter: the owner's blocks
/// are reduced; allgather: each rank's own blocks in, all blocks out; alltoall: block s*P+d moves
/// from rank s to rank d. Errors: wrong number or lengths of buffers, or an invalid schedule
/// (validate_schedules).
Result<std::vector<std::vector<double>>> run_reference(const Algorithm& algorithm,
                                                       std::vector<std::vector<double>> buffers, ReduceOp op);
Result<std::vector<std::vector<int64_t>>> run_reference(const Algorithm& algorithm,
                                                        std::vector<std::vector<int64_t>> buffers,
                                                        ReduceOp op);

/// The element-wise reduction of `a` and `b` under `op`, as run_reference applies it.
double reduce_values(ReduceOp op, double a, double b);
int64_t reduce_values(ReduceOp op, int64_t a, int64_t b);

}  // namespace mlsys::coll
