#include "mlsys/coll/cost_model.h"

#include <optional>
#include <algorithm>
#include <iterator>
#include <limits>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "mlsys/core/check.h"
#include "mlsys/core/rng.h"
#include "mlsys/net/routing.h"

namespace mlsys::coll {
namespace {

// One transfer as the step patterns see it: peer, block count and (receives) kind.
struct Signature {
  int32_t peer = 0;
  int32_t blocks = 0;
  RecvKind kind = RecvKind::kReduce;
};

// A step of one rank that differs from its previous step.
struct Change {
  int32_t step = 0;
  int64_t first = 0;  // first Signature in the pool: sends, then receives
  int32_t sends = 0;
  int32_t recvs = 0;
};

bool same_shape(const Step& a, const Step& b) {
  if (a.sends.size() != b.sends.size() || a.recvs.size() != b.recvs.size()) return false;
  for (size_t i = 0; i < a.sends.size(); ++i) {
    if (a.sends[i].peer != b.sends[i].peer || a.sends[i].blocks.size() != b.sends[i].blocks.size()) return false;
  }
  for (size_t i = 0; i < a.recvs.size(); ++i) {
    if (a.recvs[i].peer != b.recvs[i].peer || a.recvs[i].blocks.size() != b.recvs[i].blocks.size() ||
        a.recvs[i].kind != b.recvs[i].kind) {
      return false;
    }
  }
  return true;
}

// A malformed transfer (a bug in the algorithm): kInternal naming the rank, step and value.
Error bad_transfer(const Algorithm& algo, int rank, size_t step, const Transfer& t, const char* what,
                   int64_t blocks) {
  const std::string where = "algorithm '" + algo.name() + "': rank " + std::to_string(rank) + " step " +
                            std::to_string(step) + " " + what;
  if (t.peer < 0 || t.peer >= algo.ranks() || t.peer == rank) {
    return Error(ErrorCode::kInternal, where + " peer " + std::to_string(t.peer) + " (ranks are 0.." +
                                           std::to_string(algo.ranks() - 1) + ", not the rank itself)");
  }
  for (int32_t b : t.blocks) {
    if (b < 0 || b >= blocks) {
      return Error(ErrorCode::kInternal,
                   where + " block " + std::to_string(b) + " (blocks are 0.." + std::to_string(blocks - 1) + ")");
    }
  }
  return Error(ErrorCode::kInternal, where + ": malformed transfer");
}

// Checked on every transfer of every rank, so no Status on the way.
bool transfer_ok(const Transfer& t, int peer, int rank, int ranks, int64_t blocks) {
  if (peer < 0 || peer >= ranks || peer == rank) return false;
  bool ok = true;
  for (int32_t b : t.blocks) ok &= b >= 0 && b < blocks;
  return ok;
}

uint64_t hash_pattern(const StepPattern& p) {
  uint64_t h = mix64(p.sends.size() * 0x9e3779b97f4a7c15ULL + p.reduces.size());
  for (const PatternSend& s : p.sends) {
    h = mix64(h ^ (static_cast<uint64_t>(static_cast<uint32_t>(s.src)) << 32 | static_cast<uint32_t>(s.dst)));
    h = mix64(h ^ static_cast<uint64_t>(static_cast<uint32_t>(s.blocks)));
  }
  for (const PatternReduce& r : p.reduces) {
    h = mix64(h ^ (static_cast<uint64_t>(static_cast<uint32_t>(r.rank)) << 32 | static_cast<uint32_t>(r.blocks)));
  }
  return h;
}

// Every message sent in the step must be received in it: compares the sends with the receives
// (src, dst, blocks), as multisets.
Status check_aligned(const std::string& algo, int step, std::vector<PatternSend> sends,
                     std::vector<PatternSend> recvs) {
  const auto order = [](const PatternSend& a, const PatternSend& b) {
    return std::tie(a.src, a.dst, a.blocks) < std::tie(b.src, b.dst, b.blocks);
  };
  std::sort(sends.begin(), sends.end(), order);
  std::sort(recvs.begin(), recvs.end(), order);
  if (sends == recvs) return ok_status();
  std::vector<PatternSend> unmatched;
  std::set_symmetric_difference(sends.begin(), sends.end(), recvs.begin(), recvs.end(),
                                std::back_inserter(unmatched), order);
  const PatternSend& m = unmatched.front();
  const bool is_send = std::binary_search(sends.begin(), sends.end(), m, order);
  const std::string what = is_send ? "rank " + std::to_string(m.src) + " sends " + std::to_string(m.blocks) +
                                         " blocks to rank " + std::to_string(m.dst) + ", which does not receive them"
                                   : "rank " + std::to_string(m.dst) + " receives " + std::to_string(m.blocks) +
                                         " blocks from rank " + std::to_string(m.src) + ", which does not send them";
  return unsupported("schedule of '" + algo + "' is not step-aligned: in step " + std::to_string(step) + " " + what +
                         " in that step",
                     "time it with the event-driven flow model");
}

}  // namespace

Result<StepPatterns> StepPatterns::compile(const Algorithm& algorithm) {
  StepPatterns out;
  out.algorithm_ = algorithm.name();
  out.ranks_ = algorithm.ranks();
  out.block_count_ = algorithm.block_count();
  const int p = out.ranks_;
  if (p < 1) return Error(ErrorCode::kInternal, "algorithm '" + out.algorithm_ + "' has no ranks");
  if (out.block_count_ < 1 || out.block_count_ > std::numeric_limits<int32_t>::max()) {
    return Error(ErrorCode::kInternal, "algorithm '" + out.algorithm_ + "' has " +
                                           std::to_string(out.block_count_) + " blocks");
  }

  const int64_t blocks = out.block_count_;
  // Pass over the ranks: keep only the steps where a rank's shape changes.
  std::vector<Change> changes;
  std::vector<int64_t> first_change(static_cast<size_t>(p) + 1, 0);
  std::vector<Signature> pool;
  std::vector<uint8_t> boundary;
  const auto mark = [&boundary](size_t step) {
    if (boundary.size() <= step) boundary.resize(step + 1, 0);
    boundary[step] = 1;
  };
  // A rank-translation-invariant algorithm (ring) is generated once and shifted for each rank:
  // generating 4096 ring schedules would cost seconds of allocation for the same information.
  std::optional<RankSchedule> rank0;
  if (algorithm.rank_translation_invariant()) rank0 = algorithm.schedule_for(0);
  for (int r = 0; r < p; ++r) {
    first_change[static_cast<size_t>(r)] = static_cast<int64_t>(changes.size());
    RankSchedule own;
    if (!rank0) own = algorithm.schedule_for(r);
    const RankSchedule& sched = rank0 ? *rank0 : own;
    const int shift = rank0 ? r : 0;
    // Out-of-range peers stay as they are, so transfer_ok still reports them.
    const auto peer_of = [shift, p](const Transfer& t) { return t.peer < 0 || t.peer >= p ? t.peer : (t.peer + shift) % p; };
    const size_t n = sched.steps.size();
    out.steps_ = std::max(out.steps_, static_cast<int>(n));
    for (size_t s = 0; s < n; ++s) {
      const Step& step = sched.steps[s];
      for (const Transfer& t : step.sends) {
        if (!transfer_ok(t, peer_of(t), r, p, blocks)) return bad_transfer(algorithm, r, s, t, "sends to", blocks);
      }
      for (const Transfer& t : step.recvs) {
        if (!transfer_ok(t, peer_of(t), r, p, blocks)) return bad_transfer(algorithm, r, s, t, "receives from", blocks);
      }
      out.messages_ += static_cast<int64_t>(step.sends.size());
      if (s > 0 && same_shape(sched.steps[s - 1], step)) continue;
      Change c{.step = static_cast<int32_t>(s), .first = static_cast<int64_t>(pool.size()),
               .sends = static_cast<int32_t>(step.sends.size()), .recvs = static_cast<int32_t>(step.recvs.size())};
      for (const Transfer& t : step.sends) pool.push_back({peer_of(t), static_cast<int32_t>(t.blocks.size()), t.kind});
      for (const Transfer& t : step.recvs) pool.push_back({peer_of(t), static_cast<int32_t>(t.blocks.size()), t.kind});
      changes.push_back(c);
      mark(s);
    }
    // Idle from the end of its schedule on (from step 0 for an empty schedule).
    changes.push_back({.step = static_cast<int32_t>(n), .first = static_cast<int64_t>(pool.size())});
    mark(n);
  }
  first_change[static_cast<size_t>(p)] = static_cast<int64_t>(changes.size());

  // Runs of steps in which no rank changes; one pattern per run, equal patterns merged.
  std::vector<int64_t> cursor(first_change.begin(), first_change.end() - 1);
  std::unordered_map<uint64_t, std::vector<int32_t>> by_hash;
  std::vector<PatternSend> recvs;
  for (int s = 0; s < out.steps_; ++s) {
    if (s > 0 && boundary[static_cast<size_t>(s)] == 0) {
      ++out.runs_.back().count;
      continue;
    }
    StepPattern pattern;
    recvs.clear();
    for (int r = 0; r < p; ++r) {
      int64_t& c = cursor[static_cast<size_t>(r)];
      while (c + 1 < first_change[static_cast<size_t>(r) + 1] && changes[static_cast<size_t>(c + 1)].step <= s) ++c;
      const Change& ch = changes[static_cast<size_t>(c)];
      const Signature* sig = pool.data() + ch.first;
      for (int32_t i = 0; i < ch.sends; ++i) pattern.sends.push_back({r, sig[i].peer, sig[i].blocks});
      int32_t reduce = 0;
      for (int32_t i = ch.sends; i < ch.sends + ch.recvs; ++i) {
        recvs.push_back({sig[i].peer, r, sig[i].blocks});
        if (sig[i].kind == RecvKind::kReduce) reduce += sig[i].blocks;
      }
      if (reduce > 0) {
        pattern.reduces.push_back({r, reduce});
        pattern.max_reduce_blocks = std::max(pattern.max_reduce_blocks, reduce);
      }
    }
    MLSYS_RETURN_IF_ERROR(check_aligned(out.algorithm_, s, pattern.sends, recvs));
    const uint64_t h = hash_pattern(pattern);
    std::vector<int32_t>& same = by_hash[h];
    int32_t id = -1;
    for (int32_t candidate : same) {
      if (out.patterns_[static_cast<size_t>(candidate)] == pattern) id = candidate;
    }
    if (id < 0) {
      id = static_cast<int32_t>(out.patterns_.size());
      out.patterns_.push_back(std::move(pattern));
      out.multiplicity_.push_back(0);
      same.push_back(id);
    }
    out.runs_.push_back({.pattern = id, .first_step = s, .count = 1});
  }
  for (const StepRun& run : out.runs_) out.multiplicity_[static_cast<size_t>(run.pattern)] += run.count;
  return out;
}

Status check_ranks_match(std::string_view algorithm, int ranks, const hw::Topology& topology) {
  if (ranks == topology.endpoint_count()) return {};
  return invalid_input("algorithm '" + std::string(algorithm) + "' runs on " + std::to_string(ranks) +
                           " ranks but topology '" + topology.name() + "' has " +
                           std::to_string(topology.endpoint_count()) + " endpoints",
                       "build the algorithm for the topology's endpoint count");
}

Result<AnalyticModel> AnalyticModel::build(const StepPatterns& patterns, const hw::Topology& topology,
                                           const CostParams& params) {
  MLSYS_RETURN_IF_ERROR(check_ranks_match(patterns.algorithm(), patterns.ranks(), topology));
  AnalyticModel model;
  model.block_count_ = patterns.block_count();
  model.steps_ = patterns.steps();
  model.messages_ = patterns.messages();

  net::Router router(topology);
  std::vector<double> inv_bw(static_cast<size_t>(topology.link_count()));
  for (const hw::Link& l : topology.links()) inv_bw[static_cast<size_t>(l.id)] = 1.0 / l.bandwidth.base();
  std::vector<double> load(inv_bw.size(), 0.0);  // blocks crossing each link in the step
  std::vector<hw::LinkId> touched;
  std::vector<const net::Route*> routes;
  std::vector<Line> lines;
  const double overhead_s = params.software_overhead.seconds();

  for (size_t p = 0; p < patterns.patterns().size(); ++p) {
    const StepPattern& pattern = patterns.patterns()[p];
    routes.clear();
    for (const PatternSend& s : pattern.sends) {
      auto route = router.route_ranks(s.src, s.dst);
      if (!route) return route.error().context("routing rank " + std::to_string(s.src) + " to rank " + std::to_string(s.dst));
      routes.push_back(*route);
      for (hw::LinkId l : (*route)->links) {
        if (load[static_cast<size_t>(l)] == 0.0) touched.push_back(l);
        load[static_cast<size_t>(l)] += s.blocks;
      }
    }
    lines.clear();
    for (size_t i = 0; i < pattern.sends.size(); ++i) {
      double beta = 0.0;
      if (pattern.sends[i].blocks > 0) {
        for (hw::LinkId l : routes[i]->links) {
          beta = std::max(beta, load[static_cast<size_t>(l)] * inv_bw[static_cast<size_t>(l)]);
        }
      }
      lines.push_back({routes[i]->latency.seconds() + overhead_s, beta});
    }
    for (hw::LinkId l : touched) load[static_cast<size_t>(l)] = 0.0;
    touched.clear();

    // Keep the Pareto front: sorted by alpha descending, each kept line has a larger beta.
    std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
      return a.alpha_s != b.alpha_s ? a.alpha_s > b.alpha_s : a.beta_s_per_byte > b.beta_s_per_byte;
    });
    PatternCost cost;
    for (const Line& line : lines) {
      if (cost.lines.empty() || line.beta_s_per_byte > cost.lines.back().beta_s_per_byte) cost.lines.push_back(line);
    }
    if (params.reduce_bandwidth.base() > 0) {
      cost.gamma_s_per_byte = pattern.max_reduce_blocks / params.reduce_bandwidth.base();
    }
    cost.multiplicity = patterns.multiplicity(static_cast<int>(p));
    model.costs_.push_back(std::move(cost));
  }
  return model;
}

CollectiveTiming AnalyticModel::time(Bytes vector_bytes) const {
  MLSYS_CHECK(vector_bytes.count() >= 0, "negative vector size");
  const double x = static_cast<double>(vector_bytes.count()) / static_cast<double>(block_count_);
  double total = 0;
  double latency = 0;
  double bandwidth = 0;
  double reduce = 0;
  for (const PatternCost& c : costs_) {
    double best = 0;
    double best_alpha = 0;
    double best_beta = 0;
    for (size_t i = 0; i < c.lines.size(); ++i) {
      const double v = c.lines[i].alpha_s + c.lines[i].beta_s_per_byte * x;
      if (i == 0 || v > best) {
        best = v;
        best_alpha = c.lines[i].alpha_s;
        best_beta = c.lines[i].beta_s_per_byte * x;
      }
    }
    const double m = static_cast<double>(c.multiplicity);
    const double gamma = c.gamma_s_per_byte * x;
    total += m * (best + gamma);
    latency += m * best_alpha;
    bandwidth += m * best_beta;
    reduce += m * gamma;
  }
  CollectiveTiming t;
  t.model = "analytic";
  t.seconds = total;
  t.time = from_seconds(total);
  t.latency_term = from_seconds(latency);
  t.bandwidth_term = from_seconds(bandwidth);
  t.reduce_term = from_seconds(reduce);
  t.steps = steps_;
  t.distinct_steps = static_cast<int>(costs_.size());
  t.messages = messages_;
  return t;
}

Status check_timing_inputs(const Algorithm& algorithm, Bytes vector_bytes, int64_t element_size,
                           const hw::Topology& topology) {
  if (element_size < 1) {
    return invalid_input("element size " + std::to_string(element_size) + " bytes", "elements are at least 1 byte");
  }
  if (vector_bytes.count() < 0) return invalid_input("negative vector size", "give a size of 0 bytes or more");
  if (vector_bytes.count() % element_size != 0) {
    return invalid_input("vector of " + std::to_string(vector_bytes.count()) + " bytes is not a whole number of " +
                             std::to_string(element_size) + "-byte elements",
                         "give a multiple of the element size");
  }
  if (algorithm.ranks() != topology.endpoint_count()) {
    return invalid_input("algorithm '" + algorithm.name() + "' runs on " + std::to_string(algorithm.ranks()) +
                             " ranks but topology '" + topology.name() + "' has " +
                             std::to_string(topology.endpoint_count()) + " endpoints",
                         "build the algorithm for the topology's endpoint count");
  }
  return ok_status();
}

Result<CollectiveTiming> analytic_time(const Algorithm& algorithm, Bytes vector_bytes, int64_t element_size,
                                       const hw::Topology& topology, const CostParams& params) {
  MLSYS_RETURN_IF_ERROR(check_timing_inputs(algorithm, vector_bytes, element_size, topology));
  MLSYS_ASSIGN_OR_RETURN(StepPatterns patterns, StepPatterns::compile(algorithm));
  MLSYS_ASSIGN_OR_RETURN(AnalyticModel model, AnalyticModel::build(patterns, topology, params));
  return model.time(vector_bytes);
}

}  // namespace mlsys::coll
