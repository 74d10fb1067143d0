#include "mlsys/serve/simulator.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <optional>

#include "mlsys/serve/memory_planner.h"
#include "mlsys/sim/engine.h"

namespace mlsys::serve {

Result<SchedulerKind> parse_scheduler(std::string_view name) {
  if (name == "fcfs" || name == "faster-transformer") return SchedulerKind::kFasterTransformer;
  if (name == "orca") return SchedulerKind::kOrca;
  if (name == "vllm") return SchedulerKind::kVllm;
  if (name == "sarathi" || name == "sarathi-serve") return SchedulerKind::kSarathi;
  if (name == "vtc") return SchedulerKind::kVtc;
  if (name == "lcf") return SchedulerKind::kLcf;
  if (name == "rpm") return SchedulerKind::kRpm;
  if (name == "distserve") return SchedulerKind::kDistServe;
  return invalid_input("unknown scheduler '" + std::string(name) + "'",
                       "one of fcfs, orca, vllm, sarathi, vtc, lcf, rpm, distserve", {"--scheduler"});
}

std::string_view to_string(SchedulerKind kind) {
  switch (kind) {
    case SchedulerKind::kFasterTransformer:
      return "fcfs";
    case SchedulerKind::kOrca:
      return "orca";
    case SchedulerKind::kVllm:
      return "vllm";
    case SchedulerKind::kSarathi:
      return "sarathi";
    case SchedulerKind::kVtc:
      return "vtc";
    case SchedulerKind::kLcf:
      return "lcf";
    case SchedulerKind::kRpm:
      return "rpm";
    case SchedulerKind::kDistServe:
      return "distserve";
  }
  return "?";
}

Result<RouterKind> parse_router(std::string_view name) {
  if (name == "rr" || name == "round-robin") return RouterKind::kRoundRobin;
  if (name == "least" || name == "least-outstanding") return RouterKind::kLeastOutstanding;
  return invalid_input("unknown router '" + std::string(name) + "'", "rr or least", {"--router"});
}

std::string_view to_string(RouterKind kind) { return kind == RouterKind::kRoundRobin ? "rr" : "least"; }

namespace {

using SeqId = int32_t;

// Live state of one request. The prefill target grows on a recompute restart: the tokens
// generated so far are prefilled again (vLLM / Vidur restart semantics).
struct Seq {
  int64_t prompt = 0;  // tokens to prefill now
  int64_t prefilled = 0;
  int64_t kv = 0;         // tokens whose KV is cached
  int64_t generated = 0;  // output tokens produced, across restarts
  int64_t blocks = 0;     // KV blocks held on the GPU (or on the CPU when swapped)
  int64_t chunk = 0;      // prefill tokens in the current batch
  bool decode_step = false;
  bool started = false;
  bool in_flight = false;
  bool preempted_now = false;
  bool finished = false;
};

class Simulator;

// Waiting queue policies: FCFS, VTC, LCF, RPM. All keep preempted requests ahead of new ones.
class AdmissionQueue {
 public:
  virtual ~AdmissionQueue() = default;
  /// A new arrival; false when refused (RPM).
  virtual bool push(SeqId s, int64_t client, Time now) = 0;
  /// A preempted request, served before new arrivals of its client.
  virtual void push_front(SeqId s, int64_t client) = 0;
  virtual bool empty() const = 0;
  virtual SeqId peek() = 0;
  virtual void pop() = 0;
  /// Service charged when a request is admitted (prompt tokens) and per output token.
  virtual void charge_admission(int64_t /*client*/, int64_t /*prompt*/) {}
  virtual void charge_output(int64_t /*client*/, int64_t /*tokens*/) {}
};

class FcfsQueue : public AdmissionQueue {
 public:
  bool push(SeqId s, int64_t, Time) override {
    q_.push_back(s);
    return true;
  }
  void push_front(SeqId s, int64_t) override { q_.push_front(s); }
  bool empty() const override { return q_.empty(); }
  SeqId peek() override { return q_.front(); }
  void pop() override { q_.pop_front(); }

 private:
  std::deque<SeqId> q_;
};

// Requests-per-minute limit (VTC paper's baseline): an arrival is refused when its client already
// had `limit` requests accepted in the last 60 s.
class RpmQueue final : public FcfsQueue {
 public:
  explicit RpmQueue(int64_t limit) : limit_(limit) {}
  bool push(SeqId s, int64_t client, Time now) override {
    if (static_cast<size_t>(client) >= accepted_.size()) accepted_.resize(static_cast<size_t>(client) + 1);
    std::deque<Time>& a = accepted_[static_cast<size_t>(client)];
    while (!a.empty() && a.front() <= now - sec(60)) a.pop_front();
    if (static_cast<int64_t>(a.size()) >= limit_) return false;
    a.push_back(now);
    return FcfsQueue::push(s, client, now);
  }

 private:
  int64_t limit_;
  std::vector<std::deque<Time>> accepted_;
};

// Virtual Token Counter (Sheng et al., OSDI'24): serve the backlogged client with the smallest
// counter; a client that becomes backlogged is lifted to the smallest counter of the others, so
// idle time earns no credit. LeastCounterFirst is the same without the lift.
class VirtualTokenCounter final : public AdmissionQueue {
 public:
  VirtualTokenCounter(bool lift, double w_in, double w_out, std::vector<double> weights)
      : lift_(lift), w_in_(w_in), w_out_(w_out), weights_(std::move(weights)) {}

  bool push(SeqId s, int64_t client, Time) override {
    grow(client);
    auto& q = queues_[static_cast<size_t>(client)];
    if (q.empty()) {
      if (lift_) {
        double lowest = std::numeric_limits<double>::infinity();
        for (size_t c = 0; c < queues_.size(); ++c) {
          if (static_cast<int64_t>(c) != client && !queues_[c].empty())
            lowest = std::min(lowest, counter_[c]);
        }
        if (lowest != std::numeric_limits<double>::infinity()) {
          counter_[static_cast<size_t>(client)] = std::max(counter_[static_cast<size_t>(client)], lowest);
        }
      }
    }
    q.push_back(s);
    ++size_;
    return true;
  }
  void push_front(SeqId s, int64_t client) override {
    grow(client);
    queues_[static_cast<size_t>(client)].push_front(s);
    ++size_;
  }
  bool empty() const override { return size_ == 0; }
  SeqId peek() override {
    picked_ = pick();
    return queues_[picked_].front();
  }
  void pop() override {
    queues_[picked_].pop_front();
    --size_;
  }
  void charge_admission(int64_t client, int64_t prompt) override {
    grow(client);
    counter_[static_cast<size_t>(client)] += w_in_ * static_cast<double>(prompt) / weight(client);
  }
  void charge_output(int64_t client, int64_t tokens) override {
    grow(client);
    counter_[static_cast<size_t>(client)] += w_out_ * static_cast<double>(tokens) / weight(client);
  }

 private:
  void grow(int64_t client) {
    if (static_cast<size_t>(client) >= queues_.size()) {
      queues_.resize(static_cast<size_t>(client) + 1);
      counter_.resize(static_cast<size_t>(client) + 1, 0.0);
    }
  }
  double weight(int64_t client) const {
    return static_cast<size_t>(client) < weights_.size() ? weights_[static_cast<size_t>(client)] : 1.0;
  }
  size_t pick() const {
    size_t best = queues_.size();
    for (size_t c = 0; c < queues_.size(); ++c) {
      if (queues_[c].empty()) continue;
      if (best == queues_.size() || counter_[c] < counter_[best]) best = c;
    }
    return best;
  }

  bool lift_;
  double w_in_, w_out_;
  std::vector<double> weights_;
  std::vector<std::deque<SeqId>> queues_;
  std::vector<double> counter_;
  size_t size_ = 0;
  size_t picked_ = 0;
};

enum class Role { kColocated, kPrefill, kDecode };
enum class Batching { kFasterTransformer, kOrca, kVllm, kSarathi };

struct Batch {
  std::vector<SeqId> members;
  BatchShape shape;
  Time start, end;
};

class Replica final : public sim::Component {
 public:
  Replica(Simulator& sim, int32_t index, std::string name, Role role, Batching batching,
          std::unique_ptr<AdmissionQueue> queue, const BatchTimeModel& time, int64_t blocks,
          const SchedulerOptions& o)
      : Component(std::move(name)),
        sim_(sim),
        index_(index),
        role_(role),
        batching_(batching),
        queue_(std::move(queue)),
        time_(time),
        kv_(blocks, o.watermark),
        cpu_(o.swap ? o.swap_blocks : 0, 0.0),
        o_(o),
        pp_(std::max<int64_t>(1, time.pipeline_stages())),
        stage_free_(static_cast<size_t>(pp_), Time::zero()) {}

  void on_wake(sim::Engine& engine) override;
  std::string pending_work() const override;

  /// A new request routed here (colocated or prefill role).
  void admit_new(SeqId s, Time now);
  /// A prefilled request whose KV cache arrived (decode role).
  void admit_prefilled(SeqId s);
  /// Frees blocks held for a request whose KV left (prefill role).
  void release_blocks(int64_t blocks) { kv_.release(blocks); }
  void poke(sim::Engine& engine);

  int64_t outstanding() const { return outstanding_; }
  /// DistServe: a request bound for this decode instance counts as outstanding from the moment
  /// its KV transfer starts, so the dispatcher sees it.
  void reserve() { ++outstanding_; }
  InstanceStats stats;

 private:
  bool form_batch(Batch& b, Time now);
  void form_vllm(Batch& b, Time now);
  void form_sarathi(Batch& b, Time now);
  void form_orca(Batch& b, Time now);
  void form_faster_transformer(Batch& b, Time now);
  bool admit_incoming();
  bool ignore_if_unservable(SeqId s);
  /// Pops the queue head with its whole length (prompt + output, at least max_model_len) reserved
  /// in the KV cache, as Orca and FasterTransformer do; nullopt when the queue is empty or the
  /// cache cannot hold the head.
  std::optional<SeqId> admit_reserving_whole(Time now);
  // Decodes of the idle running requests, preempting from the tail when blocks run out.
  void schedule_decodes(Batch& b, std::vector<SeqId>& cand, int64_t cap);
  void preempt(SeqId victim);
  void add_prefill(Batch& b, SeqId s, int64_t chunk);
  void add_decode(Batch& b, SeqId s);
  void complete(Batch& b);
  void insert_running(SeqId s) { running_.insert(std::upper_bound(running_.begin(), running_.end(), s), s); }
  void drop_running(SeqId s) {
    auto it = std::lower_bound(running_.begin(), running_.end(), s);
    if (it != running_.end() && *it == s) running_.erase(it);
  }
  bool has_work() const {
    return !queue_->empty() || !incoming_.empty() || !swapped_.empty() || idle_running_ > 0;
  }

  Simulator& sim_;
  int32_t index_;
  Role role_;
  Batching batching_;
  std::unique_ptr<AdmissionQueue> queue_;
  const BatchTimeModel& time_;
  BlockAllocator kv_;
  BlockAllocator cpu_;
  SchedulerOptions o_;
  int64_t pp_;
  std::vector<Time> stage_free_;
  std::deque<Batch> in_flight_;
  std::vector<SeqId> running_;  // ascending id = arrival order
  std::deque<SeqId> swapped_;
  std::deque<SeqId> incoming_;   // decode role: prefilled requests waiting for blocks
  std::vector<SeqId> ft_batch_;  // FasterTransformer: the static batch until all finish
  int64_t idle_running_ = 0;     // running requests not in a batch in flight
  int64_t outstanding_ = 0;
  Time swap_cost_ = Time::zero();
  std::vector<SeqId> scratch_;
  std::vector<Batch> spare_;
};

// KV transfers out of one prefill instance, one at a time in order (one link).
class KvLink final : public sim::Component {
 public:
  KvLink(Simulator& sim, std::string name) : Component(std::move(name)), sim_(sim) {}
  void on_wake(sim::Engine& engine) override;
  void send(sim::Engine& engine, SeqId s, int32_t from, Time duration);

 private:
  struct Transfer {
    SeqId seq;
    int32_t from;
    Time end;
  };
  Simulator& sim_;
  std::deque<Transfer> q_;
  Time free_ = Time::zero();
};

class Arrivals final : public sim::Component {
 public:
  explicit Arrivals(Simulator& sim) : Component("arrivals"), sim_(sim) {}
  void on_wake(sim::Engine& engine) override;

 private:
  Simulator& sim_;
  size_t next_ = 0;
};

class Simulator {
 public:
  Simulator(const Workload& w, const SimConfig& c, SimResult& r)
      : w_(w), c_(c), r_(r), seqs_(w.requests.size()), arrivals_(*this) {
    track_clients_ = w.clients > 1 || c.observer != nullptr;
    if (track_clients_) waiting_per_client_.assign(static_cast<size_t>(std::max<int64_t>(1, w.clients)), 0);
  }

  Status build();
  Status run();

  const Request& req(SeqId s) const { return w_.requests[static_cast<size_t>(s)]; }
  Seq& seq(SeqId s) { return seqs_[static_cast<size_t>(s)]; }
  sim::Engine& engine() { return engine_; }
  SimResult& result() { return r_; }
  const SimConfig& config() const { return c_; }

  void on_arrival(SeqId s, Time now);
  void on_prefill_done(int32_t from, SeqId s, Time now);  // prefill role: hand the KV over
  void on_transfer_done(int32_t from, SeqId s);
  void on_finish(int32_t replica, SeqId s, Time now);
  void waiting_changed(int64_t client, int delta, Time now);
  void service(int64_t client, double weighted, Time now) {
    if (c_.observer != nullptr) c_.observer->on_service(client, weighted, now);
    if (track_clients_) r_.metrics.on_service(client, weighted, now);
  }
  bool track_clients() const { return track_clients_; }
  void record(const IterationRecord& rec) {
    if (c_.record_iterations) r_.iterations_log.push_back(rec);
  }

 private:
  std::unique_ptr<AdmissionQueue> make_queue() const;
  int32_t route(const std::vector<std::unique_ptr<Replica>>& pool, int64_t& rr) const;

  const Workload& w_;
  const SimConfig& c_;
  SimResult& r_;
  std::vector<Seq> seqs_;
  sim::Engine engine_;
  Arrivals arrivals_;
  std::vector<std::unique_ptr<Replica>> replicas_;  // colocated, or the prefill instances
  std::vector<std::unique_ptr<Replica>> decoders_;  // DistServe decode instances
  std::vector<std::unique_ptr<KvLink>> links_;
  std::vector<int32_t> decode_of_;  // DistServe: chosen decode instance per seq
  int64_t rr_ = 0;
  int64_t rr_decode_ = 0;
  bool track_clients_ = false;
  std::vector<int64_t> waiting_per_client_;
  friend class Arrivals;
};

// ---------------------------------------------------------------------------------------------
// Replica

void Replica::admit_new(SeqId s, Time now) {
  ++outstanding_;
  ++stats.requests;
  const Request& r = sim_.req(s);
  Seq& q = sim_.seq(s);
  q.prompt = r.prompt_tokens;
  if (!queue_->push(s, r.client, now)) {
    --outstanding_;
    ++sim_.result().aborted;
    return;
  }
  sim_.waiting_changed(r.client, +1, now);
  poke(sim_.engine());
}

void Replica::admit_prefilled(SeqId s) {
  ++stats.requests;
  incoming_.push_back(s);
  poke(sim_.engine());
}

void Replica::poke(sim::Engine& engine) {
  // Idle, or a pipeline slot free now: form a batch at the current time. Otherwise the wake-up
  // already pending (a batch end) will look at the new work.
  if (static_cast<int64_t>(in_flight_.size()) < pp_ && stage_free_[0] <= engine.now()) engine.post(*this);
}

std::string Replica::pending_work() const {
  if (in_flight_.empty() && has_work()) {
    return std::to_string(running_.size()) + " running, " + std::to_string(kv_.free()) + " of " +
           std::to_string(kv_.total()) + " KV blocks free, requests waiting";
  }
  return {};
}

bool Replica::ignore_if_unservable(SeqId s) {
  Seq& q = sim_.seq(s);
  const int64_t need = blocks_for(q.prompt, o_.block_size);
  const bool too_long = sim_.seq(s).generated == 0 && q.prompt > o_.max_model_len;
  if (!too_long && !kv_.never_fits(need)) return false;
  queue_->pop();
  sim_.waiting_changed(sim_.req(s).client, -1, sim_.engine().now());
  q.finished = true;
  ++sim_.result().ignored;
  --outstanding_;
  return true;
}

void Replica::add_prefill(Batch& b, SeqId s, int64_t chunk) {
  Seq& q = sim_.seq(s);
  q.chunk = chunk;
  q.decode_step = false;
  b.shape.add_prefill(chunk, q.prefilled);
  b.members.push_back(s);
}

void Replica::add_decode(Batch& b, SeqId s) {
  Seq& q = sim_.seq(s);
  q.chunk = 0;
  q.decode_step = true;
  b.shape.add_decode(q.kv);
  b.members.push_back(s);
}

void Replica::preempt(SeqId victim) {
  Seq& v = sim_.seq(victim);
  v.preempted_now = true;
  ++sim_.result().preemptions;
  sim_.result().metrics.on_preemption(sim_.req(victim));
  drop_running(victim);
  --idle_running_;
  if (o_.swap && cpu_.can_allocate(v.blocks)) {
    // vLLM SWAP mode: the blocks move to the CPU and come back later; the copy is paid in this
    // iteration's time.
    ++sim_.result().swaps;
    kv_.release(v.blocks);
    cpu_.allocate(v.blocks);
    swap_cost_ += (o_.block_bytes * v.blocks) / o_.swap_bandwidth;
    swapped_.push_back(victim);
    return;
  }
  // Recompute: drop the KV, prefill prompt + generated again, ahead of new arrivals.
  kv_.release(v.blocks);
  v.blocks = 0;
  v.prompt = sim_.req(victim).prompt_tokens + v.generated;
  v.prefilled = 0;
  v.kv = 0;
  queue_->push_front(victim, sim_.req(victim).client);
  sim_.waiting_changed(sim_.req(victim).client, +1, sim_.engine().now());
}

void Replica::schedule_decodes(Batch& b, std::vector<SeqId>& cand, int64_t cap) {
  size_t end = cand.size();
  for (size_t i = 0; i < end; ++i) {
    const SeqId s = cand[i];
    Seq& q = sim_.seq(s);
    if (q.preempted_now || q.prefilled < q.prompt) continue;
    if (static_cast<int64_t>(b.members.size()) >= cap) break;
    if (blocks_for(q.kv + 1, o_.block_size) > q.blocks) {
      bool self = false;
      while (!kv_.can_allocate(1)) {
        // The latest-arrived idle running request not yet scheduled is the victim (vLLM).
        while (end > i + 1 && sim_.seq(cand[end - 1]).preempted_now) --end;
        if (end > i + 1) {
          preempt(cand[--end]);
        } else {
          preempt(s);
          self = true;
          break;
        }
      }
      if (self) break;
      kv_.allocate(1);
      ++q.blocks;
    }
    add_decode(b, s);
  }
}

bool Replica::admit_incoming() {
  bool any = false;
  while (!incoming_.empty() && static_cast<int64_t>(running_.size()) < o_.max_num_seqs) {
    const SeqId s = incoming_.front();
    Seq& q = sim_.seq(s);
    const int64_t need = blocks_for(q.kv + 1, o_.block_size);
    if (!kv_.can_admit(need)) break;
    kv_.allocate(need);
    q.blocks = need;
    incoming_.pop_front();
    insert_running(s);
    ++idle_running_;
    any = true;
  }
  return any;
}

void Replica::form_vllm(Batch& b, Time now) {
  const int64_t cap = std::max<int64_t>(1, o_.max_num_seqs / pp_);
  if (role_ == Role::kDecode) admit_incoming();
  if (swapped_.empty()) {
    int64_t tokens = 0;
    const int64_t limit =
        role_ == Role::kColocated ? std::min(o_.max_model_len, o_.max_batched_tokens) : o_.max_model_len;
    while (!queue_->empty()) {
      const SeqId s = queue_->peek();
      Seq& q = sim_.seq(s);
      if (q.generated == 0 && q.prompt > limit) {
        // vLLM ignores prompts beyond min(max_model_len, max_num_batched_tokens).
        queue_->pop();
        sim_.waiting_changed(sim_.req(s).client, -1, now);
        q.finished = true;
        ++sim_.result().ignored;
        --outstanding_;
        continue;
      }
      if (ignore_if_unservable(s)) continue;
      if (static_cast<int64_t>(running_.size()) >= o_.max_num_seqs ||
          static_cast<int64_t>(b.members.size()) >= cap)
        break;
      if (!b.members.empty() && tokens + q.prompt > o_.max_batched_tokens) break;
      const int64_t need = blocks_for(q.prompt, o_.block_size);
      if (!kv_.can_admit(need)) break;
      queue_->pop();
      sim_.waiting_changed(sim_.req(s).client, -1, now);
      queue_->charge_admission(sim_.req(s).client, q.prompt);
      kv_.allocate(need);
      q.blocks = need;
      insert_running(s);
      ++idle_running_;
      tokens += q.prompt;
      add_prefill(b, s, q.prompt);
    }
    if (!b.members.empty()) return;
  }
  if (role_ == Role::kPrefill) return;
  scratch_.clear();
  for (SeqId s : running_) {
    if (!sim_.seq(s).in_flight) scratch_.push_back(s);
  }
  const int64_t before = sim_.result().preemptions;
  schedule_decodes(b, scratch_, cap);
  if (sim_.result().preemptions == before) {
    while (!swapped_.empty() && static_cast<int64_t>(b.members.size()) < cap) {
      const SeqId s = swapped_.front();
      Seq& q = sim_.seq(s);
      const int64_t need = blocks_for(q.kv + 1, o_.block_size);
      if (!kv_.can_admit(need)) break;
      swapped_.pop_front();
      cpu_.release(q.blocks);
      swap_cost_ += (o_.block_bytes * q.blocks) / o_.swap_bandwidth;
      kv_.allocate(need);
      q.blocks = need;
      q.preempted_now = false;
      insert_running(s);
      ++idle_running_;
      add_decode(b, s);
    }
  }
}

void Replica::form_sarathi(Batch& b, Time now) {
  const int64_t cap = std::max<int64_t>(1, o_.max_num_seqs / pp_);
  scratch_.clear();
  for (SeqId s : running_) {
    if (!sim_.seq(s).in_flight) scratch_.push_back(s);
  }
  // Pass 1: every running decode (stall-free), preempting from the tail when blocks run out.
  schedule_decodes(b, scratch_, cap);
  int64_t tokens = static_cast<int64_t>(b.members.size());
  // Pass 2: partial prefills continue, chunked to the budget left.
  for (SeqId s : scratch_) {
    Seq& q = sim_.seq(s);
    if (q.preempted_now || q.prefilled >= q.prompt) continue;
    if (static_cast<int64_t>(b.members.size()) >= cap) break;
    const int64_t chunk = std::min(q.prompt - q.prefilled, o_.token_budget - tokens);
    if (chunk <= 0) continue;
    add_prefill(b, s, chunk);
    tokens += chunk;
  }
  // Pass 3: new requests, FCFS, whole prompt's blocks reserved up front.
  while (tokens < o_.token_budget && !queue_->empty()) {
    const SeqId s = queue_->peek();
    Seq& q = sim_.seq(s);
    if (ignore_if_unservable(s)) continue;
    if (static_cast<int64_t>(running_.size()) >= o_.max_num_seqs ||
        static_cast<int64_t>(b.members.size()) >= cap)
      break;
    const int64_t need = blocks_for(q.prompt, o_.block_size);
    if (!kv_.can_admit(need)) break;
    queue_->pop();
    sim_.waiting_changed(sim_.req(s).client, -1, now);
    queue_->charge_admission(sim_.req(s).client, q.prompt);
    kv_.allocate(need);
    q.blocks = need;
    insert_running(s);
    ++idle_running_;
    const int64_t chunk = std::min(q.prompt, o_.token_budget - tokens);
    add_prefill(b, s, chunk);
    tokens += chunk;
  }
}

void Replica::form_orca(Batch& b, Time now) {
  for (SeqId s : running_) {
    Seq& q = sim_.seq(s);
    if (q.in_flight) continue;
    // Orca reserved the request's whole length at admission: no allocation, no preemption.
    if (blocks_for(q.kv + 1, o_.block_size) > q.blocks && kv_.can_allocate(1)) {
      kv_.allocate(1);
      ++q.blocks;
    }
    add_decode(b, s);
  }
  while (static_cast<int64_t>(running_.size()) < o_.max_num_seqs) {
    const std::optional<SeqId> s = admit_reserving_whole(now);
    if (!s) break;
    insert_running(*s);
    ++idle_running_;
    add_prefill(b, *s, sim_.seq(*s).prompt);
  }
}

std::optional<SeqId> Replica::admit_reserving_whole(Time now) {
  while (!queue_->empty()) {
    const SeqId s = queue_->peek();
    Seq& q = sim_.seq(s);
    if (ignore_if_unservable(s)) continue;
    const int64_t need =
        blocks_for(std::max(o_.max_model_len, q.prompt + sim_.req(s).output_tokens), o_.block_size);
    if (!kv_.can_allocate(need)) return std::nullopt;
    queue_->pop();
    sim_.waiting_changed(sim_.req(s).client, -1, now);
    queue_->charge_admission(sim_.req(s).client, q.prompt);
    kv_.allocate(need);
    q.blocks = need;
    return s;
  }
  return std::nullopt;
}

void Replica::form_faster_transformer(Batch& b, Time now) {
  bool unfinished = false;
  for (SeqId s : ft_batch_) unfinished = unfinished || !sim_.seq(s).finished;
  if (!unfinished) {
    // The whole static batch is done: its memory is freed and the next one formed.
    for (SeqId s : ft_batch_) {
      kv_.release(sim_.seq(s).blocks);
      sim_.seq(s).blocks = 0;
    }
    ft_batch_.clear();
    while (static_cast<int64_t>(ft_batch_.size()) < o_.max_num_seqs) {
      const std::optional<SeqId> s = admit_reserving_whole(now);
      if (!s) break;
      ft_batch_.push_back(*s);
      insert_running(*s);
      ++idle_running_;
    }
  }
  for (SeqId s : ft_batch_) {
    Seq& q = sim_.seq(s);
    if (q.finished || q.in_flight) continue;
    if (q.prefilled < q.prompt) {
      add_prefill(b, s, q.prompt - q.prefilled);
    } else {
      add_decode(b, s);
    }
  }
}

bool Replica::form_batch(Batch& b, Time now) {
  b.members.clear();
  b.shape = BatchShape{};
  swap_cost_ = Time::zero();
  switch (batching_) {
    case Batching::kVllm:
      form_vllm(b, now);
      break;
    case Batching::kSarathi:
      form_sarathi(b, now);
      break;
    case Batching::kOrca:
      form_orca(b, now);
      break;
    case Batching::kFasterTransformer:
      form_faster_transformer(b, now);
      break;
  }
  for (SeqId s : b.members) {
    Seq& q = sim_.seq(s);
    q.preempted_now = false;
  }
  // Preempted-by-recompute flags stay only for the pass that set them.
  for (SeqId s : scratch_) sim_.seq(s).preempted_now = false;
  return !b.members.empty();
}

void Replica::on_wake(sim::Engine& engine) {
  const Time now = engine.now();
  while (!in_flight_.empty() && in_flight_.front().end <= now) {
    complete(in_flight_.front());
    spare_.push_back(std::move(in_flight_.front()));
    in_flight_.pop_front();
  }
  while (static_cast<int64_t>(in_flight_.size()) < pp_ && stage_free_[0] <= now && has_work()) {
    Batch b;
    if (!spare_.empty()) {
      b = std::move(spare_.back());
      spare_.pop_back();
    }
    if (!form_batch(b, now)) {
      spare_.push_back(std::move(b));
      break;
    }
    const Time t = time_.stage_time(b.shape) + swap_cost_;
    Time at = now;
    for (Time& free : stage_free_) {
      at = std::max(at, free);
      free = at + t;
      at = free;
    }
    b.start = now;
    b.end = at;
    stats.busy += t;
    ++stats.iterations;
    ++sim_.result().iterations;
    stats.peak_blocks = std::max(stats.peak_blocks, kv_.used());
    for (SeqId s : b.members) {
      Seq& q = sim_.seq(s);
      q.in_flight = true;
      --idle_running_;
      if (!q.started) {
        q.started = true;
        sim_.result().metrics.on_scheduled(sim_.req(s), now);
      }
    }
    sim_.record({.instance = index_,
                 .start = now,
                 .end = b.end,
                 .prefill_requests = static_cast<int32_t>(b.shape.prefill_requests),
                 .prefill_tokens = static_cast<int32_t>(b.shape.prefill_tokens),
                 .decode_requests = static_cast<int32_t>(b.shape.decode_requests)});
    in_flight_.push_back(std::move(b));
  }
  Time next = Time::max();
  if (!in_flight_.empty()) next = in_flight_.front().end;
  if (static_cast<int64_t>(in_flight_.size()) < pp_ && stage_free_[0] > now && has_work()) {
    next = std::min(next, stage_free_[0]);
  }
  if (next != Time::max()) engine.wake_at(*this, next);
}

void Replica::complete(Batch& b) {
  const Time now = sim_.engine().now();
  const SchedulerOptions& o = o_;
  for (SeqId s : b.members) {
    Seq& q = sim_.seq(s);
    const Request& r = sim_.req(s);
    q.in_flight = false;
    ++idle_running_;
    bool token = false;
    if (q.decode_step) {
      q.kv += 1;
      token = true;
      if (sim_.track_clients()) sim_.service(r.client, o.w_out, now);
      queue_->charge_output(r.client, 1);
    } else {
      q.prefilled += q.chunk;
      q.kv += q.chunk;
      if (sim_.track_clients()) sim_.service(r.client, o.w_in * static_cast<double>(q.chunk), now);
      token = q.prefilled == q.prompt;
      if (token) queue_->charge_output(r.client, 1);
    }
    q.chunk = 0;
    if (!token) continue;
    ++q.generated;
    sim_.result().metrics.on_token(r, now);
    if (q.generated >= r.output_tokens) {
      q.finished = true;
      drop_running(s);
      --idle_running_;
      if (batching_ != Batching::kFasterTransformer) {
        kv_.release(q.blocks);
        q.blocks = 0;
      }
      --outstanding_;
      sim_.on_finish(index_, s, now);
    } else if (role_ == Role::kPrefill) {
      // The prefill instance's part is done: the KV cache moves to a decode instance; the blocks
      // stay held until the transfer ends.
      drop_running(s);
      --idle_running_;
      --outstanding_;
      sim_.on_prefill_done(index_, s, now);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// KV link, arrivals, simulator

void KvLink::send(sim::Engine& engine, SeqId s, int32_t from, Time duration) {
  free_ = std::max(free_, engine.now()) + duration;
  q_.push_back({s, from, free_});
  if (q_.size() == 1) engine.wake_at(*this, free_);
}

void KvLink::on_wake(sim::Engine& engine) {
  while (!q_.empty() && q_.front().end <= engine.now()) {
    const Transfer t = q_.front();
    q_.pop_front();
    sim_.on_transfer_done(t.from, t.seq);
  }
  if (!q_.empty()) engine.wake_at(*this, q_.front().end);
}

void Arrivals::on_wake(sim::Engine& engine) {
  const auto& reqs = sim_.w_.requests;
  while (next_ < reqs.size() && reqs[next_].arrival <= engine.now()) {
    sim_.on_arrival(static_cast<SeqId>(next_), engine.now());
    ++next_;
  }
  if (next_ < reqs.size()) engine.wake_at(*this, reqs[next_].arrival);
}

std::unique_ptr<AdmissionQueue> Simulator::make_queue() const {
  const SchedulerOptions& o = c_.options;
  switch (c_.scheduler) {
    case SchedulerKind::kVtc:
      return std::make_unique<VirtualTokenCounter>(true, o.w_in, o.w_out, o.client_weights);
    case SchedulerKind::kLcf:
      return std::make_unique<VirtualTokenCounter>(false, o.w_in, o.w_out, o.client_weights);
    case SchedulerKind::kRpm:
      return std::make_unique<RpmQueue>(o.rpm_limit);
    default:
      return std::make_unique<FcfsQueue>();
  }
}

Status Simulator::build() {
  const SchedulerOptions& o = c_.options;
  for (const auto& [value, field] :
       {std::pair{o.max_num_seqs, "max_num_seqs"}, std::pair{o.max_batched_tokens, "max_batched_tokens"},
        std::pair{o.token_budget, "token_budget"}, std::pair{o.block_size, "block_size"},
        std::pair{o.max_model_len, "max_model_len"}, std::pair{o.rpm_limit, "rpm_limit"}}) {
    if (value < 1)
      return invalid_input(std::string(field) + " must be >= 1 (got " + std::to_string(value) + ")");
  }
  if (o.swap && o.swap_blocks > 0 && !(o.block_bytes > Bytes())) {
    return invalid_input("swap needs the block size in bytes to time the copies");
  }
  if (c_.scheduler == SchedulerKind::kDistServe) {
    const DistServeConfig& d = c_.distserve;
    if (d.prefill_instances < 1 || d.decode_instances < 1)
      return invalid_input("DistServe needs >= 1 prefill and >= 1 decode instance");
    if (!d.prefill_time || !d.decode_time)
      return invalid_input("DistServe needs prefill and decode time models");
    if (d.prefill_blocks < 1 || d.decode_blocks < 1)
      return invalid_input("DistServe instances need KV blocks");
    if (!(d.kv_link > Bandwidth())) return invalid_input("DistServe KV link bandwidth must be positive");
    for (int64_t i = 0; i < d.prefill_instances; ++i) {
      replicas_.push_back(std::make_unique<Replica>(
          *this, static_cast<int32_t>(i), "prefill " + std::to_string(i), Role::kPrefill, Batching::kVllm,
          std::make_unique<FcfsQueue>(), *d.prefill_time, d.prefill_blocks, o));
      links_.push_back(std::make_unique<KvLink>(*this, "kv link " + std::to_string(i)));
    }
    for (int64_t i = 0; i < d.decode_instances; ++i) {
      decoders_.push_back(std::make_unique<Replica>(
          *this, static_cast<int32_t>(d.prefill_instances + i), "decode " + std::to_string(i), Role::kDecode,
          Batching::kVllm, std::make_unique<FcfsQueue>(), *d.decode_time, d.decode_blocks, o));
    }
    decode_of_.assign(w_.requests.size(), -1);
  } else {
    if (c_.replicas < 1) return invalid_input("replicas must be >= 1", {}, {"--replicas"});
    if (!c_.time) return invalid_input("no batch-time model");
    if (c_.num_blocks < 1)
      return invalid_input("no KV blocks", "the model leaves no memory for the KV cache");
    Batching batching = Batching::kVllm;
    if (c_.scheduler == SchedulerKind::kSarathi) batching = Batching::kSarathi;
    if (c_.scheduler == SchedulerKind::kOrca) batching = Batching::kOrca;
    if (c_.scheduler == SchedulerKind::kFasterTransformer) batching = Batching::kFasterTransformer;
    for (int64_t i = 0; i < c_.replicas; ++i) {
      replicas_.push_back(std::make_unique<Replica>(*this, static_cast<int32_t>(i),
                                                    "replica " + std::to_string(i), Role::kColocated,
                                                    batching, make_queue(), *c_.time, c_.num_blocks, o));
    }
  }
  engine_.add(arrivals_);
  for (auto& r : replicas_) engine_.add(*r);
  for (auto& r : decoders_) engine_.add(*r);
  for (auto& l : links_) engine_.add(*l);
  return ok_status();
}

int32_t Simulator::route(const std::vector<std::unique_ptr<Replica>>& pool, int64_t& rr) const {
  if (c_.router == RouterKind::kRoundRobin && c_.scheduler != SchedulerKind::kDistServe) {
    return static_cast<int32_t>(rr++ % static_cast<int64_t>(pool.size()));
  }
  // Least outstanding (DistServe's dispatcher always does this): ties to the lowest index.
  int32_t best = 0;
  for (size_t i = 1; i < pool.size(); ++i) {
    if (pool[i]->outstanding() < pool[static_cast<size_t>(best)]->outstanding())
      best = static_cast<int32_t>(i);
  }
  return best;
}

void Simulator::on_arrival(SeqId s, Time now) {
  r_.metrics.on_arrival(req(s));
  replicas_[static_cast<size_t>(route(replicas_, rr_))]->admit_new(s, now);
}

void Simulator::waiting_changed(int64_t client, int delta, Time now) {
  if (!track_clients_) return;
  if (static_cast<size_t>(client) >= waiting_per_client_.size())
    waiting_per_client_.resize(static_cast<size_t>(client) + 1, 0);
  int64_t& n = waiting_per_client_[static_cast<size_t>(client)];
  const bool before = n > 0;
  n += delta;
  const bool after = n > 0;
  if (before != after) {
    r_.metrics.set_backlogged(client, after, now);
    if (c_.observer != nullptr) c_.observer->on_backlog(client, after, now);
  }
}

void Simulator::on_prefill_done(int32_t from, SeqId s, Time now) {
  const int32_t to = route(decoders_, rr_decode_);
  decode_of_[static_cast<size_t>(s)] = to;
  ++r_.kv_transfers;
  const Time t =
      (c_.distserve.kv_bytes_per_token * seq(s).kv) / c_.distserve.kv_link + c_.distserve.kv_link_latency;
  r_.kv_transfer_time += t;
  decoders_[static_cast<size_t>(to)]->reserve();
  links_[static_cast<size_t>(from)]->send(engine_, s, from, t);
  (void)now;
}

void Simulator::on_transfer_done(int32_t from, SeqId s) {
  Seq& q = seq(s);
  replicas_[static_cast<size_t>(from)]->release_blocks(q.blocks);
  q.blocks = 0;
  replicas_[static_cast<size_t>(from)]->poke(engine_);
  decoders_[static_cast<size_t>(decode_of_[static_cast<size_t>(s)])]->admit_prefilled(s);
}

void Simulator::on_finish(int32_t, SeqId s, Time now) {
  ++r_.finished;
  r_.metrics.on_finish(req(s), now);
}

Status Simulator::run() {
  r_.requests = static_cast<int64_t>(w_.requests.size());
  if (!w_.requests.empty()) engine_.wake_at(arrivals_, w_.requests.front().arrival);
  MLSYS_ASSIGN_OR_RETURN(sim::RunSummary s, engine_.run());
  r_.events = s.events_processed;
  r_.end_time = s.end_time;
  for (auto& r : replicas_) {
    r->stats.name = r->name();
    r_.instances.push_back(r->stats);
  }
  for (auto& r : decoders_) {
    r->stats.name = r->name();
    r_.instances.push_back(r->stats);
  }
  return ok_status();
}

}  // namespace

Result<SimResult> simulate(const Workload& workload, const SimConfig& config) {
  const auto start = std::chrono::steady_clock::now();
  SimResult result{.metrics = MetricsCollector(config.metrics)};
  {
    Simulator sim(workload, config, result);
    MLSYS_RETURN_IF_ERROR(sim.build());
    MLSYS_RETURN_IF_ERROR(sim.run());
  }
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace mlsys::serve
