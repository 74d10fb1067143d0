#include "mlsys/coll/schedule_metrics.h"

#include <cstdlib>
#include <vector>

#include "mlsys/core/check.h"

namespace mlsys::coll {

int torus_hops(std::span<const int> dims, int a, int b) {
  int hops = 0;
  int64_t stride = 1;
  for (size_t k = dims.size(); k-- > 0;) {
    const int d = dims[k];
    const int ca = static_cast<int>((a / stride) % d);
    const int cb = static_cast<int>((b / stride) % d);
    const int diff = std::abs(ca - cb);
    hops += std::min(diff, d - diff);
    stride *= d;
  }
  return hops;
}

double hop_weighted_traffic(const Algorithm& algorithm, int rank) {
  MLSYS_CHECK(rank >= 0 && rank < algorithm.ranks(), "rank out of range");
  std::vector<int> dims = algorithm.params().torus;
  if (dims.empty()) dims = {algorithm.ranks()};
  const RankSchedule s = algorithm.schedule_for(rank);
  const auto blocks = static_cast<double>(algorithm.block_count());
  double total = 0.0;
  for (const Step& step : s.steps) {
    for (const Transfer& t : step.sends) {
      total += torus_hops(dims, rank, t.peer) * (static_cast<double>(t.blocks.size()) / blocks);
    }
  }
  return total;
}

}  // namespace mlsys::coll
