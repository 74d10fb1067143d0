// ring: reduce-scatter then allgather around ranks 0 -> 1 -> ... -> P-1 -> 0 (Patarasuk & Yuan;
// research notes §1.4 / §2.3): 2(P-1) steps of n/P bytes each, any P.

#include <numeric>

#include "mlsys/coll/internal/families.h"
#include "mlsys/coll/internal/schedule_tools.h"

namespace mlsys::coll::internal {
namespace {

class RingAlgorithm final : public Algorithm {
 public:
  explicit RingAlgorithm(AlgorithmParams p) : Algorithm(std::move(p)) {}

  std::string name() const override { return "ring"; }
  int64_t block_count() const override { return ranks(); }
  int owner_of_block(int64_t block) const override { return static_cast<int>(block); }
  // Rank r's ring is rank 0's shifted by r: peers r+1 and r-1, one block per step.
  bool rank_translation_invariant() const override { return true; }

  RankSchedule schedule_for(int rank) const override {
    const int p = ranks();
    const Collective c = params_.collective;
    const bool rs = c != Collective::kAllgather;
    const bool ag = c != Collective::kReduceScatter;
    ScheduleBuilder b(rank, (rs ? p - 1 : 0) + (ag ? p - 1 : 0));
    std::vector<int> line(static_cast<size_t>(p));
    std::iota(line.begin(), line.end(), 0);
    const ChunkBlocks chunk = [](int i) { return std::vector<int32_t>{i}; };
    if (rs) add_ring_reduce_scatter(b, 0, line, rank, chunk);
    if (ag) add_ring_allgather(b, rs ? p - 1 : 0, line, rank, chunk);
    return std::move(b).finish();
  }
};

}  // namespace

Result<AlgorithmPtr> make_ring(const AlgorithmParams& params) {
  MLSYS_RETURN_IF_ERROR(require_single_port(params, "ring"));
  return AlgorithmPtr(std::make_unique<RingAlgorithm>(params));
}

}  // namespace mlsys::coll::internal
