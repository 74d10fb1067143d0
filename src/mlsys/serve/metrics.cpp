#include "mlsys/serve/metrics.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "mlsys/core/check.h"

namespace mlsys::serve {
namespace {

// Values below this are counted as zero: they are far below a nanosecond, the smallest gap a
// Time can hold, and keeping them out stops a denormal from spanning thousands of buckets.
constexpr double kSketchMinPositive = 1e-12;

// 1-based nearest rank of quantile q among n values. The epsilon keeps 0.99 * 100 at rank 99
// although 0.99 is stored slightly below its decimal value.
int64_t nearest_rank(double q, int64_t n) {
  const auto r = static_cast<int64_t>(std::ceil(q * static_cast<double>(n) - 1e-9));
  return std::clamp<int64_t>(r, 1, n);
}

}  // namespace

Percentiles percentiles(std::vector<double> values) {
  Percentiles p;
  if (values.empty()) return p;
  std::sort(values.begin(), values.end());
  const auto n = static_cast<int64_t>(values.size());
  double sum = 0;
  for (double v : values) sum += v;
  p.mean = sum / static_cast<double>(n);
  auto at = [&](double q) { return values[static_cast<size_t>(nearest_rank(q, n) - 1)]; };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.max = values.back();
  return p;
}

bool meets_sarathi_slo(const Summary& summary, const Slo& slo) {
  if (slo.tbt_p99 && summary.tbt.p99 > slo.tbt_p99->seconds()) return false;
  return summary.scheduling_delay.p50 <= slo.max_median_scheduling_delay.seconds();
}

bool meets_distserve_slo(const Summary& summary, double target) {
  return summary.requests > 0 && summary.slo_attainment >= target;
}

// ---------------------------------------------------------------------------------------------
// DDSketch

DDSketch::DDSketch(double relative_accuracy) : alpha_(relative_accuracy) {
  MLSYS_CHECK(relative_accuracy > 0 && relative_accuracy < 1);
  gamma_ = (1 + alpha_) / (1 - alpha_);
  log_gamma_ = std::log(gamma_);
  inv_log_gamma_ = 1 / log_gamma_;
}

void DDSketch::add(double value) {
  MLSYS_CHECK(value >= 0 && std::isfinite(value));
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  ++count_;
  sum_ += value;
  if (value < kSketchMinPositive) {
    ++zeros_;
    return;
  }
  // Simulated gaps repeat (every request in a batch sees the same iteration time), so the last
  // value's bucket saves the logarithm most of the time.
  if (value != last_value_) {
    last_value_ = value;
    // ceil by hand: without SSE4.1, std::ceil is a library call on this path.
    const double x = std::log(value) * inv_log_gamma_;
    last_index_ = static_cast<int64_t>(x);
    if (static_cast<double>(last_index_) < x) ++last_index_;
  }
  const int64_t k = last_index_;
  if (counts_.empty()) {
    offset_ = k;
    counts_.push_back(0);
  } else if (k < offset_) {
    counts_.insert(counts_.begin(), static_cast<size_t>(offset_ - k), 0);
    offset_ = k;
  } else if (k >= offset_ + static_cast<int64_t>(counts_.size())) {
    counts_.resize(static_cast<size_t>(k - offset_ + 1), 0);
  }
  ++counts_[static_cast<size_t>(k - offset_)];
}

double DDSketch::quantile(double q) const {
  if (count_ == 0) return 0;
  if (q <= 0) return min_;
  if (q >= 1) return max_;
  const int64_t rank = nearest_rank(q, count_);
  if (rank <= zeros_) return 0;
  int64_t seen = zeros_;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const double k = static_cast<double>(offset_ + static_cast<int64_t>(i));
      const double mid = 2 * std::exp(k * log_gamma_) / (gamma_ + 1);
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

Percentiles DDSketch::percentiles() const {
  Percentiles p;
  if (count_ == 0) return p;
  p.mean = sum_ / static_cast<double>(count_);
  p.p50 = quantile(0.50);
  p.p90 = quantile(0.90);
  p.p99 = quantile(0.99);
  p.max = max_;
  return p;
}

// ---------------------------------------------------------------------------------------------
// MetricsCollector

struct MetricsCollector::Impl {
  enum class State : uint8_t { kUnseen, kActive, kFinished };
  // One slot per request id (ids are dense, 0..n-1 in a Workload): a vector index on the
  // per-token path instead of a hash lookup. ~90 bytes, so 1M requests cost about 90 MB.
  struct Slot {
    Time arrival, scheduled = Time::max(), first_token, last_token, finish;  // scheduled max: not yet
    int64_t client = 0, prompt_tokens = 0, output_tokens = 0, tokens = 0;
    int32_t preemptions = 0;
    State state = State::kUnseen;
  };
  // Service difference of one pair of clients (a > b) since both became backlogged:
  // d = S_a - S_b over that period, with its running minimum and maximum.
  struct PairState {
    double d = 0, lo = 0, hi = 0;
  };

  MetricsOptions options;
  std::vector<Slot> slots;
  std::vector<int64_t> finish_order;             // ids in the order they finished
  std::vector<std::vector<Time>> token_times;    // by id, with keep_token_times
  int64_t active = 0;
  DDSketch tbt;
  int64_t preemptions = 0;
  Time first_arrival = Time::max();
  Time last_finish = Time::zero();

  std::vector<double> service;
  std::vector<char> backlogged;
  std::vector<int64_t> backlogged_list;
  std::vector<std::vector<PairState>> pairs;  // pairs[a][b] for b < a
  double max_service_difference = 0;
  std::vector<ServiceSample> series;
  Time next_sample = Time::zero();

  // Samples taken at boundaries up to `now` hold the service before the event at `now`.
  void sample_until(Time now) {
    const Time interval = options.service_sample_interval;
    if (interval <= Time::zero()) return;
    while (next_sample <= now) {
      series.push_back({next_sample, service});
      next_sample += interval;
    }
  }

  Slot& get(const Request& r) {
    MLSYS_CHECK(r.id >= 0 && r.id < (int64_t{1} << 34));
    const auto i = static_cast<size_t>(r.id);
    if (i >= slots.size()) slots.resize(std::max(i + 1, slots.size() * 3 / 2));
    Slot& s = slots[i];
    if (s.state == State::kUnseen) {
      s.state = State::kActive;
      s.arrival = r.arrival;
      s.client = r.client;
      s.prompt_tokens = r.prompt_tokens;
      s.output_tokens = r.output_tokens;
      ++active;
      first_arrival = std::min(first_arrival, r.arrival);
    }
    MLSYS_CHECK(s.state == State::kActive);  // no callbacks after on_finish
    return s;
  }

  void ensure_client(int64_t client) {
    MLSYS_CHECK(client >= 0);
    const auto n = static_cast<size_t>(client) + 1;
    if (service.size() >= n) return;
    service.resize(n, 0.0);
    backlogged.resize(n, 0);
    while (pairs.size() < n) pairs.emplace_back(pairs.size());
  }

  PairState& pair(int64_t a, int64_t b) {
    return a > b ? pairs[static_cast<size_t>(a)][static_cast<size_t>(b)]
                 : pairs[static_cast<size_t>(b)][static_cast<size_t>(a)];
  }
};

MetricsCollector::MetricsCollector(MetricsOptions options) : impl_(std::make_shared<Impl>()) {
  MLSYS_CHECK(options.w_in >= 0 && options.w_out >= 0);
  impl_->options = options;
}

void MetricsCollector::on_arrival(const Request& request) { impl_->get(request); }

void MetricsCollector::on_scheduled(const Request& request, Time now) {
  Impl::Slot& a = impl_->get(request);
  if (a.scheduled == Time::max()) {
    MLSYS_CHECK(now >= a.arrival);
    a.scheduled = now;
  }
}

void MetricsCollector::on_token(const Request& request, Time now) {
  Impl& m = *impl_;
  Impl::Slot& a = m.get(request);
  if (a.tokens == 0) {
    MLSYS_CHECK(now >= a.arrival);
    a.first_token = now;
  } else {
    MLSYS_CHECK(now >= a.last_token);
    m.tbt.add((now - a.last_token).seconds());
  }
  a.last_token = now;
  ++a.tokens;
  if (m.options.keep_token_times) {
    const auto i = static_cast<size_t>(request.id);
    if (i >= m.token_times.size()) m.token_times.resize(m.slots.size());
    m.token_times[i].push_back(now);
  }
}

void MetricsCollector::on_finish(const Request& request, Time now) {
  Impl& m = *impl_;
  Impl::Slot& a = m.get(request);
  MLSYS_CHECK(now >= a.arrival);
  if (a.scheduled == Time::max()) a.scheduled = a.arrival;
  if (a.tokens == 0) a.first_token = a.last_token = now;  // finish stands in for the first token
  a.finish = now;
  a.state = Impl::State::kFinished;
  --m.active;
  m.finish_order.push_back(request.id);
  m.last_finish = std::max(m.last_finish, now);
}

void MetricsCollector::on_preemption(const Request& request) {
  ++impl_->get(request).preemptions;
  ++impl_->preemptions;
}

void MetricsCollector::on_service(int64_t client, double weighted_tokens, Time now) {
  Impl& m = *impl_;
  MLSYS_CHECK(weighted_tokens >= 0 && std::isfinite(weighted_tokens));
  m.ensure_client(client);
  m.sample_until(now);
  m.service[static_cast<size_t>(client)] += weighted_tokens;
  if (!m.backlogged[static_cast<size_t>(client)]) return;
  for (int64_t other : m.backlogged_list) {
    if (other == client) continue;
    Impl::PairState& p = m.pair(client, other);
    p.d += client > other ? weighted_tokens : -weighted_tokens;
    p.lo = std::min(p.lo, p.d);
    p.hi = std::max(p.hi, p.d);
    m.max_service_difference = std::max({m.max_service_difference, p.d - p.lo, p.hi - p.d});
  }
}

void MetricsCollector::set_backlogged(int64_t client, bool backlogged, Time now) {
  Impl& m = *impl_;
  m.ensure_client(client);
  m.sample_until(now);
  char& flag = m.backlogged[static_cast<size_t>(client)];
  if (static_cast<bool>(flag) == backlogged) return;
  flag = backlogged ? 1 : 0;
  if (backlogged) {
    for (int64_t other : m.backlogged_list) m.pair(client, other) = Impl::PairState{};
    m.backlogged_list.push_back(client);
  } else {
    auto it = std::find(m.backlogged_list.begin(), m.backlogged_list.end(), client);
    *it = m.backlogged_list.back();
    m.backlogged_list.pop_back();
  }
}

double MetricsCollector::input_service(int64_t tokens) const {
  return impl_->options.w_in * static_cast<double>(tokens);
}

double MetricsCollector::output_service(int64_t tokens) const {
  return impl_->options.w_out * static_cast<double>(tokens);
}

Summary MetricsCollector::summary(const Slo& slo) const {
  const Impl& m = *impl_;
  Summary s;
  s.requests = static_cast<int64_t>(m.finish_order.size());
  s.unfinished = m.active;
  s.preemptions = m.preemptions;
  s.max_service_difference = m.max_service_difference;
  s.client_service = m.service;
  s.tbt = m.tbt.percentiles();
  if (m.finish_order.empty()) return s;

  std::vector<double> ttft, tpot, e2e, normalized, delay;
  ttft.reserve(m.finish_order.size());
  e2e.reserve(m.finish_order.size());
  normalized.reserve(m.finish_order.size());
  delay.reserve(m.finish_order.size());
  int64_t output_tokens = 0, good = 0;
  for (int64_t id : m.finish_order) {
    const Impl::Slot& r = m.slots[static_cast<size_t>(id)];
    // Normalized latency and token throughput count the tokens reported (the request's own
    // output length when it reported none).
    const int64_t out_tokens = r.tokens > 0 ? r.tokens : r.output_tokens;
    const Time t_first = r.first_token - r.arrival;
    const Time t_e2e = r.finish - r.arrival;
    ttft.push_back(t_first.seconds());
    e2e.push_back(t_e2e.seconds());
    normalized.push_back(t_e2e.seconds() / static_cast<double>(out_tokens));
    delay.push_back((r.scheduled - r.arrival).seconds());
    output_tokens += out_tokens;
    bool ok = !slo.ttft || t_first <= *slo.ttft;
    if (r.tokens >= 2) {
      // Mean time per output token after the first (DistServe's TPOT).
      const double tpot_ns =
          static_cast<double>((r.last_token - r.first_token).ns()) / static_cast<double>(r.tokens - 1);
      tpot.push_back(tpot_ns * 1e-9);
      if (slo.tpot && tpot_ns > static_cast<double>(slo.tpot->ns())) ok = false;
    }
    if (ok) ++good;
  }
  s.ttft = percentiles(std::move(ttft));
  s.tpot = percentiles(std::move(tpot));
  s.e2e = percentiles(std::move(e2e));
  s.normalized_e2e = percentiles(std::move(normalized));
  s.scheduling_delay = percentiles(std::move(delay));
  s.duration_s = (m.last_finish - m.first_arrival).seconds();
  s.slo_attainment = static_cast<double>(good) / static_cast<double>(s.requests);
  if (s.duration_s > 0) {
    s.throughput_rps = static_cast<double>(s.requests) / s.duration_s;
    s.output_tokens_per_s = static_cast<double>(output_tokens) / s.duration_s;
    s.goodput_rps = static_cast<double>(good) / s.duration_s;
  }
  return s;
}

const std::vector<ServiceSample>& MetricsCollector::service_series() const { return impl_->series; }

std::vector<RequestRecord> MetricsCollector::records() const {
  const Impl& m = *impl_;
  std::vector<RequestRecord> out;
  out.reserve(m.finish_order.size());
  for (int64_t id : m.finish_order) {
    const Impl::Slot& f = m.slots[static_cast<size_t>(id)];
    RequestRecord r;
    r.id = id;
    r.client = f.client;
    r.prompt_tokens = f.prompt_tokens;
    r.output_tokens = f.tokens > 0 ? f.tokens : f.output_tokens;
    r.arrival = f.arrival;
    r.scheduled = f.scheduled;
    r.first_token = f.first_token;
    r.finish = f.finish;
    r.preemptions = f.preemptions;
    if (static_cast<size_t>(id) < m.token_times.size()) r.token_times = m.token_times[static_cast<size_t>(id)];
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace mlsys::serve
