// bucket (Jain & Sabharwal; research notes §1.4): on a D-dimensional torus, a ring
// reduce-scatter along dimension 0, then along dimension 1 on the part each rank kept, ...,
// then ring allgathers in the reverse dimension order. 2 * sum_k (d_k - 1) steps, neighbours
// only. Multiport (ports = 1 .. 2D): port q carries its own share of the vector, starts on
// dimension q mod D and, for q >= D, runs its rings the other way round, so concurrent ports use
// different links.

#include "mlsys/coll/internal/families.h"
#include "mlsys/coll/internal/schedule_tools.h"

namespace mlsys::coll::internal {
namespace {

class BucketAlgorithm final : public Algorithm {
 public:
  explicit BucketAlgorithm(AlgorithmParams p) : Algorithm(std::move(p)), index_(torus_of(params_)) {}

  std::string name() const override { return "bucket"; }
  int64_t block_count() const override { return static_cast<int64_t>(ranks()) * params_.ports; }
  int owner_of_block(int64_t block) const override { return static_cast<int>(block / params_.ports); }

  RankSchedule schedule_for(int rank) const override {
    const Collective c = params_.collective;
    const bool rs = c != Collective::kAllgather;
    const bool ag = c != Collective::kReduceScatter;
    const int dims = index_.dimensions();
    int phase_steps = 0;
    for (int k = 0; k < dims; ++k) phase_steps += index_.size(k) - 1;
    ScheduleBuilder b(rank, (rs ? phase_steps : 0) + (ag ? phase_steps : 0));
    const std::vector<int> me = index_.coords(rank);
    for (int q = 0; q < params_.ports; ++q) {
      std::vector<int> order;
      for (int i = 0; i < dims; ++i) order.push_back((q + i) % dims);
      const bool reverse = q >= dims;
      int step = 0;
      if (rs) {
        for (int i = 0; i < dims; ++i) step += add_phase(b, step, me, order, i, q, reverse, /*reduce=*/true);
      }
      if (ag) {
        for (int i = dims; i-- > 0;) step += add_phase(b, step, me, order, i, q, reverse, /*reduce=*/false);
      }
    }
    return std::move(b).finish();
  }

 private:
  // One ring along dimension order[i]: the chunks are the blocks whose owner matches `me` on the
  // dimensions before it (already scattered) and has coordinate x on this one. Returns the steps.
  int add_phase(ScheduleBuilder& b, int step0, const std::vector<int>& me, const std::vector<int>& order,
                int i, int port, bool reverse, bool reduce) const {
    const int k = order[static_cast<size_t>(i)];
    const int d = index_.size(k);
    if (d == 1) return 0;
    std::vector<int> line(static_cast<size_t>(d));
    for (int x = 0; x < d; ++x) line[static_cast<size_t>(x)] = reverse ? (d - x) % d : x;
    std::vector<int> coords = me;
    std::vector<int> ranks_on_line(static_cast<size_t>(d));
    for (int x = 0; x < d; ++x) {
      coords[static_cast<size_t>(k)] = line[static_cast<size_t>(x)];
      ranks_on_line[static_cast<size_t>(x)] = static_cast<int>(index_.rank(coords));
    }
    const int pos = reverse ? (d - me[static_cast<size_t>(k)]) % d : me[static_cast<size_t>(k)];
    const ChunkBlocks chunk = [&](int x) {
      std::vector<std::vector<int>> lists(static_cast<size_t>(index_.dimensions()));
      for (int m = 0; m < index_.dimensions(); ++m) {
        auto& l = lists[static_cast<size_t>(m)];
        if (m == k) {
          l.push_back(line[static_cast<size_t>(x)]);
          continue;
        }
        bool fixed = false;
        for (int e = 0; e < i; ++e) fixed = fixed || order[static_cast<size_t>(e)] == m;
        if (fixed) {
          l.push_back(me[static_cast<size_t>(m)]);
        } else {
          for (int y = 0; y < index_.size(m); ++y) l.push_back(y);
        }
      }
      std::vector<int32_t> blocks;
      for (int64_t owner : product_ids(index_.strides(), lists)) {
        blocks.push_back(static_cast<int32_t>(owner * params_.ports + port));
      }
      return blocks;
    };
    if (reduce) {
      add_ring_reduce_scatter(b, step0, ranks_on_line, pos, chunk);
    } else {
      add_ring_allgather(b, step0, ranks_on_line, pos, chunk);
    }
    return d - 1;
  }

  TorusIndex index_;
};

}  // namespace

Result<AlgorithmPtr> make_bucket(const AlgorithmParams& params) {
  MLSYS_RETURN_IF_ERROR(check_port_count(params, "bucket"));
  return AlgorithmPtr(std::make_unique<BucketAlgorithm>(params));
}

}  // namespace mlsys::coll::internal
