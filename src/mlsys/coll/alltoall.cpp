// alltoall: block s * P + d starts on rank s and ends on rank d (research notes §2.3, §6).
//   pairwise  step i = 1..P-1: send block (r, r+i) to r+i, receive (r-i, r) from r-i.
//   bruck     ceil(log2 P) steps; step k sends to r + 2^k every block whose remaining distance
//             (d - s mod P) has bit k set. The classic local rotations are relabellings: here a
//             rank simply holds the global blocks that passed through it.
//   2dh       Tutel's two-level hierarchical alltoall (§6.2), nodes of G = ranks_per_node ranks:
//             an intra-node alltoall that gathers, on local rank l, its node's blocks for every
//             rank with local index l (G - 1 pairwise steps of N blocks), then an inter-node
//             alltoall among the ranks with the same local index (N - 1 pairwise steps of G blocks).
//   pipe-a2a  ScheMoE's Pipe-A2A (§6.1): the direct exchange with the intra-node and the
//             inter-node peers on two concurrent streams: step k carries the k-th intra-node and
//             the k-th inter-node transfer, so the two networks work at the same time.

#include "mlsys/coll/internal/families.h"
#include "mlsys/coll/internal/schedule_tools.h"

namespace mlsys::coll::internal {
namespace {

int wrap(int64_t a, int m) { return static_cast<int>(((a % m) + m) % m); }

class AlltoallBase : public Algorithm {
 public:
  explicit AlltoallBase(AlgorithmParams p) : Algorithm(std::move(p)) {}
  int64_t block_count() const override { return static_cast<int64_t>(ranks()) * ranks(); }
  int owner_of_block(int64_t block) const override { return static_cast<int>(block % ranks()); }

 protected:
  int32_t block(int src, int dst) const {
    return static_cast<int32_t>(static_cast<int64_t>(src) * ranks() + dst);
  }
};

class Pairwise final : public AlltoallBase {
 public:
  using AlltoallBase::AlltoallBase;
  std::string name() const override { return "pairwise"; }

  RankSchedule schedule_for(int rank) const override {
    const int p = ranks();
    ScheduleBuilder b(rank, p - 1);
    for (int i = 1; i < p; ++i) {
      const int to = (rank + i) % p;
      const int from = wrap(rank - i, p);
      b.send(i - 1, to, {block(rank, to)}, RecvKind::kCopy);
      b.recv(i - 1, from, {block(from, rank)}, RecvKind::kCopy);
    }
    return std::move(b).finish();
  }
};

class Bruck final : public AlltoallBase {
 public:
  using AlltoallBase::AlltoallBase;
  std::string name() const override { return "bruck"; }

  RankSchedule schedule_for(int rank) const override {
    const int p = ranks();
    const int steps = ceil_log2(p);
    ScheduleBuilder b(rank, steps);
    for (int k = 0; k < steps; ++k) {
      const int dist = 1 << k;
      // Before step k, the block at rank x with remaining distance j (slot j of Bruck's rotated
      // buffer) came from source x - (j mod 2^k), having moved by the low bits of j already.
      const auto held = [&](int x) {
        std::vector<int32_t> blocks;
        for (int j = 1; j < p; ++j) {
          if ((j & dist) == 0) continue;
          const int src = wrap(x - (j & (dist - 1)), p);
          blocks.push_back(block(src, (src + j) % p));
        }
        return blocks;
      };
      b.send(k, (rank + dist) % p, held(rank), RecvKind::kCopy);
      b.recv(k, wrap(rank - dist, p), held(wrap(rank - dist, p)), RecvKind::kCopy);
    }
    return std::move(b).finish();
  }
};

class TwoLevel final : public AlltoallBase {
 public:
  using AlltoallBase::AlltoallBase;
  std::string name() const override { return "2dh"; }

  RankSchedule schedule_for(int rank) const override {
    const int g = params_.ranks_per_node;
    const int n = ranks() / g;
    const int node = rank / g;
    const int local = rank % g;
    ScheduleBuilder b(rank, (g - 1) + (n - 1));
    // Phase 1: my blocks for every rank with local index l go to local rank l of my node.
    const auto for_local = [&](int src, int l) {
      std::vector<int32_t> blocks;
      for (int m = 0; m < n; ++m) blocks.push_back(block(src, m * g + l));
      return blocks;
    };
    for (int i = 1; i < g; ++i) {
      const int to = node * g + (local + i) % g;
      const int from = node * g + wrap(local - i, g);
      b.send(i - 1, to, for_local(rank, (local + i) % g), RecvKind::kCopy);
      b.recv(i - 1, from, for_local(from, local), RecvKind::kCopy);
    }
    // Phase 2: what my node has for rank (m, local) goes to it.
    const auto from_node = [&](int src_node, int dst) {
      std::vector<int32_t> blocks;
      for (int l = 0; l < g; ++l) blocks.push_back(block(src_node * g + l, dst));
      return blocks;
    };
    for (int j = 1; j < n; ++j) {
      const int to = ((node + j) % n) * g + local;
      const int from_n = wrap(node - j, n);
      b.send(g - 1 + j - 1, to, from_node(node, to), RecvKind::kCopy);
      b.recv(g - 1 + j - 1, from_n * g + local, from_node(from_n, rank), RecvKind::kCopy);
    }
    return std::move(b).finish();
  }
};

class PipeAlltoall final : public AlltoallBase {
 public:
  using AlltoallBase::AlltoallBase;
  std::string name() const override { return "pipe-a2a"; }

  RankSchedule schedule_for(int rank) const override {
    const int g = params_.ranks_per_node;
    const int n = ranks() / g;
    const int node = rank / g;
    const int local = rank % g;
    const int intra_steps = g - 1;
    const int inter_steps = (n - 1) * g;
    ScheduleBuilder b(rank, std::max(intra_steps, inter_steps));
    for (int i = 1; i < g; ++i) {
      const int to = node * g + (local + i) % g;
      const int from = node * g + wrap(local - i, g);
      b.send(i - 1, to, {block(rank, to)}, RecvKind::kCopy);
      b.recv(i - 1, from, {block(from, rank)}, RecvKind::kCopy);
    }
    // Inter-node transfer k: node offset k / G + 1, local offset k mod G.
    for (int k = 0; k < inter_steps; ++k) {
      const int dn = k / g + 1;
      const int dl = k % g;
      const int to = ((node + dn) % n) * g + (local + dl) % g;
      const int from = wrap(node - dn, n) * g + wrap(local - dl, g);
      b.send(k, to, {block(rank, to)}, RecvKind::kCopy);
      b.recv(k, from, {block(from, rank)}, RecvKind::kCopy);
    }
    return std::move(b).finish();
  }
};

}  // namespace

Result<AlgorithmPtr> make_pairwise_alltoall(const AlgorithmParams& params) {
  MLSYS_RETURN_IF_ERROR(require_single_port(params, "pairwise"));
  return AlgorithmPtr(std::make_unique<Pairwise>(params));
}

Result<AlgorithmPtr> make_bruck_alltoall(const AlgorithmParams& params) {
  MLSYS_RETURN_IF_ERROR(require_single_port(params, "bruck"));
  return AlgorithmPtr(std::make_unique<Bruck>(params));
}

Result<AlgorithmPtr> make_2dh_alltoall(const AlgorithmParams& params) {
  MLSYS_RETURN_IF_ERROR(require_single_port(params, "2dh"));
  return AlgorithmPtr(std::make_unique<TwoLevel>(params));
}

Result<AlgorithmPtr> make_pipe_alltoall(const AlgorithmParams& params) {
  MLSYS_RETURN_IF_ERROR(require_single_port(params, "pipe-a2a"));
  return AlgorithmPtr(std::make_unique<PipeAlltoall>(params));
}

}  // namespace mlsys::coll::internal
