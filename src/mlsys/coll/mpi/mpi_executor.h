// The MPI executor: runs any coll::Algorithm schedule for real with MPI point-to-point messages.
//
// Each step posts one MPI_Irecv per receive (into a scratch buffer) and one MPI_Isend per send,
// waits for all of them, then reduces or copies the received blocks into place. Vectors larger
// than the chunk size run the schedule once per chunk, so the extra memory is bounded by about
// two chunks whatever the vector size. Blocks untouched so far are read straight from the
// caller's send buffer (no up-front copy of the input).
//
//   auto algo = make_algorithm("swing-bw", {.collective = Collective::kAllreduce, .ranks = p});
//   auto ex = MpiExecutor::create(std::move(*algo), my_dup_comm, {.chunk = MiB(4)});
//   Status st = (*ex)->allreduce(in.data(), out.data(), n, DataType::kF32, ReduceOp::kSum);
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "mlsys/coll/mpi/reduce_kernels.h"
#include "mlsys/coll/schedule.h"
#include "mlsys/core/result.h"
#include "mlsys/core/units.h"

namespace mlsys::coll {

struct ExecutorOptions {
  /// The schedule runs on pieces of at most this many bytes of the vector (reduce-scatter and
  /// allgather: the same offsets of every rank's segment, chunk / P bytes of each). Clamped to
  /// [1 element, 1 GiB].
  Bytes chunk = MiB(4);
  /// Transfers up to this size travel as one message (packed when their blocks are scattered);
  /// larger ones as one message per run of consecutive blocks, sent without packing and, for
  /// copies, received in place. Every rank must use the same value.
  Bytes single_message = KiB(64);
};

/// Counters of one executor since creation, for the interposition library's verbose report.
struct ExecutorStats {
  int64_t calls = 0;
  int64_t messages_sent = 0;
  Bytes bytes_sent;
  Bytes bytes_packed;  // sent from the packing buffer because the blocks were not contiguous
};

/// Allreduce blocks may sit anywhere in memory as long as every rank places them alike. This
/// gives each block a slot (a permutation of 0..block_count-1) such that what a step sends is
/// contiguous when the algorithm allows it: the vector is followed as the schedule splits it,
/// a rank's live blocks laid out as [kept at this step][sent to each peer], each part ordered
/// recursively by the rank holding it next. Recursive halving gets the bit-reversal order;
/// Swing's scattered sets become contiguous. Depends only on the algorithm (the same on every
/// rank); generates up to P schedules.
std::vector<int32_t> contiguous_block_order(const Algorithm& algorithm);

class MpiExecutor {
 public:
  /// Builds an executor for `algorithm` on `comm`. The caller reserves `comm` for the executor's
  /// point-to-point messages (duplicate the application's communicator): the executor uses tags
  /// [kTagBase, kTagBase + steps). The algorithm must be built for comm's size. Up to 512 ranks
  /// every rank validates all ranks' schedules (coll::validate_schedules), so a schedule whose
  /// send lacks a matching receive is the same error on every rank rather than a hang later;
  /// above 512 each rank checks its own transfers against its peers'. Not collective: makes no
  /// MPI calls beyond MPI_Comm_rank/size.
  static Result<std::unique_ptr<MpiExecutor>> create(std::unique_ptr<Algorithm> algorithm, MPI_Comm comm,
                                                     ExecutorOptions options = {});

  /// MPI_Allreduce semantics on `count` elements; `send == recv` runs in place. The algorithm's
  /// collective must be kAllreduce.
  Status allreduce(const void* send, void* recv, int64_t count, DataType type, ReduceOp op);
  /// MPI_Reduce_scatter_block: `send` holds P * recv_count elements, rank r's segment r of the
  /// reduction lands in `recv` (recv_count elements). Not in place. Collective kReduceScatter.
  Status reduce_scatter_block(const void* send, void* recv, int64_t recv_count, DataType type, ReduceOp op);
  /// MPI_Allgather: `send` holds send_count elements, `recv` P * send_count; `send == nullptr`
  /// means in place (this rank's segment is already in `recv`). Collective kAllgather.
  Status allgather(const void* send, void* recv, int64_t send_count, DataType type);

  const Algorithm& algorithm() const { return *algorithm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  Bytes chunk() const { return options_.chunk; }
  const ExecutorStats& stats() const { return stats_; }
  /// Largest scratch allocation so far (receive staging plus send packing plus, for
  /// reduce-scatter, the partial sums of other ranks' segments).
  Bytes scratch_bytes() const;

  static constexpr int kTagBase = 1000;

 private:
  MpiExecutor(std::unique_ptr<Algorithm> algorithm, MPI_Comm comm, int rank, int size,
              ExecutorOptions options);
  // The algorithm is built for `collective` and the element count is not negative.
  Status check_call(Collective collective, std::string_view count_name, int64_t count) const;

  // Where a block's current value lives during one run of the schedule on one chunk.
  enum class BlockState : uint8_t { kEmpty, kSource, kWork };

  struct ChunkLayout {
    std::vector<int64_t> length;           // elements per block
    std::vector<const std::byte*> source;  // the caller's input, or nullptr
    std::vector<std::byte*> work;          // where the block's result is built
    std::vector<BlockState> state;
  };

  // One MPI message: blocks [first, last) of a transfer's block list.
  struct Message {
    const Transfer* transfer = nullptr;
    size_t first = 0;
    size_t last = 0;
    int64_t bytes = 0;
    const std::byte* send_from = nullptr;  // sends: the blocks in place when contiguous, else packed
    std::byte* recv_into = nullptr;        // receives: in place (copies only) or a scratch slot
    bool staged = false;                   // receives: landed in scratch, to reduce or copy out
  };

  Status run_chunk(ChunkLayout& layout, DataType type, ReduceOp op);
  Status wait_all();
  std::vector<Message>& split(const std::vector<Transfer>& transfers, const ChunkLayout& layout, int64_t es,
                              std::vector<Message>& out) const;
  std::byte* grow(std::vector<std::byte>& buffer, size_t bytes);

  std::unique_ptr<Algorithm> algorithm_;
  MPI_Comm comm_;
  int rank_;
  int size_;
  ExecutorOptions options_;
  RankSchedule schedule_;
  int64_t blocks_;
  std::vector<int> owner_;            // reduce-scatter / allgather: owner of each block
  std::vector<int64_t> owned_index_;  // block's position among its owner's blocks
  int64_t blocks_per_owner_ = 0;
  std::vector<std::byte> recv_scratch_;
  std::vector<std::byte> pack_scratch_;
  std::vector<std::byte> work_scratch_;
  ChunkLayout layout_;  // reused by every call: no allocation on the hot path
  std::vector<MPI_Request> requests_;
  std::vector<Message> send_msgs_;
  std::vector<Message> recv_msgs_;
  std::vector<uint8_t> sent_mark_;  // blocks some send of the current step reads
  ExecutorStats stats_;
};

}  // namespace mlsys::coll
