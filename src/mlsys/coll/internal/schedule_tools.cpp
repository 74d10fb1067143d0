#include "mlsys/coll/internal/schedule_tools.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>

#include "mlsys/core/check.h"

namespace mlsys::coll::internal {

ScheduleBuilder::ScheduleBuilder(int rank, int steps) : rank_(rank), steps_(static_cast<size_t>(steps)) {}

void ScheduleBuilder::send(int step, int peer, std::vector<int32_t> blocks, RecvKind kind) {
  MLSYS_CHECK(step >= 0 && step < steps(), "send outside the schedule's steps");
  MLSYS_CHECK(peer != rank_, "a rank cannot send to itself");
  if (blocks.empty()) return;
  steps_[static_cast<size_t>(step)].sends.push_back(
      {.peer = peer, .blocks = std::move(blocks), .kind = kind});
}

void ScheduleBuilder::recv(int step, int peer, std::vector<int32_t> blocks, RecvKind kind) {
  MLSYS_CHECK(step >= 0 && step < steps(), "receive outside the schedule's steps");
  MLSYS_CHECK(peer != rank_, "a rank cannot receive from itself");
  if (blocks.empty()) return;
  steps_[static_cast<size_t>(step)].recvs.push_back(
      {.peer = peer, .blocks = std::move(blocks), .kind = kind});
}

namespace {

// Most generators emit blocks in order already; checking is much cheaper than sorting.
void sort_blocks(Transfer& t) {
  if (!std::is_sorted(t.blocks.begin(), t.blocks.end())) std::sort(t.blocks.begin(), t.blocks.end());
}

// Merges transfers with the same (peer, kind); the output is ordered by peer.
std::vector<Transfer> merge(std::vector<Transfer> in) {
  std::stable_sort(in.begin(), in.end(), [](const Transfer& a, const Transfer& b) {
    return std::tie(a.peer, a.kind) < std::tie(b.peer, b.kind);
  });
  std::vector<Transfer> out;
  out.reserve(in.size());
  for (Transfer& t : in) {
    if (!out.empty() && out.back().peer == t.peer && out.back().kind == t.kind) {
      out.back().blocks.insert(out.back().blocks.end(), t.blocks.begin(), t.blocks.end());
    } else {
      out.push_back(std::move(t));
    }
  }
  for (Transfer& t : out) {
    sort_blocks(t);
    MLSYS_CHECK(std::adjacent_find(t.blocks.begin(), t.blocks.end()) == t.blocks.end(),
                "a block appears twice in one message");
  }
  return out;
}

}  // namespace

RankSchedule ScheduleBuilder::finish() && {
  RankSchedule s;
  s.rank = rank_;
  s.steps = std::move(steps_);
  for (Step& step : s.steps) {
    // Merge the sends like their receives, then drop the kind: it describes receives only.
    if (step.sends.size() > 1)
      step.sends = merge(std::move(step.sends));
    else if (step.sends.size() == 1)
      sort_blocks(step.sends[0]);
    for (Transfer& t : step.sends) t.kind = RecvKind::kReduce;
    if (step.recvs.size() > 1)
      step.recvs = merge(std::move(step.recvs));
    else if (step.recvs.size() == 1)
      sort_blocks(step.recvs[0]);
  }
  return s;
}

TorusIndex::TorusIndex(std::vector<int> dims) : dims_(std::move(dims)), strides_(dims_.size(), 1) {
  for (size_t k = dims_.size(); k-- > 0;) {
    strides_[k] = count_;
    count_ *= dims_[k];
  }
}

std::vector<int> TorusIndex::coords(int64_t rank) const {
  std::vector<int> c(dims_.size());
  for (size_t k = 0; k < dims_.size(); ++k) c[k] = static_cast<int>((rank / strides_[k]) % dims_[k]);
  return c;
}

int64_t TorusIndex::rank(std::span<const int> coords) const {
  int64_t r = 0;
  for (size_t k = 0; k < dims_.size(); ++k) r += coords[k] * strides_[k];
  return r;
}

namespace {

void append_product(std::vector<int64_t>& out, std::span<const int64_t> strides,
                    const std::vector<std::vector<int>>& lists, size_t k, int64_t base) {
  if (k + 1 == lists.size()) {
    for (int y : lists[k]) out.push_back(base + y * strides[k]);
    return;
  }
  for (int y : lists[k]) append_product(out, strides, lists, k + 1, base + y * strides[k]);
}

}  // namespace

std::vector<int64_t> product_ids(std::span<const int64_t> strides,
                                 const std::vector<std::vector<int>>& lists) {
  // Last dimension fastest: ids come out ascending because each list is ascending and the
  // strides are row-major.
  std::vector<int64_t> out;
  size_t total = 1;
  for (const auto& l : lists) total *= l.size();
  if (total == 0) return out;
  if (lists.empty()) return {0};
  out.reserve(total);
  append_product(out, strides, lists, 0, 0);
  return out;
}

void add_ring_reduce_scatter(ScheduleBuilder& b, int step0, std::span<const int> line, int pos,
                             const ChunkBlocks& chunk) {
  const int d = static_cast<int>(line.size());
  const int next = line[static_cast<size_t>((pos + 1) % d)];
  const int prev = line[static_cast<size_t>((pos - 1 + d) % d)];
  for (int t = 0; t + 1 < d; ++t) {
    b.send(step0 + t, next, chunk(((pos - t - 1) % d + d) % d), RecvKind::kReduce);
    b.recv(step0 + t, prev, chunk(((pos - t - 2) % d + d) % d), RecvKind::kReduce);
  }
}

void add_ring_allgather(ScheduleBuilder& b, int step0, std::span<const int> line, int pos,
                        const ChunkBlocks& chunk) {
  const int d = static_cast<int>(line.size());
  const int next = line[static_cast<size_t>((pos + 1) % d)];
  const int prev = line[static_cast<size_t>((pos - 1 + d) % d)];
  for (int t = 0; t + 1 < d; ++t) {
    b.send(step0 + t, next, chunk(((pos - t) % d + d) % d), RecvKind::kCopy);
    b.recv(step0 + t, prev, chunk(((pos - t - 1) % d + d) % d), RecvKind::kCopy);
  }
}

std::vector<int> torus_of(const AlgorithmParams& params) {
  if (params.torus.empty()) return {params.ranks};
  return params.torus;
}

std::string dims_text(std::span<const int> dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += (i > 0 ? "x" : "") + std::to_string(dims[i]);
  return s;
}

Status require_single_port(const AlgorithmParams& params, std::string_view name) {
  if (params.ports == 1) return {};
  return invalid_input(
      std::string(name) + " has no multiport variant (ports = " + std::to_string(params.ports) + ")",
      "use ports = 1, or swing-lat, swing-bw or bucket for multiport");
}

Status check_port_count(const AlgorithmParams& params, std::string_view name) {
  const int max_ports = 2 * static_cast<int>(torus_of(params).size());
  if (params.ports >= 1 && params.ports <= max_ports) return {};
  return invalid_input(std::string(name) + " takes 1 to " + std::to_string(max_ports) +
                           " ports on this torus, not " + std::to_string(params.ports),
                       "a D-dimensional torus has 2*D ports per rank (one per direction)");
}

int floor_log2(int64_t x) {
  int l = 0;
  while ((int64_t{1} << (l + 1)) <= x) ++l;
  return l;
}

int ceil_log2(int64_t x) {
  int l = 0;
  while ((int64_t{1} << l) < x) ++l;
  return l;
}

}  // namespace mlsys::coll::internal
