// Swing (De Sensi, Bonato, Saam, Hoefler, NSDI'24; research notes §1.1-1.3).
//
// Peers: at step s an even coordinate pairs with +rho(s), an odd one with -rho(s) (mod the
// dimension size), rho(s) = sum_{i<=s} (-2)^i. On a torus the steps rotate over the dimensions,
// each with its own step counter; port q starts on dimension q mod D and ports q >= D are
// mirrored (every distance negated), so 2D ports keep both directions of every dimension busy.
// Each port carries its own share of the vector.
//
// swing-lat: the whole share every step (reduce). Dimensions that are not powers of two are first
// shrunk to the largest power of two below them (the extra coordinates hand their vector to
// coordinate - extra), and enlarged again at the end, in reverse dimension order.
// swing-bw: reduce-scatter sending exactly the blocks whose path leaves at this step (for
// powers of two: the blocks of R(peer, s+1)), then the mirrored allgather. Runs directly on even
// dimension sizes with ceil(log2 d) steps per dimension; odd sizes other than 1 are refused.

#include <string>

#include "mlsys/coll/internal/butterfly.h"
#include "mlsys/coll/internal/families.h"
#include "mlsys/coll/internal/schedule_tools.h"

namespace mlsys::coll::internal {
namespace {

// The port's Swing butterfly over `dims` (each a power of two or even).
Result<Butterfly> swing_butterfly(const std::vector<int>& dims, int port) {
  const int d = static_cast<int>(dims.size());
  std::vector<ButterflyDimension> bd;
  for (int size : dims) {
    MLSYS_ASSIGN_OR_RETURN(ButterflyDimension dim, ButterflyDimension::swing(size, /*mirrored=*/port >= d));
    bd.push_back(std::move(dim));
  }
  return Butterfly(std::move(bd), port % d);
}

class SwingLatency final : public Algorithm {
 public:
  SwingLatency(AlgorithmParams p, std::vector<int> box, std::vector<Butterfly> ports)
      : Algorithm(std::move(p)), index_(torus_of(params_)), box_(std::move(box)), ports_(std::move(ports)) {}

  std::string name() const override { return "swing-lat"; }
  int64_t block_count() const override { return params_.ports; }

  RankSchedule schedule_for(int rank) const override {
    const int dims = index_.dimensions();
    std::vector<int> folded;  // dimensions that are not powers of two
    for (int k = 0; k < dims; ++k) {
      if (box_[static_cast<size_t>(k)] != index_.size(k)) folded.push_back(k);
    }
    const int shrink = static_cast<int>(folded.size());
    const int core = ports_.front().steps();
    ScheduleBuilder b(rank, core + 2 * shrink);
    std::vector<int32_t> all(static_cast<size_t>(params_.ports));
    for (int q = 0; q < params_.ports; ++q) all[static_cast<size_t>(q)] = q;
    const std::vector<int> me = index_.coords(rank);

    // Shrink dimension folded[i] at step i, enlarge it at step core + 2*shrink - 1 - i. A rank
    // takes part only once it is inside the box on every earlier dimension.
    for (int i = 0; i < shrink; ++i) {
      const int k = folded[static_cast<size_t>(i)];
      bool active = true;
      for (int m = 0; m < k; ++m)
        active = active && me[static_cast<size_t>(m)] < box_[static_cast<size_t>(m)];
      if (!active) continue;
      const int extra = index_.size(k) - box_[static_cast<size_t>(k)];
      const int c = me[static_cast<size_t>(k)];
      std::vector<int> other = me;
      const int enlarge_step = core + 2 * shrink - 1 - i;
      if (c >= box_[static_cast<size_t>(k)]) {
        other[static_cast<size_t>(k)] = c - extra;
        const int partner = static_cast<int>(index_.rank(other));
        b.send(i, partner, all, RecvKind::kReduce);
        b.recv(enlarge_step, partner, all, RecvKind::kCopy);
      } else if (c >= box_[static_cast<size_t>(k)] - extra) {
        other[static_cast<size_t>(k)] = c + extra;
        const int partner = static_cast<int>(index_.rank(other));
        b.recv(i, partner, all, RecvKind::kReduce);
        b.send(enlarge_step, partner, all, RecvKind::kCopy);
      }
    }

    bool inside = true;
    for (int k = 0; k < dims; ++k)
      inside = inside && me[static_cast<size_t>(k)] < box_[static_cast<size_t>(k)];
    if (inside) {
      const TorusIndex& box = ports_.front().index();
      const int64_t v = box.rank(me);
      for (int q = 0; q < params_.ports; ++q) {
        for (int s = 0; s < core; ++s) {
          const int peer =
              static_cast<int>(index_.rank(box.coords(ports_[static_cast<size_t>(q)].peer(v, s))));
          b.send(shrink + s, peer, {q}, RecvKind::kReduce);
          b.recv(shrink + s, peer, {q}, RecvKind::kReduce);
        }
      }
    }
    return std::move(b).finish();
  }

 private:
  TorusIndex index_;
  std::vector<int> box_;          // per dimension: the largest power of two <= its size
  std::vector<Butterfly> ports_;  // one per port, over the box
};

class SwingBandwidth final : public Algorithm {
 public:
  SwingBandwidth(AlgorithmParams p, std::vector<Butterfly> ports)
      : Algorithm(std::move(p)), ports_(std::move(ports)) {}

  std::string name() const override { return "swing-bw"; }
  int64_t block_count() const override { return static_cast<int64_t>(ranks()) * params_.ports; }
  int owner_of_block(int64_t block) const override { return static_cast<int>(block / params_.ports); }

  RankSchedule schedule_for(int rank) const override {
    const Collective c = params_.collective;
    const bool rs = c != Collective::kAllgather;
    const bool ag = c != Collective::kReduceScatter;
    const int l = ports_.front().steps();
    ScheduleBuilder b(rank, (rs ? l : 0) + (ag ? l : 0));
    const int k = params_.ports;
    for (int q = 0; q < k; ++q) {
      const Butterfly& bf = ports_[static_cast<size_t>(q)];
      const auto blocks = [&](const std::vector<int64_t>& owners) {
        std::vector<int32_t> out;
        out.reserve(owners.size());
        for (int64_t y : owners) out.push_back(static_cast<int32_t>(y * k + q));
        return out;
      };
      for (int s = 0; s < l; ++s) {
        const int peer = static_cast<int>(bf.peer(rank, s));
        std::vector<int32_t> mine = blocks(bf.sent_at(rank, s));
        std::vector<int32_t> theirs = blocks(bf.sent_at(peer, s));
        if (rs) {
          b.send(s, peer, mine, RecvKind::kReduce);
          b.recv(s, peer, theirs, RecvKind::kReduce);
        }
        if (ag) {
          const int step = (rs ? l : 0) + (l - 1 - s);
          b.send(step, peer, std::move(theirs), RecvKind::kCopy);
          b.recv(step, peer, std::move(mine), RecvKind::kCopy);
        }
      }
    }
    return std::move(b).finish();
  }

 private:
  std::vector<Butterfly> ports_;
};

}  // namespace

Result<AlgorithmPtr> make_swing_latency(const AlgorithmParams& params) {
  MLSYS_RETURN_IF_ERROR(check_port_count(params, "swing-lat"));
  const std::vector<int> dims = torus_of(params);
  std::vector<int> box;
  for (int d : dims) box.push_back(1 << floor_log2(d));
  std::vector<Butterfly> ports;
  for (int q = 0; q < params.ports; ++q) {
    MLSYS_ASSIGN_OR_RETURN(Butterfly bf, swing_butterfly(box, q));
    ports.push_back(std::move(bf));
  }
  return AlgorithmPtr(std::make_unique<SwingLatency>(params, std::move(box), std::move(ports)));
}

Result<AlgorithmPtr> make_swing_bandwidth(const AlgorithmParams& params) {
  MLSYS_RETURN_IF_ERROR(check_port_count(params, "swing-bw"));
  const std::vector<int> dims = torus_of(params);
  std::vector<Butterfly> ports;
  for (int q = 0; q < params.ports; ++q) {
    auto bf = swing_butterfly(dims, q);
    if (!bf) {
      return Error(bf.error().code(), "swing-bw on torus " + dims_text(dims) + ": " + bf.error().message(),
                   bf.error().hint());
    }
    ports.push_back(std::move(*bf));
  }
  return AlgorithmPtr(std::make_unique<SwingBandwidth>(params, std::move(ports)));
}

}  // namespace mlsys::coll::internal
