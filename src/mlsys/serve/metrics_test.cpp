#include "mlsys/serve/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "mlsys/core/rng.h"

namespace mlsys::serve {
namespace {

TEST(Percentiles, NearestRankOnOneToHundred) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  const Percentiles p = percentiles(v);
  EXPECT_DOUBLE_EQ(p.mean, 50.5);
  EXPECT_DOUBLE_EQ(p.p50, 50);
  EXPECT_DOUBLE_EQ(p.p90, 90);
  EXPECT_DOUBLE_EQ(p.p99, 99);
  EXPECT_DOUBLE_EQ(p.max, 100);
}

TEST(Percentiles, NearestRankRoundsUpOnSmallSamples) {
  const Percentiles p = percentiles({3, 1, 2, 4, 5, 6, 7, 8, 9, 10});
  EXPECT_DOUBLE_EQ(p.p50, 5);
  EXPECT_DOUBLE_EQ(p.p90, 9);
  EXPECT_DOUBLE_EQ(p.p99, 10);
  const Percentiles one = percentiles({4.5});
  EXPECT_DOUBLE_EQ(one.p50, 4.5);
  EXPECT_DOUBLE_EQ(one.p99, 4.5);
}

TEST(Percentiles, EmptyIsAllZero) {
  const Percentiles p = percentiles({});
  EXPECT_EQ(p.mean, 0);
  EXPECT_EQ(p.p99, 0);
  EXPECT_EQ(p.max, 0);
}

TEST(DDSketch, QuantilesWithinRelativeAccuracyOfExactNearestRank) {
  DDSketch sketch(0.005);
  std::vector<double> values;
  RngStream rng(42, "test/ddsketch");
  for (int i = 0; i < 100'000; ++i) {
    const double v = rng.lognormal(std::log(0.05), 1.5);  // seconds, spanning ~5 decades
    sketch.add(v);
    values.push_back(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999}) {
    const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size()) - 1e-9));
    const double exact = values[rank - 1];
    EXPECT_LE(std::abs(sketch.quantile(q) - exact), 0.005 * exact + 1e-15) << "q=" << q;
  }
  EXPECT_EQ(sketch.quantile(1.0), values.back());
  EXPECT_EQ(sketch.quantile(0.0), values.front());
}

TEST(DDSketch, ZerosAreExact) {
  DDSketch sketch;
  for (int i = 0; i < 60; ++i) sketch.add(0.0);
  for (int i = 0; i < 40; ++i) sketch.add(1.0);
  EXPECT_EQ(sketch.quantile(0.5), 0.0);
  EXPECT_EQ(sketch.quantile(0.6), 0.0);
  EXPECT_NEAR(sketch.quantile(0.61), 1.0, 0.005);
  EXPECT_EQ(sketch.count(), 100);
  EXPECT_DOUBLE_EQ(sketch.percentiles().mean, 0.4);
}

TEST(DDSketch, EmptyIsZero) {
  DDSketch sketch;
  EXPECT_EQ(sketch.quantile(0.5), 0.0);
  EXPECT_EQ(sketch.percentiles().p99, 0.0);
}

// Two requests by hand:
//   r0: arrives 0, scheduled 1 s, tokens at 2, 3, 4 s, finishes at 4 s.
//   r1: arrives 1 s, scheduled 1 s, tokens at 1.5, 1.6 s, finishes at 1.6 s.
MetricsCollector two_requests(MetricsOptions options = {}) {
  MetricsCollector m(options);
  const Request r0{.id = 0, .arrival = sec(0), .prompt_tokens = 100, .output_tokens = 3, .client = 0};
  const Request r1{.id = 1, .arrival = sec(1), .prompt_tokens = 10, .output_tokens = 2, .client = 1};
  m.on_arrival(r0);
  m.on_arrival(r1);
  m.on_scheduled(r0, sec(1));
  m.on_scheduled(r1, sec(1));
  m.on_token(r1, sec(1.5));
  m.on_token(r1, sec(1.6));
  m.on_finish(r1, sec(1.6));
  m.on_token(r0, sec(2));
  m.on_preemption(r0);
  m.on_scheduled(r0, sec(2.5));  // rescheduled after the preemption: not a new delay
  m.on_token(r0, sec(3));
  m.on_token(r0, sec(4));
  m.on_finish(r0, sec(4));
  return m;
}

TEST(MetricsCollector, LatenciesOfAHandBuiltExample) {
  const Summary s = two_requests().summary({});
  EXPECT_EQ(s.requests, 2);
  EXPECT_DOUBLE_EQ(s.duration_s, 4.0);
  EXPECT_DOUBLE_EQ(s.throughput_rps, 0.5);
  EXPECT_DOUBLE_EQ(s.output_tokens_per_s, 5.0 / 4.0);
  EXPECT_DOUBLE_EQ(s.ttft.mean, (2.0 + 0.5) / 2);
  EXPECT_DOUBLE_EQ(s.ttft.max, 2.0);
  EXPECT_DOUBLE_EQ(s.ttft.p50, 0.5);
  EXPECT_NEAR(s.tpot.max, 1.0, 1e-12);
  EXPECT_NEAR(s.tpot.p50, 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(s.e2e.max, 4.0);
  EXPECT_NEAR(s.e2e.p50, 0.6, 1e-12);
  EXPECT_NEAR(s.normalized_e2e.max, 4.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(s.scheduling_delay.max, 1.0);
  EXPECT_DOUBLE_EQ(s.scheduling_delay.p50, 0.0);
  EXPECT_EQ(s.preemptions, 1);
  EXPECT_EQ(s.unfinished, 0);
}

TEST(MetricsCollector, TbtCountsEveryGapBetweenTokens) {
  const Summary s = two_requests().summary({});
  // gaps: r1 0.1 s; r0 1 s, 1 s
  EXPECT_NEAR(s.tbt.mean, 2.1 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(s.tbt.max, 1.0);
  EXPECT_NEAR(s.tbt.p50, 1.0, 0.005);
}

TEST(MetricsCollector, SloAttainmentNeedsBothTtftAndTpot) {
  const MetricsCollector m = two_requests();
  // r0: TTFT 2 s, TPOT 1 s; r1: TTFT 0.5 s, TPOT 0.1 s.
  const Summary tight_ttft = m.summary({.ttft = sec(1), .tpot = sec(2)});
  EXPECT_DOUBLE_EQ(tight_ttft.slo_attainment, 0.5);
  EXPECT_DOUBLE_EQ(tight_ttft.goodput_rps, 0.25);
  const Summary tight_tpot = m.summary({.ttft = sec(3), .tpot = ms(500)});
  EXPECT_DOUBLE_EQ(tight_tpot.slo_attainment, 0.5);
  const Summary both_met = m.summary({.ttft = sec(2), .tpot = sec(1)});  // limits inclusive
  EXPECT_DOUBLE_EQ(both_met.slo_attainment, 1.0);
  const Summary none_met = m.summary({.ttft = ms(100)});
  EXPECT_DOUBLE_EQ(none_met.slo_attainment, 0.0);
  EXPECT_DOUBLE_EQ(none_met.goodput_rps, 0.0);
  EXPECT_TRUE(meets_distserve_slo(tight_ttft, 0.5));
  EXPECT_FALSE(meets_distserve_slo(tight_ttft, 0.9));
}

TEST(MetricsCollector, SarathiCapacityConditionChecksP99TbtAndMedianDelay) {
  const Summary s = two_requests().summary({});
  EXPECT_TRUE(meets_sarathi_slo(s, {.tbt_p99 = sec(1.1)}));
  EXPECT_FALSE(meets_sarathi_slo(s, {.tbt_p99 = ms(500)}));
  EXPECT_TRUE(meets_sarathi_slo(s, {.max_median_scheduling_delay = Time::zero()}));  // median delay 0
}

TEST(MetricsCollector, RequestWithoutTokensCountsFinishAsFirstToken) {
  MetricsCollector m;
  const Request r{.id = 3, .arrival = sec(1), .prompt_tokens = 5, .output_tokens = 4};
  m.on_finish(r, sec(3));
  const Summary s = m.summary({.tpot = ms(1)});
  EXPECT_DOUBLE_EQ(s.ttft.max, 2.0);
  EXPECT_DOUBLE_EQ(s.normalized_e2e.max, 0.5);  // e2e / the request's output tokens
  EXPECT_DOUBLE_EQ(s.slo_attainment, 1.0);       // no TPOT to miss
  EXPECT_EQ(s.tpot.max, 0.0);
}

TEST(MetricsCollector, UnfinishedRequestsAreCountedApart) {
  MetricsCollector m;
  m.on_arrival({.id = 0, .arrival = sec(0), .prompt_tokens = 1, .output_tokens = 1});
  m.on_arrival({.id = 1, .arrival = sec(1), .prompt_tokens = 1, .output_tokens = 1});
  m.on_finish({.id = 0, .arrival = sec(0), .prompt_tokens = 1, .output_tokens = 1}, sec(2));
  const Summary s = m.summary({});
  EXPECT_EQ(s.requests, 1);
  EXPECT_EQ(s.unfinished, 1);
}

TEST(MetricsCollector, TokenTimesOnlyWhenAsked) {
  const std::vector<RequestRecord> plain = two_requests().records();
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_TRUE(plain[0].token_times.empty());
  const std::vector<RequestRecord> kept = two_requests({.keep_token_times = true}).records();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].id, 1);  // finishing order
  EXPECT_EQ(kept[0].token_times, (std::vector<Time>{sec(1.5), sec(1.6)}));
  EXPECT_EQ(kept[1].token_times, (std::vector<Time>{sec(2), sec(3), sec(4)}));
  EXPECT_EQ(kept[1].scheduled, sec(1));
  EXPECT_EQ(kept[1].preemptions, 1);
}

TEST(MetricsCollector, TbtPercentilesMatchExactOnManyRequests) {
  MetricsCollector m;
  std::vector<double> gaps;
  RngStream rng(9, "test/tbt");
  for (int64_t id = 0; id < 2000; ++id) {
    const Request r{.id = id, .arrival = sec(static_cast<double>(id)), .prompt_tokens = 1, .output_tokens = 50};
    Time t = r.arrival + ms(100);
    m.on_token(r, t);
    for (int k = 1; k < 50; ++k) {
      const Time gap = us(std::round(rng.uniform(10'000, 200'000)));
      t += gap;
      gaps.push_back(gap.seconds());
      m.on_token(r, t);
    }
    m.on_finish(r, t);
  }
  const Summary s = m.summary({});
  const Percentiles exact = percentiles(gaps);
  EXPECT_NEAR(s.tbt.p99, exact.p99, 0.005 * exact.p99);
  EXPECT_NEAR(s.tbt.p50, exact.p50, 0.005 * exact.p50);
  EXPECT_NEAR(s.tbt.mean, exact.mean, 1e-9);
  EXPECT_DOUBLE_EQ(s.tbt.max, exact.max);
}

// ---------------------------------------------------------------------------------------------
// VTC service difference.

TEST(ServiceDifference, MaxOverIntervalsWhileBothBacklogged) {
  MetricsCollector m;
  m.set_backlogged(0, true, sec(0));
  m.set_backlogged(1, true, sec(0));
  m.on_service(0, 100, sec(1));  // S0 - S1 = 100
  m.on_service(1, 30, sec(2));   // 70
  m.on_service(0, 10, sec(3));   // 80
  m.on_service(1, 100, sec(4));  // -20: over [1 s, 4 s] client 1 got 120 more than client 0
  const Summary s = m.summary({});
  EXPECT_DOUBLE_EQ(s.max_service_difference, 120);
  ASSERT_EQ(s.client_service.size(), 2u);
  EXPECT_DOUBLE_EQ(s.client_service[0], 110);
  EXPECT_DOUBLE_EQ(s.client_service[1], 130);
}

TEST(ServiceDifference, IgnoresServiceWhileTheOtherIsIdle) {
  MetricsCollector m;
  m.set_backlogged(0, true, sec(0));
  m.on_service(0, 500, sec(1));  // client 1 is not backlogged: no unfairness
  m.set_backlogged(1, true, sec(2));
  m.on_service(0, 50, sec(3));
  EXPECT_DOUBLE_EQ(m.summary({}).max_service_difference, 50);
}

TEST(ServiceDifference, AnIdlePeriodStartsANewInterval) {
  MetricsCollector m;
  m.set_backlogged(0, true, sec(0));
  m.set_backlogged(1, true, sec(0));
  m.on_service(0, 100, sec(1));
  m.set_backlogged(1, false, sec(2));
  m.on_service(0, 1000, sec(3));
  m.set_backlogged(1, true, sec(4));
  m.on_service(1, 10, sec(5));
  EXPECT_DOUBLE_EQ(m.summary({}).max_service_difference, 100);
}

TEST(ServiceDifference, ThreeClientsTakeTheWorstPair) {
  MetricsCollector m;
  for (int64_t c : {0, 1, 2}) m.set_backlogged(c, true, sec(0));
  m.on_service(2, 40, sec(1));
  m.on_service(1, 25, sec(1));
  EXPECT_DOUBLE_EQ(m.summary({}).max_service_difference, 40);  // clients 2 and 0
}

TEST(ServiceDifference, SeriesSamplesCumulativeServiceAtEachInterval) {
  MetricsCollector m({.service_sample_interval = sec(1)});
  m.on_service(0, 10, sec(0.5));
  m.on_service(1, 5, sec(1.5));
  m.on_service(0, 1, sec(3.2));
  const std::vector<ServiceSample>& series = m.service_series();
  ASSERT_EQ(series.size(), 4u);
  EXPECT_EQ(series[0].time, sec(0));
  EXPECT_EQ(series[0].service, (std::vector<double>{0}));
  EXPECT_EQ(series[1].service, (std::vector<double>{10, 0}));
  EXPECT_EQ(series[2].service, (std::vector<double>{10, 5}));
  EXPECT_EQ(series[3].time, sec(3));
  EXPECT_EQ(series[3].service, (std::vector<double>{10, 5}));
  EXPECT_TRUE(MetricsCollector().service_series().empty());
}

TEST(ServiceDifference, WeightsFollowTheOptions) {
  const MetricsCollector m({.w_in = 1.0, .w_out = 2.0});
  EXPECT_DOUBLE_EQ(m.input_service(256), 256);
  EXPECT_DOUBLE_EQ(m.output_service(256), 512);
}

}  // namespace
}  // namespace mlsys::serve
