// The algorithm registry: every collective algorithm by name, built for a number of ranks, a
// torus shape, a port count and a node size (schedule.h's AlgorithmParams).
//
//   auto algo = make_algorithm("swing-bw", {.collective = Collective::kAllreduce, .ranks = 64,
//                                           .torus = {8, 8}});
//   if (!algo) return algo.error();  // e.g. "torus 8x4 has 32 ranks, not 64"
//
// Names (README.md gives each one's source):
//   allreduce              ring, recdoub, rabenseifner, bucket, swing-lat, swing-bw, dbtree,
//                          hierarchical
//   reduce-scatter, allgather   ring, rabenseifner, bucket, swing-bw
//   alltoall               pairwise, bruck, 2dh, pipe-a2a
// Block layout: reduce-scatter / allgather algorithms cut the vector into ranks * ports blocks
// (ports = 1 except for swing-bw and bucket) and rank r owns blocks r*ports .. r*ports+ports-1;
// block b belongs to port b % ports. Alltoall uses ranks * ranks blocks, block s*P+d from s to d.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/coll/schedule.h"
#include "mlsys/core/result.h"

namespace mlsys::coll {

/// The algorithm `name` for `params`. Errors: ranks < 1, torus dimensions < 1 or not multiplying
/// to ranks, ranks_per_node < 1 or not dividing ranks, ports out of range (1 .. 2 * dimensions
/// for swing-lat, swing-bw and bucket; 1 for the others), a name this collective does not have
/// (with the names it has), an unknown name (with "did you mean"), swing-bw on a torus with an
/// odd dimension size other than 1.
Result<std::unique_ptr<Algorithm>> make_algorithm(std::string_view name, const AlgorithmParams& params);

/// The names available for `collective`, in the order above.
std::vector<std::string> algorithm_names(Collective collective);

/// Every name of every collective, each once.
std::vector<std::string> all_algorithm_names();

/// True for the algorithms with a multiport variant (ports > 1): swing-lat, swing-bw, bucket.
bool supports_multiport(std::string_view name);

/// Torus dimensions from text such as "8x8" or "4x4x4" (also "8,8"); each dimension >= 1.
Result<std::vector<int>> parse_torus_dims(std::string_view text);

/// Rank `rank`'s schedule restricted to the blocks of port `port` (b % ports == port): what one
/// of the concurrent mirrored collectives does. Steps keep their numbers; a step where the port
/// is idle is empty. Errors: rank or port out of range.
Result<RankSchedule> port_schedule(const Algorithm& algorithm, int rank, int port);

}  // namespace mlsys::coll
