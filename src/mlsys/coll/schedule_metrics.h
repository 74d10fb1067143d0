// Figures read off a schedule without timing it: torus hop distances and the Swing paper's
// hop-weighted traffic (research notes §1.4), the quantity behind Swing's bandwidth advantage.
//
//   auto rs = make_algorithm("swing-bw", {.collective = Collective::kReduceScatter, .ranks = 64,
//                                         .torus = {8, 8}});
//   double t = hop_weighted_traffic(**rs, 0);   // 1.078125
#pragma once

#include <span>

#include "mlsys/coll/schedule.h"

namespace mlsys::coll {

/// Minimal hops between ranks a and b on a wrap-around torus of `dims` (row-major ranks):
/// the sum over dimensions of min(|da|, d - |da|).
int torus_hops(std::span<const int> dims, int a, int b);

/// Sum over `rank`'s steps and sends of (torus hops to the peer) x (blocks sent / block_count):
/// the vector fractions a rank puts on the wire, each weighted by the links it crosses, on the
/// algorithm's torus (params().torus, or a ring of ranks() when empty). Blocks count as equal
/// fractions of the vector. Built for a reduce-scatter algorithm this is the paper's
/// hop-weighted bytes of one reduce-scatter in units of n; for an allreduce it counts both halves.
double hop_weighted_traffic(const Algorithm& algorithm, int rank);

}  // namespace mlsys::coll
