#include "mlsys/coll/mpi/mpi_executor.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "mlsys/coll/reference_executor.h"
#include "mlsys/core/check.h"

namespace mlsys::coll {
namespace {

constexpr int kMaxSteps = 30000;       // tags stay below the MPI minimum TAG_UB (32767)
constexpr int kMaxCheckedRanks = 512;  // every schedule validated on every rank up to this size
constexpr int64_t kMaxBlocks = int64_t{1} << 24;
constexpr int64_t kMaxChunkBytes = int64_t{1} << 30;  // keeps every message count inside an int

Error mpi_error(int code, const std::string& what) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(code, text, &len);
  return Error(ErrorCode::kInternal, what + " failed: " + std::string(text, static_cast<size_t>(len)),
               "the MPI library reported an error; rerun with fewer ranks or check the MPI installation");
}

// Elements [offset, offset + length) of block `b` when `n` elements are dealt into `blocks`
// blocks (the first n % blocks get one extra), as coll::block_bytes deals bytes.
struct Span {
  int64_t offset;
  int64_t length;
};
Span dealt(int64_t n, int64_t blocks, int64_t b) {
  const int64_t base = n / blocks;
  const int64_t extra = n % blocks;
  return {b * base + std::min(b, extra), base + (b < extra ? 1 : 0)};
}

std::string transfer_text(int step, const char* what, int peer) {
  return "step " + std::to_string(step) + " " + what + " rank " + std::to_string(peer);
}

// Every send of `rank` in step s must meet a receive of the same blocks on its peer in step s
// (k-th send to q <-> q's k-th receive from rank), and vice versa.
Status check_matching(const Algorithm& algo, int rank, const RankSchedule& mine) {
  std::map<int, RankSchedule> peers;
  auto schedule_of = [&](int peer) -> const RankSchedule& {
    auto it = peers.find(peer);
    if (it == peers.end()) it = peers.emplace(peer, algo.schedule_for(peer)).first;
    return it->second;
  };
  auto mismatch = [&](int step, int peer, const char* what) {
    return Error(ErrorCode::kInternal,
                 "schedule of '" + algo.name() + "' is inconsistent: rank " + std::to_string(rank) + " " +
                     transfer_text(step, what, peer) + " has no matching transfer on the peer",
                 "this is a bug in the algorithm's schedule generator");
  };
  // The k-th transfer of `mine` to `peer` must meet the peer's k-th opposite transfer to `rank`.
  auto check_side = [&](size_t s, const std::vector<Transfer>& list, bool sends, const char* what) -> Status {
    std::map<int, int> nth;
    for (const Transfer& t : list) {
      const RankSchedule& other = schedule_of(t.peer);
      const int k = nth[t.peer]++;
      const Transfer* match = nullptr;
      int seen = 0;
      if (s < other.steps.size()) {
        for (const Transfer& r : sends ? other.steps[s].recvs : other.steps[s].sends) {
          if (r.peer == rank && seen++ == k) match = &r;
        }
      }
      if (match == nullptr || match->blocks != t.blocks) return mismatch(static_cast<int>(s), t.peer, what);
    }
    return {};
  };
  for (size_t s = 0; s < mine.steps.size(); ++s) {
    MLSYS_RETURN_IF_ERROR(check_side(s, mine.steps[s].sends, true, "send to"));
    MLSYS_RETURN_IF_ERROR(check_side(s, mine.steps[s].recvs, false, "receive from"));
  }
  return {};
}

}  // namespace

std::vector<int32_t> contiguous_block_order(const Algorithm& algo) {
  std::map<int, RankSchedule> cache;
  auto schedule_of = [&](int r) -> const RankSchedule& {
    auto it = cache.find(r);
    if (it == cache.end()) it = cache.emplace(r, algo.schedule_for(r)).first;
    return it->second;
  };
  const auto blocks = static_cast<size_t>(algo.block_count());
  std::vector<int32_t> order;
  order.reserve(blocks);
  std::vector<int> owner_of(blocks, -1);  // scratch: which part a block falls in
  // Iterative depth-first walk: (blocks, step, rank) frames, children pushed in reverse.
  struct Frame {
    std::vector<int32_t> set;
    size_t step;
    int rank;
  };
  std::vector<Frame> stack;
  std::vector<int32_t> all(blocks);
  for (size_t b = 0; b < blocks; ++b) all[b] = static_cast<int32_t>(b);
  stack.push_back({std::move(all), 0, 0});
  while (!stack.empty()) {
    Frame f = std::move(stack.back());
    stack.pop_back();
    if (f.set.size() <= 1) {
      order.insert(order.end(), f.set.begin(), f.set.end());
      continue;
    }
    const RankSchedule& sched = schedule_of(f.rank);
    if (f.step >= sched.steps.size()) {
      order.insert(order.end(), f.set.begin(), f.set.end());
      continue;
    }
    const Step& step = sched.steps[f.step];
    for (int32_t b : f.set) owner_of[static_cast<size_t>(b)] = -1;
    std::vector<int> peers;  // in send order
    for (const Transfer& t : step.sends) {
      for (int32_t b : t.blocks) {
        if (owner_of[static_cast<size_t>(b)] == -1)
          owner_of[static_cast<size_t>(b)] = static_cast<int>(peers.size());
      }
      peers.push_back(t.peer);
    }
    // Blocks outside the frame's set were marked too; only members count.
    std::vector<std::vector<int32_t>> parts(peers.size() + 1);
    for (int32_t b : f.set) {
      const int o = owner_of[static_cast<size_t>(b)];
      parts[o < 0 ? 0 : static_cast<size_t>(o) + 1].push_back(b);
    }
    for (const Transfer& t : step.sends) {
      for (int32_t b : t.blocks) owner_of[static_cast<size_t>(b)] = -1;
    }
    for (size_t i = parts.size(); i-- > 0;) {
      if (parts[i].empty()) continue;
      stack.push_back({std::move(parts[i]), f.step + 1, i == 0 ? f.rank : peers[i - 1]});
    }
  }
  std::vector<int32_t> slot(blocks);
  for (size_t i = 0; i < order.size(); ++i) slot[static_cast<size_t>(order[i])] = static_cast<int32_t>(i);
  return slot;
}

MpiExecutor::MpiExecutor(std::unique_ptr<Algorithm> algorithm, MPI_Comm comm, int rank, int size,
                         ExecutorOptions options)
    : algorithm_(std::move(algorithm)),
      comm_(comm),
      rank_(rank),
      size_(size),
      options_(options),
      blocks_(algorithm_->block_count()) {}

Result<std::unique_ptr<MpiExecutor>> MpiExecutor::create(std::unique_ptr<Algorithm> algorithm, MPI_Comm comm,
                                                         ExecutorOptions options) {
  MLSYS_CHECK(algorithm != nullptr, "no algorithm");
  int rank = 0;
  int size = 0;
  if (int rc = MPI_Comm_rank(comm, &rank); rc != MPI_SUCCESS) return mpi_error(rc, "MPI_Comm_rank");
  if (int rc = MPI_Comm_size(comm, &size); rc != MPI_SUCCESS) return mpi_error(rc, "MPI_Comm_size");
  if (algorithm->ranks() != size) {
    return invalid_input("algorithm '" + algorithm->name() + "' was built for " +
                             std::to_string(algorithm->ranks()) + " ranks but the communicator has " +
                             std::to_string(size),
                         "build the algorithm with AlgorithmParams::ranks = the communicator size");
  }
  const Collective c = algorithm->params().collective;
  if (c == Collective::kAlltoall) {
    return unsupported("the MPI executor runs allreduce, reduce-scatter and allgather, not alltoall",
                       "use MPI_Alltoall");
  }
  const int64_t blocks = algorithm->block_count();
  if (blocks < 1 || blocks > kMaxBlocks) {
    return Error(ErrorCode::kInternal,
                 "algorithm '" + algorithm->name() + "' has " + std::to_string(blocks) + " blocks",
                 "block_count must be in 1..2^24");
  }
  options.chunk = B(std::clamp<int64_t>(options.chunk.count(), 1, kMaxChunkBytes));
  options.single_message = B(std::max<int64_t>(options.single_message.count(), 0));
  std::unique_ptr<MpiExecutor> ex(new MpiExecutor(std::move(algorithm), comm, rank, size, options));
  const auto nb = static_cast<size_t>(blocks);
  ex->layout_.length.resize(nb);
  ex->layout_.source.resize(nb);
  ex->layout_.work.resize(nb);
  ex->layout_.state.resize(nb);
  ex->schedule_ = ex->algorithm_->schedule_for(rank);
  if (ex->schedule_.steps.size() > static_cast<size_t>(kMaxSteps)) {
    return Error(ErrorCode::kInternal,
                 "schedule has " + std::to_string(ex->schedule_.steps.size()) + " steps",
                 "the MPI executor supports at most 30000 steps");
  }
  for (size_t s = 0; s < ex->schedule_.steps.size(); ++s) {
    for (const auto* list : {&ex->schedule_.steps[s].sends, &ex->schedule_.steps[s].recvs}) {
      for (const Transfer& t : *list) {
        const bool bad_peer = t.peer < 0 || t.peer >= size || t.peer == rank;
        const bool bad_block =
            std::any_of(t.blocks.begin(), t.blocks.end(), [&](int32_t b) { return b < 0 || b >= blocks; });
        if (bad_peer || bad_block) {
          return Error(ErrorCode::kInternal,
                       "schedule of '" + ex->algorithm_->name() + "' rank " + std::to_string(rank) +
                           " step " + std::to_string(s) + " names " +
                           (bad_peer ? "peer " + std::to_string(t.peer) : "a block") + " out of range",
                       "this is a bug in the algorithm's schedule generator");
        }
      }
    }
  }
  if (c == Collective::kReduceScatter || c == Collective::kAllgather) {
    if (blocks % size != 0) {
      return unsupported("algorithm '" + ex->algorithm_->name() + "' cuts the vector into " +
                             std::to_string(blocks) + " blocks, not a multiple of " + std::to_string(size) +
                             " ranks",
                         "MPI's reduce-scatter/allgather layout needs an equal number of blocks per rank");
    }
    ex->blocks_per_owner_ = blocks / size;
    ex->owner_.resize(static_cast<size_t>(blocks));
    ex->owned_index_.resize(static_cast<size_t>(blocks));
    std::vector<int64_t> owned(static_cast<size_t>(size), 0);
    for (int64_t b = 0; b < blocks; ++b) {
      const int o = ex->algorithm_->owner_of_block(b);
      if (o < 0 || o >= size || owned[static_cast<size_t>(o)] >= ex->blocks_per_owner_) {
        return unsupported(
            "algorithm '" + ex->algorithm_->name() + "' does not give every rank the same number of blocks",
            "MPI's reduce-scatter/allgather layout needs an equal number of blocks per rank");
      }
      ex->owner_[static_cast<size_t>(b)] = o;
      ex->owned_index_[static_cast<size_t>(b)] = owned[static_cast<size_t>(o)]++;
    }
  }
  // Up to kMaxCheckedRanks every rank validates every schedule, so all ranks reach the same
  // verdict and none is left waiting for a peer that refused; above, each checks its own edges.
  if (size <= kMaxCheckedRanks) {
    if (Status st = validate_schedules(*ex->algorithm_); !st) {
      return Error(ErrorCode::kInternal,
                   "schedule of '" + ex->algorithm_->name() + "' is inconsistent: " + st.error().message(),
                   "this is a bug in the algorithm's schedule generator");
    }
  } else {
    MLSYS_RETURN_IF_ERROR(check_matching(*ex->algorithm_, rank, ex->schedule_));
  }
  // Allreduce blocks may sit anywhere in memory as long as every rank agrees; placing them so
  // that what a step sends is contiguous saves packing and extra messages (recursive halving's
  // interleaved halves become bit-reversed contiguous ones, Swing's scattered sets contiguous).
  if (c == Collective::kAllreduce && blocks > 1 && size <= kMaxCheckedRanks) {
    const std::vector<int32_t> slot = contiguous_block_order(*ex->algorithm_);
    for (Step& step : ex->schedule_.steps) {
      for (auto* list : {&step.sends, &step.recvs}) {
        for (Transfer& t : *list) {
          for (int32_t& b : t.blocks) b = slot[static_cast<size_t>(b)];
          std::sort(t.blocks.begin(), t.blocks.end());
        }
      }
    }
  }
  // Messages between two ranks in one step pair up in posting order (MPI's non-overtaking rule
  // with one tag per step), so both sides post them in one canonical order: by peer, then by
  // first block.
  for (Step& step : ex->schedule_.steps) {
    for (auto* list : {&step.sends, &step.recvs}) {
      std::erase_if(*list, [](const Transfer& t) { return t.blocks.empty(); });
      std::stable_sort(list->begin(), list->end(), [](const Transfer& x, const Transfer& y) {
        return x.peer != y.peer ? x.peer < y.peer : x.blocks.front() < y.blocks.front();
      });
    }
  }
  return ex;
}

Bytes MpiExecutor::scratch_bytes() const {
  return B(static_cast<int64_t>(recv_scratch_.size() + pack_scratch_.size() + work_scratch_.size()));
}

std::byte* MpiExecutor::grow(std::vector<std::byte>& buffer, size_t bytes) {
  if (buffer.size() < bytes) buffer.resize(bytes);
  return buffer.data();
}

Status MpiExecutor::check_call(Collective collective, std::string_view count_name, int64_t count) const {
  if (algorithm_->params().collective != collective) {
    return invalid_input(
        "algorithm '" + algorithm_->name() + "' does not implement " + std::string(to_string(collective)),
        "build it for the " + std::string(to_string(collective)) + " collective");
  }
  if (count < 0) return invalid_input("negative element count", "pass " + std::string(count_name) + " >= 0");
  return {};
}

Status MpiExecutor::allreduce(const void* send, void* recv, int64_t count, DataType type, ReduceOp op) {
  MLSYS_RETURN_IF_ERROR(check_call(Collective::kAllreduce, "count", count));
  ++stats_.calls;
  if (count == 0) return {};
  const int64_t es = element_size(type);
  const bool in_place = send == recv;
  const auto* src = static_cast<const std::byte*>(send);
  auto* dst = static_cast<std::byte*>(recv);
  const int64_t chunk_elems = std::max<int64_t>(1, options_.chunk.count() / es);
  ChunkLayout& layout = layout_;
  const auto nb = static_cast<size_t>(blocks_);
  for (int64_t c0 = 0; c0 < count; c0 += chunk_elems) {
    const int64_t n = std::min(chunk_elems, count - c0);
    for (int64_t b = 0; b < blocks_; ++b) {
      const Span sp = dealt(n, blocks_, b);
      const auto i = static_cast<size_t>(b);
      const int64_t byte_offset = (c0 + sp.offset) * es;
      layout.length[i] = sp.length;
      layout.source[i] = in_place ? nullptr : src + byte_offset;
      layout.work[i] = dst + byte_offset;
      layout.state[i] = in_place ? BlockState::kWork : BlockState::kSource;
    }
    MLSYS_RETURN_IF_ERROR(run_chunk(layout, type, op));
    for (size_t i = 0; i < nb; ++i) {
      if (layout.state[i] == BlockState::kSource) {
        std::memcpy(layout.work[i], layout.source[i], static_cast<size_t>(layout.length[i] * es));
      }
    }
  }
  return {};
}

Status MpiExecutor::reduce_scatter_block(const void* send, void* recv, int64_t recv_count, DataType type,
                                         ReduceOp op) {
  MLSYS_RETURN_IF_ERROR(check_call(Collective::kReduceScatter, "recv_count", recv_count));
  if (send == recv) return invalid_input("reduce_scatter_block cannot run in place", "pass separate buffers");
  ++stats_.calls;
  if (recv_count == 0) return {};
  const int64_t es = element_size(type);
  const auto* src = static_cast<const std::byte*>(send);
  auto* dst = static_cast<std::byte*>(recv);
  const int64_t seg_chunk = std::max<int64_t>(1, options_.chunk.count() / es / size_);
  const int64_t k = blocks_per_owner_;
  ChunkLayout& layout = layout_;
  const auto nb = static_cast<size_t>(blocks_);
  for (int64_t c0 = 0; c0 < recv_count; c0 += seg_chunk) {
    const int64_t n = std::min(seg_chunk, recv_count - c0);
    // Partial sums of other ranks' segments live in scratch, slot o for owner o.
    std::byte* work = grow(work_scratch_, static_cast<size_t>(n * es * size_));
    for (int64_t b = 0; b < blocks_; ++b) {
      const auto i = static_cast<size_t>(b);
      const int o = owner_[i];
      const Span sp = dealt(n, k, owned_index_[i]);
      layout.length[i] = sp.length;
      layout.source[i] = src + (int64_t{o} * recv_count + c0 + sp.offset) * es;
      layout.work[i] = o == rank_ ? dst + (c0 + sp.offset) * es : work + (int64_t{o} * n + sp.offset) * es;
      layout.state[i] = BlockState::kSource;
    }
    MLSYS_RETURN_IF_ERROR(run_chunk(layout, type, op));
    for (size_t i = 0; i < nb; ++i) {
      if (owner_[i] == rank_ && layout.state[i] == BlockState::kSource) {
        std::memcpy(layout.work[i], layout.source[i], static_cast<size_t>(layout.length[i] * es));
      }
    }
  }
  return {};
}

Status MpiExecutor::allgather(const void* send, void* recv, int64_t send_count, DataType type) {
  MLSYS_RETURN_IF_ERROR(check_call(Collective::kAllgather, "send_count", send_count));
  ++stats_.calls;
  if (send_count == 0) return {};
  const int64_t es = element_size(type);
  const bool in_place = send == nullptr;
  const auto* src = static_cast<const std::byte*>(send);
  auto* dst = static_cast<std::byte*>(recv);
  const int64_t seg_chunk = std::max<int64_t>(1, options_.chunk.count() / es / size_);
  const int64_t k = blocks_per_owner_;
  ChunkLayout& layout = layout_;
  const auto nb = static_cast<size_t>(blocks_);
  for (int64_t c0 = 0; c0 < send_count; c0 += seg_chunk) {
    const int64_t n = std::min(seg_chunk, send_count - c0);
    for (int64_t b = 0; b < blocks_; ++b) {
      const auto i = static_cast<size_t>(b);
      const int o = owner_[i];
      const Span sp = dealt(n, k, owned_index_[i]);
      layout.length[i] = sp.length;
      layout.work[i] = dst + (int64_t{o} * send_count + c0 + sp.offset) * es;
      layout.source[i] = (o == rank_ && !in_place) ? src + (c0 + sp.offset) * es : nullptr;
      layout.state[i] = o != rank_ ? BlockState::kEmpty : in_place ? BlockState::kWork : BlockState::kSource;
    }
    MLSYS_RETURN_IF_ERROR(run_chunk(layout, type, ReduceOp::kSum));
    for (size_t i = 0; i < nb; ++i) {
      if (layout.state[i] == BlockState::kSource) {
        std::memcpy(layout.work[i], layout.source[i], static_cast<size_t>(layout.length[i] * es));
      } else if (layout.state[i] == BlockState::kEmpty && layout.length[i] > 0) {
        return Error(ErrorCode::kInternal,
                     "schedule of '" + algorithm_->name() + "' never delivered block " + std::to_string(i) +
                         " to rank " + std::to_string(rank_),
                     "this is a bug in the algorithm's schedule generator");
      }
    }
  }
  return {};
}

Status MpiExecutor::wait_all() {
  if (requests_.empty()) return {};
  if (int rc = MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
      rc != MPI_SUCCESS) {
    return mpi_error(rc, "MPI_Waitall");
  }
  return {};
}

std::vector<MpiExecutor::Message>& MpiExecutor::split(const std::vector<Transfer>& transfers,
                                                      const ChunkLayout& layout, int64_t es,
                                                      std::vector<Message>& out) const {
  out.clear();
  for (const Transfer& t : transfers) {
    int64_t total = 0;
    for (int32_t b : t.blocks) total += layout.length[static_cast<size_t>(b)];
    if (total == 0) continue;
    if (total * es <= options_.single_message.count()) {
      out.push_back({.transfer = &t, .first = 0, .last = t.blocks.size(), .bytes = total * es});
      continue;
    }
    // Large transfers go as one message per run of consecutive block numbers, which both sides
    // derive alike and which usually is contiguous in memory on both: no packing, and copies
    // can land in place.
    size_t first = 0;
    for (size_t i = 1; i <= t.blocks.size(); ++i) {
      if (i < t.blocks.size() && t.blocks[i] == t.blocks[i - 1] + 1) continue;
      int64_t n = 0;
      for (size_t j = first; j < i; ++j) n += layout.length[static_cast<size_t>(t.blocks[j])];
      if (n > 0) out.push_back({.transfer = &t, .first = first, .last = i, .bytes = n * es});
      first = i;
    }
  }
  return out;
}

Status MpiExecutor::run_chunk(ChunkLayout& layout, DataType type, ReduceOp op) {
  const int64_t es = element_size(type);
  auto current = [&](size_t b) -> const std::byte* {
    return layout.state[b] == BlockState::kWork ? layout.work[b] : layout.source[b];
  };
  // Where the message's blocks start if they are back to back in memory, else nullptr.
  auto contiguous = [&](const Message& m, auto pointer_of) -> const std::byte* {
    const std::byte* start = nullptr;
    const std::byte* end = nullptr;
    for (size_t j = m.first; j < m.last; ++j) {
      const auto i = static_cast<size_t>(m.transfer->blocks[j]);
      if (layout.length[i] == 0) continue;
      const std::byte* p = pointer_of(i);
      if (start == nullptr) {
        start = p;
      } else if (p != end) {
        return nullptr;
      }
      end = p + layout.length[i] * es;
    }
    return start;
  };
  auto contiguous_work = [&](const Message& m) {
    // The work pointers are the caller's writable buffers or our scratch.
    return const_cast<std::byte*>(
        contiguous(m, [&](size_t i) -> const std::byte* { return layout.work[i]; }));
  };
  sent_mark_.resize(static_cast<size_t>(blocks_), 0);  // all 0 between steps
  for (size_t s = 0; s < schedule_.steps.size(); ++s) {
    const Step& step = schedule_.steps[s];
    const int tag = kTagBase + static_cast<int>(s);
    split(step.recvs, layout, es, recv_msgs_);
    split(step.sends, layout, es, send_msgs_);

    // Decide every message's buffer, then size the staging buffers before posting anything
    // (growing moves them).
    for (const Message& m : send_msgs_) {
      for (size_t j = m.first; j < m.last; ++j) {
        const auto i = static_cast<size_t>(m.transfer->blocks[j]);
        if (layout.length[i] > 0 && layout.state[i] == BlockState::kEmpty) {
          return Error(ErrorCode::kInternal,
                       "schedule of '" + algorithm_->name() + "' sends block " + std::to_string(i) +
                           " from rank " + std::to_string(rank_) + " before it holds a value",
                       "this is a bug in the algorithm's schedule generator");
        }
        sent_mark_[i] = 1;
      }
    }
    int64_t recv_total = 0;
    for (Message& m : recv_msgs_) {
      if (m.transfer->kind == RecvKind::kCopy) {
        bool overlaps_send = false;
        for (size_t j = m.first; j < m.last; ++j)
          overlaps_send |= sent_mark_[static_cast<size_t>(m.transfer->blocks[j])] != 0;
        // A copy lands in place unless a send of this step still reads those blocks.
        if (!overlaps_send) m.recv_into = contiguous_work(m);
      }
      m.staged = m.recv_into == nullptr;
      if (m.staged) recv_total += m.bytes;
    }
    int64_t pack_total = 0;
    for (Message& m : send_msgs_) {
      m.send_from = contiguous(m, current);
      if (m.send_from == nullptr) pack_total += m.bytes;
    }
    for (const Message& m : send_msgs_) {
      for (size_t j = m.first; j < m.last; ++j) sent_mark_[static_cast<size_t>(m.transfer->blocks[j])] = 0;
    }
    std::byte* rbuf = grow(recv_scratch_, static_cast<size_t>(recv_total));
    std::byte* pbuf = grow(pack_scratch_, static_cast<size_t>(pack_total));

    requests_.clear();
    int64_t roff = 0;
    for (Message& m : recv_msgs_) {
      if (m.staged) {
        m.recv_into = rbuf + roff;
        roff += m.bytes;
      }
      MPI_Request& req = requests_.emplace_back();
      if (int rc =
              MPI_Irecv(m.recv_into, static_cast<int>(m.bytes), MPI_BYTE, m.transfer->peer, tag, comm_, &req);
          rc != MPI_SUCCESS) {
        return mpi_error(rc, "MPI_Irecv");
      }
    }
    int64_t poff = 0;
    for (const Message& m : send_msgs_) {
      const std::byte* data = m.send_from;
      if (data == nullptr) {
        std::byte* out = pbuf + poff;
        for (size_t j = m.first; j < m.last; ++j) {
          const auto i = static_cast<size_t>(m.transfer->blocks[j]);
          const auto len = static_cast<size_t>(layout.length[i] * es);
          if (len == 0) continue;
          std::memcpy(out, current(i), len);
          out += len;
        }
        data = pbuf + poff;
        poff += m.bytes;
      }
      if (m.send_from == nullptr) stats_.bytes_packed += B(m.bytes);
      MPI_Request& req = requests_.emplace_back();
      if (int rc = MPI_Isend(data, static_cast<int>(m.bytes), MPI_BYTE, m.transfer->peer, tag, comm_, &req);
          rc != MPI_SUCCESS) {
        return mpi_error(rc, "MPI_Isend");
      }
      ++stats_.messages_sent;
      stats_.bytes_sent += B(m.bytes);
    }
    MLSYS_RETURN_IF_ERROR(wait_all());

    for (const Message& m : recv_msgs_) {
      const std::byte* in = m.recv_into;
      for (size_t j = m.first; j < m.last; ++j) {
        const int32_t b = m.transfer->blocks[j];
        const auto i = static_cast<size_t>(b);
        const int64_t n = layout.length[i];
        if (n == 0) continue;
        if (!m.staged) {
          // Received in place.
        } else if (m.transfer->kind == RecvKind::kCopy) {
          std::memcpy(layout.work[i], in, static_cast<size_t>(n * es));
        } else if (layout.state[i] == BlockState::kWork) {
          reduce_into(type, op, layout.work[i], in, n);
        } else if (layout.state[i] == BlockState::kSource) {
          reduce_to(type, op, layout.work[i], layout.source[i], in, n);
        } else {
          return Error(ErrorCode::kInternal,
                       "schedule of '" + algorithm_->name() + "' reduces into block " + std::to_string(b) +
                           " on rank " + std::to_string(rank_) + " before it holds a value",
                       "this is a bug in the algorithm's schedule generator");
        }
        layout.state[i] = BlockState::kWork;
        in += n * es;
      }
    }
  }
  return {};
}

}  // namespace mlsys::coll
