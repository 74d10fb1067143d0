// recdoub (recursive doubling) and rabenseifner (recursive halving reduce-scatter + recursive
// doubling allgather), as in MPICH (research notes §2.2, §2.3):
// - step s pairs virtual rank v with v XOR 2^s: distances grow while (for rabenseifner) the
//   data halves, MPICH's order;
// - P not a power of two: MPICH's fold. With pof2 the largest power of two <= P and
//   rem = P - pof2, even ranks below 2*rem hand their vector to the odd rank above them first
//   (fold-in) and get the result back last (fold-out); the odd ones act as virtual rank r/2,
//   ranks >= 2*rem as r - rem;
// - on a torus of two or more power-of-two dimensions the steps rotate over the dimensions like
//   Swing's (research notes §1.4, "recursive halving with rotation").

#include <numeric>

#include "mlsys/coll/internal/butterfly.h"
#include "mlsys/coll/internal/families.h"
#include "mlsys/coll/internal/schedule_tools.h"

namespace mlsys::coll::internal {
namespace {

// Where the virtual (power-of-two) ranks of a recursive algorithm sit among the real ones.
struct Folding {
  int rem = 0;  // ranks 0..2*rem-1 are folded in pairs

  int virtual_of(int r) const {
    if (r < 2 * rem) return r % 2 == 1 ? r / 2 : -1;
    return r - rem;
  }
  int real_of(int64_t v) const { return static_cast<int>(v < rem ? 2 * v + 1 : v + rem); }
};

bool rotates(const std::vector<int>& dims) {
  if (dims.size() < 2) return false;
  for (int d : dims) {
    if (!is_power_of_two(d)) return false;
  }
  return true;
}

// The XOR butterfly over the virtual ranks, and the fold that maps them to real ranks.
std::pair<Butterfly, Folding> recursive_butterfly(const AlgorithmParams& params) {
  const std::vector<int> dims = torus_of(params);
  if (rotates(dims)) {
    std::vector<ButterflyDimension> bd;
    for (int d : dims) bd.push_back(ButterflyDimension::recursive_halving(d));
    return {Butterfly(std::move(bd), 0), Folding{}};
  }
  const int pof2 = 1 << floor_log2(params.ranks);
  return {Butterfly({ButterflyDimension::recursive_halving(pof2)}, 0), Folding{params.ranks - pof2}};
}

std::vector<int32_t> all_blocks(int64_t n) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

class RecursiveDoubling final : public Algorithm {
 public:
  explicit RecursiveDoubling(AlgorithmParams p)
      : Algorithm(std::move(p)), layout_(recursive_butterfly(params_)) {}

  std::string name() const override { return "recdoub"; }
  int64_t block_count() const override { return 1; }

  RankSchedule schedule_for(int rank) const override {
    const auto& [bf, fold] = layout_;
    const int f = fold.rem > 0 ? 1 : 0;
    const int last = bf.steps() + f;
    ScheduleBuilder b(rank, bf.steps() + 2 * f);
    if (rank < 2 * fold.rem) {
      if (rank % 2 == 0) {
        b.send(0, rank + 1, {0}, RecvKind::kReduce);
        b.recv(last, rank + 1, {0}, RecvKind::kCopy);
      } else {
        b.recv(0, rank - 1, {0}, RecvKind::kReduce);
        b.send(last, rank - 1, {0}, RecvKind::kCopy);
      }
    }
    const int v = fold.virtual_of(rank);
    if (v >= 0) {
      for (int s = 0; s < bf.steps(); ++s) {
        const int q = fold.real_of(bf.peer(v, s));
        b.send(f + s, q, {0}, RecvKind::kReduce);
        b.recv(f + s, q, {0}, RecvKind::kReduce);
      }
    }
    return std::move(b).finish();
  }

 private:
  std::pair<Butterfly, Folding> layout_;
};

class Rabenseifner final : public Algorithm {
 public:
  explicit Rabenseifner(AlgorithmParams p) : Algorithm(std::move(p)), layout_(recursive_butterfly(params_)) {}

  std::string name() const override { return "rabenseifner"; }
  // Allreduce cuts the vector into one block per virtual rank (MPICH's pof2 equal chunks);
  // reduce-scatter and allgather need one block per real rank.
  int64_t block_count() const override {
    return params_.collective == Collective::kAllreduce ? layout_.first.ranks() : ranks();
  }
  int owner_of_block(int64_t block) const override { return static_cast<int>(block); }

  RankSchedule schedule_for(int rank) const override {
    const auto& [bf, fold] = layout_;
    const Collective c = params_.collective;
    const bool rs = c != Collective::kAllgather;
    const bool ag = c != Collective::kReduceScatter;
    const int f = fold.rem > 0 ? 1 : 0;
    const int l = bf.steps();
    const int total = (rs ? l : 0) + (ag ? l : 0) + 2 * f;
    ScheduleBuilder b(rank, total);
    const int64_t n = block_count();

    if (rank < 2 * fold.rem) {
      const bool even = rank % 2 == 0;
      const int partner = even ? rank + 1 : rank - 1;
      if (c == Collective::kAllgather) {
        // The even rank's block joins its odd partner's; at the end the partner returns all the rest.
        std::vector<int32_t> rest;
        for (int32_t x = 0; x < n; ++x) {
          if (x != (even ? rank : partner)) rest.push_back(x);
        }
        if (even) {
          b.send(0, partner, {rank}, RecvKind::kCopy);
          b.recv(total - 1, partner, rest, RecvKind::kCopy);
        } else {
          b.recv(0, partner, {partner}, RecvKind::kCopy);
          b.send(total - 1, partner, rest, RecvKind::kCopy);
        }
      } else {
        if (even) {
          b.send(0, partner, all_blocks(n), RecvKind::kReduce);
          b.recv(total - 1, partner, c == Collective::kAllreduce ? all_blocks(n) : std::vector<int32_t>{rank},
                 RecvKind::kCopy);
        } else {
          b.recv(0, partner, all_blocks(n), RecvKind::kReduce);
          b.send(total - 1, partner,
                 c == Collective::kAllreduce ? all_blocks(n) : std::vector<int32_t>{partner},
                 RecvKind::kCopy);
        }
      }
    }

    const int v = fold.virtual_of(rank);
    if (v < 0) return std::move(b).finish();
    for (int s = 0; s < l; ++s) {
      const int64_t q = bf.peer(v, s);
      const int peer = fold.real_of(q);
      std::vector<int32_t> mine = blocks_of(bf.sent_at(v, s));
      std::vector<int32_t> theirs = blocks_of(bf.sent_at(q, s));
      if (rs) {
        b.send(f + s, peer, mine, RecvKind::kReduce);
        b.recv(f + s, peer, theirs, RecvKind::kReduce);
      }
      if (ag) {
        const int step = f + (rs ? l : 0) + (l - 1 - s);
        b.send(step, peer, std::move(theirs), RecvKind::kCopy);
        b.recv(step, peer, std::move(mine), RecvKind::kCopy);
      }
    }
    return std::move(b).finish();
  }

 private:
  // The blocks behind virtual blocks: one each for allreduce; otherwise the blocks of the real
  // ranks a virtual rank stands for (two for a folded pair).
  std::vector<int32_t> blocks_of(const std::vector<int64_t>& virtual_blocks) const {
    std::vector<int32_t> out;
    out.reserve(virtual_blocks.size() * 2);
    const int rem = layout_.second.rem;
    for (int64_t v : virtual_blocks) {
      if (params_.collective == Collective::kAllreduce) {
        out.push_back(static_cast<int32_t>(v));
      } else if (v < rem) {
        out.push_back(static_cast<int32_t>(2 * v));
        out.push_back(static_cast<int32_t>(2 * v + 1));
      } else {
        out.push_back(static_cast<int32_t>(v + rem));
      }
    }
    return out;
  }

  std::pair<Butterfly, Folding> layout_;
};

}  // namespace

Result<AlgorithmPtr> make_recursive_doubling(const AlgorithmParams& params) {
  MLSYS_RETURN_IF_ERROR(require_single_port(params, "recdoub"));
  return AlgorithmPtr(std::make_unique<RecursiveDoubling>(params));
}

Result<AlgorithmPtr> make_rabenseifner(const AlgorithmParams& params) {
  MLSYS_RETURN_IF_ERROR(require_single_port(params, "rabenseifner"));
  return AlgorithmPtr(std::make_unique<Rabenseifner>(params));
}

}  // namespace mlsys::coll::internal
