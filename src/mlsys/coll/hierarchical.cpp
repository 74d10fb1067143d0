// hierarchical allreduce (MPICH's node-aware composition, NCCL's intra/inter split; research
// notes §2.2): nodes of G = ranks_per_node consecutive ranks, N = P / G nodes.
//   1. intra-node ring reduce-scatter: local rank l ends with super-block l (N blocks) reduced
//      over its node;                                                       G - 1 steps
//   2. inter-node ring allreduce of super-block l among the N ranks with local index l, one
//      block per node;                                                 2 (N - 1) steps
//   3. intra-node ring allgather of the super-blocks.                         G - 1 steps
// Block b = l * N + m: super-block l, its m-th part.

#include "mlsys/coll/internal/families.h"
#include "mlsys/coll/internal/schedule_tools.h"

namespace mlsys::coll::internal {
namespace {

class Hierarchical final : public Algorithm {
 public:
  explicit Hierarchical(AlgorithmParams p) : Algorithm(std::move(p)) {}

  std::string name() const override { return "hierarchical"; }
  int64_t block_count() const override { return ranks(); }

  RankSchedule schedule_for(int rank) const override {
    const int g = params_.ranks_per_node;
    const int n = ranks() / g;
    const int node = rank / g;
    const int local = rank % g;
    ScheduleBuilder b(rank, 2 * (g - 1) + 2 * (n - 1));
    std::vector<int> intra(static_cast<size_t>(g));
    for (int l = 0; l < g; ++l) intra[static_cast<size_t>(l)] = node * g + l;
    std::vector<int> inter(static_cast<size_t>(n));
    for (int m = 0; m < n; ++m) inter[static_cast<size_t>(m)] = m * g + local;
    const ChunkBlocks super_block = [n](int l) {
      std::vector<int32_t> blocks(static_cast<size_t>(n));
      for (int m = 0; m < n; ++m) blocks[static_cast<size_t>(m)] = l * n + m;
      return blocks;
    };
    const ChunkBlocks part = [n, local](int m) { return std::vector<int32_t>{local * n + m}; };
    add_ring_reduce_scatter(b, 0, intra, local, super_block);
    add_ring_reduce_scatter(b, g - 1, inter, node, part);
    add_ring_allgather(b, g - 1 + n - 1, inter, node, part);
    add_ring_allgather(b, g - 1 + 2 * (n - 1), intra, local, super_block);
    return std::move(b).finish();
  }
};

}  // namespace

Result<AlgorithmPtr> make_hierarchical(const AlgorithmParams& params) {
  MLSYS_RETURN_IF_ERROR(require_single_port(params, "hierarchical"));
  return AlgorithmPtr(std::make_unique<Hierarchical>(params));
}

}  // namespace mlsys::coll::internal
