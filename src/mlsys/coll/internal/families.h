// The factories of each algorithm family (coll-private); algorithms.cpp's registry calls them
// after checking the parameters every algorithm shares (ranks, torus product, ranks_per_node,
// ports >= 1) and that the family implements the requested collective.
#pragma once

#include <memory>

#include "mlsys/coll/schedule.h"
#include "mlsys/core/result.h"

namespace mlsys::coll::internal {

using AlgorithmPtr = std::unique_ptr<Algorithm>;

Result<AlgorithmPtr> make_ring(const AlgorithmParams& params);                // ring.cpp
Result<AlgorithmPtr> make_recursive_doubling(const AlgorithmParams& params);  // recursive.cpp
Result<AlgorithmPtr> make_rabenseifner(const AlgorithmParams& params);        // recursive.cpp
Result<AlgorithmPtr> make_bucket(const AlgorithmParams& params);              // bucket.cpp
Result<AlgorithmPtr> make_swing_latency(const AlgorithmParams& params);       // swing.cpp
Result<AlgorithmPtr> make_swing_bandwidth(const AlgorithmParams& params);     // swing.cpp
Result<AlgorithmPtr> make_double_binary_tree(const AlgorithmParams& params);  // tree.cpp
Result<AlgorithmPtr> make_hierarchical(const AlgorithmParams& params);        // hierarchical.cpp
Result<AlgorithmPtr> make_pairwise_alltoall(const AlgorithmParams& params);   // alltoall.cpp
Result<AlgorithmPtr> make_bruck_alltoall(const AlgorithmParams& params);      // alltoall.cpp
Result<AlgorithmPtr> make_2dh_alltoall(const AlgorithmParams& params);        // alltoall.cpp
Result<AlgorithmPtr> make_pipe_alltoall(const AlgorithmParams& params);       // alltoall.cpp

}  // namespace mlsys::coll::internal
