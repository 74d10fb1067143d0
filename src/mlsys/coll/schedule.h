// Collectives as explicit per-rank schedules: the one description that the analytic cost model,
// the flow-level simulator and the real MPI executor all run.
//
// A collective's vector is cut into `block_count` blocks of near-equal size. Each rank executes
// its steps in order; within a step its sends and receives proceed concurrently, and the step
// ends when all of them have completed. A send ships the current contents of its blocks; a
// receive either reduces the incoming blocks into the local ones or overwrites them.
//
//   auto algo = make_algorithm("swing-bw", {.collective = Collective::kAllreduce, .ranks = 64,
//                                           .torus = {8, 8}});
//   RankSchedule s = (*algo)->schedule_for(0);   // s.steps[0].sends[0].peer == 8
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"

namespace mlsys::coll {

enum class Collective {
  kAllreduce,      // every rank ends with the reduction of all ranks' vectors
  kReduceScatter,  // rank r ends with the reduction of the blocks it owns (owner_of_block)
  kAllgather,      // rank r starts with its own blocks; every rank ends with all blocks
  kAlltoall,       // block (s * P + d) starts on rank s and ends on rank d
};

std::string_view to_string(Collective c);
Result<Collective> parse_collective(std::string_view text);

enum class RecvKind {
  kReduce,  // combine the incoming blocks into the local ones with the collective's operator
  kCopy,    // overwrite the local blocks with the incoming ones
};

/// One message: to (send) or from (receive) `peer`, carrying `blocks` (block indices, ascending).
struct Transfer {
  int peer = -1;
  std::vector<int32_t> blocks;
  RecvKind kind = RecvKind::kReduce;  // receives only
};

struct Step {
  std::vector<Transfer> sends;
  std::vector<Transfer> recvs;
};

struct RankSchedule {
  int rank = 0;
  std::vector<Step> steps;
};

/// Where the ranks sit: a torus (for dimension-aware algorithms), and nodes of ranks_per_node
/// consecutive ranks (for hierarchical ones).
struct AlgorithmParams {
  Collective collective = Collective::kAllreduce;
  int ranks = 1;
  std::vector<int> torus;  // empty: one dimension of `ranks`; product must equal ranks
  int ports = 1;           // Swing multiport: concurrent mirrored collectives (1, or 2 per dimension)
  int ranks_per_node = 1;  // hierarchical / 2DH / Pipe-A2A
};

/// A collective algorithm: generates each rank's schedule on demand, so a 4096-rank schedule is
/// never held whole in memory.
class Algorithm {
 public:
  virtual ~Algorithm() = default;
  /// The registry name ("ring", "swing-bw", ...).
  virtual std::string name() const = 0;
  const AlgorithmParams& params() const { return params_; }
  int ranks() const { return params_.ranks; }
  /// Blocks the vector is cut into (alltoall: ranks * ranks, block s*P+d from s to d).
  virtual int64_t block_count() const = 0;
  /// Reduce-scatter / allgather: the rank that owns block b at the end / start.
  virtual int owner_of_block(int64_t block) const;
  /// The steps of `rank` (0 <= rank < ranks()).
  virtual RankSchedule schedule_for(int rank) const = 0;
  /// True when schedule_for(r) equals schedule_for(0) with every peer p replaced by (p + r) mod P
  /// and the same number of blocks per transfer (block ids may differ). Timing models then
  /// generate one rank instead of P.
  virtual bool rank_translation_invariant() const { return false; }

 protected:
  explicit Algorithm(AlgorithmParams params) : params_(std::move(params)) {}
  AlgorithmParams params_;
};

/// Bytes of block `b` when `total` bytes of `element_size`-byte elements are cut into `blocks`
/// blocks: elements are dealt so the first (elements % blocks) blocks get one extra.
Bytes block_bytes(Bytes total, int64_t element_size, int64_t blocks, int64_t b);

}  // namespace mlsys::coll
