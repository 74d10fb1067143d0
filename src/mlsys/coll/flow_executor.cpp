#include "mlsys/coll/flow_executor.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <utility>

#include "mlsys/net/flow_network.h"
#include "mlsys/net/routing.h"
#include "mlsys/sim/engine.h"

namespace mlsys::coll {
namespace {

// Bytes of the listed blocks under block_bytes(): `base` elements each, one more for blocks
// below `extra`.
Bytes listed_bytes(const int32_t* blocks, int32_t count, int64_t base, int64_t extra, int64_t element_size) {
  int64_t elements = base * count;
  for (int32_t i = 0; i < count; ++i) elements += blocks[i] < extra ? 1 : 0;
  return B(elements * element_size);
}

Time reduce_time(Bytes bytes, Bandwidth rate) {
  return rate.base() > 0 && bytes.count() > 0 ? bytes / rate : Time::zero();
}

}  // namespace

std::string_view to_string(FlowMode mode) {
  switch (mode) {
    case FlowMode::kAuto: return "auto";
    case FlowMode::kEventDriven: return "flow-event";
    case FlowMode::kStepSynchronous: return "flow-sync";
  }
  return "?";
}

FlowModel::FlowModel(FlowModel&&) noexcept = default;
FlowModel& FlowModel::operator=(FlowModel&&) noexcept = default;
FlowModel::~FlowModel() = default;

Result<FlowModel> FlowModel::build(const Algorithm& algorithm, const hw::Topology& topology,
                                   const FlowOptions& options) {
  MLSYS_RETURN_IF_ERROR(check_ranks_match(algorithm.name(), algorithm.ranks(), topology));
  FlowModel model;
  model.topology_ = &topology;
  model.router_ = std::make_unique<net::Router>(topology);
  model.cost_ = options.cost;
  model.algorithm_ = algorithm.name();
  model.ranks_ = algorithm.ranks();
  model.block_count_ = algorithm.block_count();
  model.mode_ = options.mode;

  if (model.mode_ != FlowMode::kEventDriven) {
    auto patterns = StepPatterns::compile(algorithm);
    if (!patterns) {
      if (model.mode_ == FlowMode::kStepSynchronous || patterns.error().code() != ErrorCode::kUnsupported) {
        return patterns.error();
      }
      model.mode_ = FlowMode::kEventDriven;  // not step-aligned: only the exact path can time it
    } else if (model.mode_ == FlowMode::kAuto &&
               static_cast<int64_t>(patterns->ranks()) * patterns->steps() <= options.event_driven_limit) {
      model.mode_ = FlowMode::kEventDriven;
    } else {
      model.mode_ = FlowMode::kStepSynchronous;
      model.patterns_ = std::make_unique<StepPatterns>(std::move(*patterns));
    }
  }

  if (model.mode_ == FlowMode::kStepSynchronous) {
    const StepPatterns& pats = *model.patterns_;
    model.steps_ = pats.steps();
    model.messages_ = pats.messages();
    for (const StepPattern& pattern : pats.patterns()) {
      std::vector<const net::Route*> routes;
      routes.reserve(pattern.sends.size());
      for (const PatternSend& s : pattern.sends) {
        auto route = model.router_->route_ranks(s.src, s.dst);
        if (!route) {
          return route.error().context("routing rank " + std::to_string(s.src) + " to rank " + std::to_string(s.dst));
        }
        routes.push_back(*route);
      }
      ScaledPattern scaled;
      scaled.uniform = !routes.empty() && std::all_of(routes.begin(), routes.end(), [&](const net::Route* r) {
        return r->latency == routes.front()->latency;
      });
      if (scaled.uniform) scaled.base = options.cost.software_overhead + routes.front()->latency;
      model.scaled_.push_back(std::move(scaled));
      model.pattern_routes_.push_back(std::move(routes));
    }
    model.rank_slot_.assign(static_cast<size_t>(model.ranks_), -1);
    return model;
  }

  // Event-driven: flatten every rank's schedule and match each receive to its send.
  const int p = model.ranks_;
  const int64_t blocks_total = model.block_count_;
  model.rank_first_step_.assign(static_cast<size_t>(p) + 1, 0);
  std::unordered_map<int64_t, std::vector<int32_t>> pair_sends;  // (src * p + dst) -> sends in order
  for (int r = 0; r < p; ++r) {
    model.rank_first_step_[static_cast<size_t>(r)] = static_cast<int32_t>(model.steps_flat_.size());
    const RankSchedule sched = algorithm.schedule_for(r);
    model.steps_ = std::max(model.steps_, static_cast<int>(sched.steps.size()));
    for (size_t s = 0; s < sched.steps.size(); ++s) {
      const Step& step = sched.steps[s];
      FlatStep flat{.first_send = static_cast<int32_t>(model.sends_.size()),
                    .sends = static_cast<int32_t>(step.sends.size()),
                    .first_recv = static_cast<int32_t>(model.recvs_.size()),
                    .recvs = static_cast<int32_t>(step.recvs.size())};
      const auto add_blocks = [&](const Transfer& t, const char* what) -> Result<int64_t> {
        if (t.peer < 0 || t.peer >= p || t.peer == r) {
          return Error(ErrorCode::kInternal, "algorithm '" + model.algorithm_ + "': rank " + std::to_string(r) +
                                                 " step " + std::to_string(s) + " " + what + " peer " +
                                                 std::to_string(t.peer));
        }
        const int64_t first = static_cast<int64_t>(model.blocks_.size());
        for (int32_t b : t.blocks) {
          if (b < 0 || b >= blocks_total) {
            return Error(ErrorCode::kInternal, "algorithm '" + model.algorithm_ + "': rank " + std::to_string(r) +
                                                   " step " + std::to_string(s) + " " + what + " block " +
                                                   std::to_string(b));
          }
          model.blocks_.push_back(b);
        }
        return first;
      };
      for (const Transfer& t : step.sends) {
        MLSYS_ASSIGN_OR_RETURN(int64_t first, add_blocks(t, "sends to"));
        pair_sends[static_cast<int64_t>(r) * p + t.peer].push_back(static_cast<int32_t>(model.sends_.size()));
        model.sends_.push_back({.dst = t.peer, .recv = -1, .first_block = first,
                                .block_count = static_cast<int32_t>(t.blocks.size())});
        model.send_src_.push_back(r);
      }
      for (const Transfer& t : step.recvs) {
        MLSYS_ASSIGN_OR_RETURN(int64_t first, add_blocks(t, "receives from"));
        model.recvs_.push_back({.src = t.peer, .send = -1, .first_block = first, .block_count = static_cast<int32_t>(t.blocks.size()),
                                .reduce = t.kind == RecvKind::kReduce});
      }
      model.steps_flat_.push_back(flat);
    }
  }
  model.rank_first_step_[static_cast<size_t>(p)] = static_cast<int32_t>(model.steps_flat_.size());
  model.messages_ = static_cast<int64_t>(model.sends_.size());

  // The k-th receive of d from s is the k-th send of s to d.
  std::unordered_map<int64_t, size_t> taken;
  for (int d = 0; d < p; ++d) {
    const int32_t end = model.rank_first_step_[static_cast<size_t>(d) + 1];
    for (int32_t i = model.rank_first_step_[static_cast<size_t>(d)]; i < end; ++i) {
      const FlatStep& step = model.steps_flat_[static_cast<size_t>(i)];
      for (int32_t k = step.first_recv; k < step.first_recv + step.recvs; ++k) {
        FlatRecv& recv = model.recvs_[static_cast<size_t>(k)];
        const int64_t key = static_cast<int64_t>(recv.src) * p + d;
        const auto it = pair_sends.find(key);
        size_t& next = taken[key];
        const auto describe = [&] {
          return "algorithm '" + model.algorithm_ + "': rank " + std::to_string(d) + " step " +
                 std::to_string(i - model.rank_first_step_[static_cast<size_t>(d)]) + " receives from rank " +
                 std::to_string(recv.src);
        };
        if (it == pair_sends.end() || next >= it->second.size()) {
          return Error(ErrorCode::kInternal, describe() + " a message it never sends");
        }
        const int32_t g = it->second[next++];
        FlatSend& send = model.sends_[static_cast<size_t>(g)];
        if (send.block_count != recv.block_count) {
          return Error(ErrorCode::kInternal, describe() + " " + std::to_string(recv.block_count) +
                                                 " blocks of a message of " + std::to_string(send.block_count));
        }
        send.recv = k;
        recv.send = g;
      }
    }
  }
  // Sends nobody receives; the smallest (src, dst) is named so that the message is deterministic.
  int64_t unmatched = -1;
  for (const auto& [key, list] : pair_sends) {
    if (taken[key] != list.size() && (unmatched < 0 || key < unmatched)) unmatched = key;
  }
  if (unmatched >= 0) {
    return Error(ErrorCode::kInternal, "algorithm '" + model.algorithm_ + "': rank " + std::to_string(unmatched / p) +
                                           " sends " + std::to_string(pair_sends[unmatched].size()) +
                                           " messages to rank " + std::to_string(unmatched % p) +
                                           ", which receives " + std::to_string(taken[unmatched]));
  }
  model.send_routes_.reserve(model.sends_.size());
  for (size_t g = 0; g < model.sends_.size(); ++g) {
    auto route = model.router_->route_ranks(model.send_src_[g], model.sends_[g].dst);
    if (!route) {
      return route.error().context("routing rank " + std::to_string(model.send_src_[g]) + " to rank " +
                                   std::to_string(model.sends_[g].dst));
    }
    model.send_routes_.push_back(*route);
  }
  return model;
}

Result<CollectiveTiming> FlowModel::time(Bytes vector_bytes, int64_t element_size) {
  if (element_size < 1) {
    return invalid_input("element size " + std::to_string(element_size) + " bytes", "elements are at least 1 byte");
  }
  if (vector_bytes.count() < 0) return invalid_input("negative vector size", "give a size of 0 bytes or more");
  if (vector_bytes.count() % element_size != 0) {
    return invalid_input("vector of " + std::to_string(vector_bytes.count()) + " bytes is not a whole number of " +
                             std::to_string(element_size) + "-byte elements",
                         "give a multiple of the element size");
  }
  return mode_ == FlowMode::kStepSynchronous ? time_step_synchronous(vector_bytes)
                                             : time_event_driven(vector_bytes, element_size);
}

Status FlowModel::simulate_pattern(size_t p, double x, std::vector<int32_t>& ranks, std::vector<Time>& done) {
  const StepPattern& pattern = patterns_->patterns()[p];
  const std::vector<const net::Route*>& routes = pattern_routes_[p];
  sim::Engine engine;
  net::FlowNetwork network(engine, *topology_);
  std::vector<net::FlowId> ids;
  ids.reserve(pattern.sends.size());
  for (size_t i = 0; i < pattern.sends.size(); ++i) {
    const Bytes size = B(std::llround(pattern.sends[i].blocks * x));
    MLSYS_ASSIGN_OR_RETURN(net::FlowId id, network.start_flow(*routes[i], size, cost_.software_overhead));
    ids.push_back(id);
  }
  MLSYS_RETURN_IF_ERROR(engine.run());
  // A rank is done with the step when its last send and receive have completed.
  ranks.clear();
  done.clear();
  std::vector<int32_t>& slot = rank_slot_;
  const auto touch = [&](int32_t r, Time t) {
    int32_t& k = slot[static_cast<size_t>(r)];
    if (k < 0) {
      k = static_cast<int32_t>(ranks.size());
      ranks.push_back(r);
      done.push_back(t);
    }
    done[static_cast<size_t>(k)] = std::max(done[static_cast<size_t>(k)], t);
  };
  for (size_t i = 0; i < pattern.sends.size(); ++i) {
    const Time t = network.finish_time(ids[i]);
    touch(pattern.sends[i].src, t);
    touch(pattern.sends[i].dst, t);
  }
  for (int32_t r : ranks) slot[static_cast<size_t>(r)] = -1;
  return ok_status();
}

Result<CollectiveTiming> FlowModel::time_step_synchronous(Bytes vector_bytes) {
  const StepPatterns& pats = *patterns_;
  const double x = static_cast<double>(vector_bytes.count()) / static_cast<double>(block_count_);
  const double rate = cost_.reduce_bandwidth.base();
  std::vector<int32_t> ranks;
  std::vector<Time> done;
  Time total = Time::zero();
  for (size_t p = 0; p < pats.patterns().size(); ++p) {
    ScaledPattern& scaled = scaled_[p];
    const std::vector<int32_t>* who = &ranks;
    if (scaled.uniform) {
      if (!scaled.simulated) {
        MLSYS_RETURN_IF_ERROR(simulate_pattern(p, kReferenceBlockBytes, scaled.ranks, done));
        scaled.reference_ns.clear();
        for (Time t : done) scaled.reference_ns.push_back(static_cast<double>((t - scaled.base).ns()));
        scaled.simulated = true;
      }
      // Every flow waited the same latency, then shared bandwidth: its transfer time scales
      // with the bytes. Rounded up to the nanosecond as FlowNetwork rounds a finish.
      who = &scaled.ranks;
      done.clear();
      for (double ref : scaled.reference_ns) {
        const double ns = std::max(0.0, std::ceil(ref * x / kReferenceBlockBytes - 0.001));
        done.push_back(scaled.base + Time::from_ns(static_cast<int64_t>(ns)));
      }
    } else {
      MLSYS_RETURN_IF_ERROR(simulate_pattern(p, x, ranks, done));
    }
    Time step = Time::zero();
    for (size_t i = 0; i < who->size(); ++i) {
      step = std::max(step, done[i]);
      rank_slot_[static_cast<size_t>((*who)[i])] = static_cast<int32_t>(i);
    }
    for (const PatternReduce& red : pats.patterns()[p].reduces) {
      const Time reduce = rate > 0 ? from_seconds(red.blocks * x / rate) : Time::zero();
      const int32_t k = rank_slot_[static_cast<size_t>(red.rank)];
      step = std::max(step, (k >= 0 ? done[static_cast<size_t>(k)] : Time::zero()) + reduce);
    }
    for (int32_t r : *who) rank_slot_[static_cast<size_t>(r)] = -1;
    total += step * pats.multiplicity(static_cast<int>(p));
  }
  CollectiveTiming t;
  t.model = std::string(to_string(FlowMode::kStepSynchronous));
  t.time = total;
  t.seconds = total.seconds();
  t.steps = steps_;
  t.distinct_steps = static_cast<int>(pats.patterns().size());
  t.messages = messages_;
  return t;
}

Result<CollectiveTiming> FlowModel::time_event_driven(Bytes vector_bytes, int64_t element_size) {
  const int64_t elements = vector_bytes.count() / element_size;
  const int64_t base = elements / block_count_;
  const int64_t extra = elements % block_count_;

  // Per step: the time to reduce what it receives; per send: its bytes.
  std::vector<Time> step_reduce(steps_flat_.size(), Time::zero());
  for (size_t i = 0; i < steps_flat_.size(); ++i) {
    const FlatStep& st = steps_flat_[i];
    Bytes reduced = B(0);
    for (int32_t k = st.first_recv; k < st.first_recv + st.recvs; ++k) {
      const FlatRecv& recv = recvs_[static_cast<size_t>(k)];
      if (recv.reduce) {
        reduced += listed_bytes(blocks_.data() + recv.first_block, recv.block_count, base, extra, element_size);
      }
    }
    step_reduce[i] = reduce_time(reduced, cost_.reduce_bandwidth);
  }

  struct Run final : net::FlowObserver {
    FlowModel* m = nullptr;
    net::FlowNetwork* network = nullptr;
    std::vector<Bytes> send_bytes;
    std::vector<Time> send_done;   // Time::max() until the flow completes
    std::vector<uint8_t> waiting;  // per receive: posted and not yet complete
    std::vector<int32_t> send_of_flow;
    std::vector<int32_t> step;     // per rank: index into steps_flat_
    std::vector<int32_t> outstanding;
    std::vector<Time> start;
    std::vector<Time> last;
    std::vector<Time> finish;      // Time::max() until the rank is done
    const std::vector<Time>* step_reduce = nullptr;
    Status status;

    // Starts steps of `rank` from `t` until one has to wait for a flow.
    void start_steps(int32_t rank, Time t) {
      const size_t r = static_cast<size_t>(rank);
      while (step[r] < m->rank_first_step_[r + 1]) {
        const FlatStep& st = m->steps_flat_[static_cast<size_t>(step[r])];
        start[r] = t;
        last[r] = t;
        outstanding[r] = 0;
        for (int32_t g = st.first_send; g < st.first_send + st.sends; ++g) {
          auto id = network->start_flow(*m->send_routes_[static_cast<size_t>(g)], send_bytes[static_cast<size_t>(g)],
                                        t + m->cost_.software_overhead);
          if (!id) {
            status = id.error();
            return;
          }
          if (send_of_flow.size() <= static_cast<size_t>(*id)) send_of_flow.resize(static_cast<size_t>(*id) + 1, -1);
          send_of_flow[static_cast<size_t>(*id)] = g;
          ++outstanding[r];
        }
        for (int32_t k = st.first_recv; k < st.first_recv + st.recvs; ++k) {
          if (send_done[static_cast<size_t>(m->recvs_[static_cast<size_t>(k)].send)] == Time::max()) {
            waiting[static_cast<size_t>(k)] = 1;
            ++outstanding[r];
          }
        }
        if (outstanding[r] > 0) return;
        t = t + (*step_reduce)[static_cast<size_t>(step[r])];
        ++step[r];
      }
      finish[r] = t;
    }

    void complete(int32_t rank, Time now) {
      const size_t r = static_cast<size_t>(rank);
      last[r] = std::max(last[r], now);
      if (--outstanding[r] > 0) return;
      const Time end = std::max(start[r], last[r]) + (*step_reduce)[static_cast<size_t>(step[r])];
      ++step[r];
      start_steps(rank, end);
    }

    void on_flow_done(net::FlowId flow, Time now) override {
      if (!status) return;
      const int32_t g = send_of_flow[static_cast<size_t>(flow)];
      send_done[static_cast<size_t>(g)] = now;
      const FlatSend& send = m->sends_[static_cast<size_t>(g)];
      complete(m->send_src_[static_cast<size_t>(g)], now);
      if (!status) return;
      if (waiting[static_cast<size_t>(send.recv)] != 0) {
        waiting[static_cast<size_t>(send.recv)] = 0;
        complete(send.dst, now);
      }
    }
  };

  sim::Engine engine;
  Run run;
  net::FlowNetwork network(engine, *topology_, {.observer = &run});
  run.m = this;
  run.network = &network;
  run.step_reduce = &step_reduce;
  run.send_bytes.reserve(sends_.size());
  for (const FlatSend& s : sends_) {
    run.send_bytes.push_back(listed_bytes(blocks_.data() + s.first_block, s.block_count, base, extra, element_size));
  }
  run.send_done.assign(sends_.size(), Time::max());
  run.waiting.assign(recvs_.size(), 0);
  run.send_of_flow.reserve(sends_.size());
  const size_t p = static_cast<size_t>(ranks_);
  run.step.assign(rank_first_step_.begin(), rank_first_step_.end() - 1);
  run.outstanding.assign(p, 0);
  run.start.assign(p, Time::zero());
  run.last.assign(p, Time::zero());
  run.finish.assign(p, Time::max());
  for (int32_t r = 0; r < ranks_ && run.status; ++r) run.start_steps(r, Time::zero());
  MLSYS_RETURN_IF_ERROR(run.status);
  MLSYS_RETURN_IF_ERROR(engine.run());
  MLSYS_RETURN_IF_ERROR(run.status);

  Time total = Time::zero();
  for (size_t r = 0; r < p; ++r) {
    if (run.finish[r] == Time::max()) {
      const int32_t local = run.step[r] - rank_first_step_[r];
      return Error(ErrorCode::kInternal, "algorithm '" + algorithm_ + "' deadlocks: rank " + std::to_string(r) +
                                             " waits in step " + std::to_string(local) + " for " +
                                             std::to_string(run.outstanding[r]) + " transfers that never complete");
    }
    total = std::max(total, run.finish[r]);
  }
  CollectiveTiming t;
  t.model = std::string(to_string(FlowMode::kEventDriven));
  t.time = total;
  t.seconds = total.seconds();
  t.steps = steps_;
  t.distinct_steps = steps_;
  t.messages = messages_;
  return t;
}

Result<CollectiveTiming> flow_time(const Algorithm& algorithm, Bytes vector_bytes, int64_t element_size,
                                   const hw::Topology& topology, const FlowOptions& options) {
  MLSYS_RETURN_IF_ERROR(check_timing_inputs(algorithm, vector_bytes, element_size, topology));
  MLSYS_ASSIGN_OR_RETURN(FlowModel model, FlowModel::build(algorithm, topology, options));
  return model.time(vector_bytes, element_size);
}

}  // namespace mlsys::coll
