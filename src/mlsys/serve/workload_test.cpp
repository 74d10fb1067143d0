#include "mlsys/serve/workload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <utility>

#include "mlsys/core/file_io.h"

namespace mlsys::serve {
namespace {

using ::testing::HasSubstr;

int64_t sum_prompt(const Workload& w) {
  int64_t s = 0;
  for (const Request& r : w.requests) s += r.prompt_tokens;
  return s;
}

int64_t sum_output(const Workload& w) {
  int64_t s = 0;
  for (const Request& r : w.requests) s += r.output_tokens;
  return s;
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// ---------------------------------------------------------------------------------------------
// Shipped Azure traces (sums computed on the files; shared/data/traces/SOURCES.md).

TEST(AzureTrace, CodeHasAllRowsAndTokenSums) {
  Result<Workload> w = load_workload("azure-code", {});
  ASSERT_TRUE(w) << w.error().to_string();
  ASSERT_EQ(w->requests.size(), 8819u);
  EXPECT_EQ(sum_prompt(*w), 18'059'974);
  EXPECT_EQ(sum_output(*w), 245'896);
  EXPECT_EQ(w->name, "azure-code");
  EXPECT_EQ(w->clients, 1);
  EXPECT_EQ(w->skipped_rows, 0);
}

TEST(AzureTrace, ConvHasAllRowsAndTokenSums) {
  Result<Workload> w = load_workload("azure-conv", {});
  ASSERT_TRUE(w) << w.error().to_string();
  ASSERT_EQ(w->requests.size(), 19'366u);
  EXPECT_EQ(sum_prompt(*w), 22'361'870);
  EXPECT_EQ(sum_output(*w), 4'088'665);
}

TEST(AzureTrace, SevenDigitTimestampsGiveExactRelativeArrivals) {
  Result<Workload> w = load_workload("azure-code", {});
  ASSERT_TRUE(w);
  // 18:17:03.9799600 to 18:17:04.0319600 and to 19:14:19.9280160.
  EXPECT_EQ(w->requests[0].arrival, Time::zero());
  EXPECT_EQ(w->requests[1].arrival.ns(), 52'000'000);
  EXPECT_EQ(w->requests.back().arrival.ns(), 3'435'948'056'000);
}

TEST(AzureTrace, RequestsAreSortedWithIdsInOrder) {
  Result<Workload> w = load_workload("azure-conv", {});
  ASSERT_TRUE(w);
  for (size_t i = 0; i < w->requests.size(); ++i) {
    EXPECT_EQ(w->requests[i].id, static_cast<int64_t>(i));
    if (i > 0) {
      ASSERT_LE(w->requests[i - 1].arrival, w->requests[i].arrival);
    }
  }
}

TEST(WorkloadOptions, WindowKeepsRequestsInsideAndRestartsTheClock) {
  WorkloadOptions o;
  o.start = sec(600);
  o.duration = sec(600);
  Result<Workload> w = load_workload("azure-code", o);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->requests.size(), 2146u);  // counted with Python on the CSV
  EXPECT_GE(w->requests.front().arrival, Time::zero());
  EXPECT_LT(w->requests.back().arrival, sec(600));
}

TEST(WorkloadOptions, RateScaleCompressesArrivals) {
  WorkloadOptions o;
  o.rate_scale = 2.0;
  Result<Workload> w = load_workload("azure-code", o);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->requests.back().arrival.ns(), 3'435'948'056'000 / 2);
  EXPECT_EQ(w->requests.size(), 8819u);
}

TEST(WorkloadOptions, MaxRequestsTakesTheFirstArrivals) {
  Result<Workload> all = load_workload("azure-code", {});
  Result<Workload> some = load_workload("azure-code", {.max_requests = 100});
  ASSERT_TRUE(all && some);
  ASSERT_EQ(some->requests.size(), 100u);
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(some->requests[i].arrival, all->requests[i].arrival);
    EXPECT_EQ(some->requests[i].prompt_tokens, all->requests[i].prompt_tokens);
  }
}

TEST(WorkloadOptions, MaxPromptTokensTruncatesAndCounts) {
  Result<Workload> all = load_workload("azure-code", {});
  Result<Workload> capped = load_workload("azure-code", {.max_prompt_tokens = 1024});
  ASSERT_TRUE(all && capped);
  int64_t longer = 0;
  for (const Request& r : all->requests) longer += r.prompt_tokens > 1024 ? 1 : 0;
  EXPECT_GT(longer, 0);
  EXPECT_EQ(capped->truncated_prompts, longer);
  for (const Request& r : capped->requests) EXPECT_LE(r.prompt_tokens, 1024);
}

TEST(WorkloadOptions, EmptyWindowIsAnError) {
  WorkloadOptions o;
  o.start = hours(2);
  Result<Workload> w = load_workload("azure-code", o);
  ASSERT_FALSE(w);
  EXPECT_THAT(w.error().message(), HasSubstr("no requests in the window"));
}

TEST(WorkloadOptions, BadOptionsAreErrors) {
  EXPECT_FALSE(load_workload("azure-code", {.max_requests = -1}));
  EXPECT_FALSE(load_workload("azure-code", {.rate_scale = 0}));
  EXPECT_FALSE(load_workload("azure-code", {.rate_scale = std::nan("")}));
  WorkloadOptions o;
  o.duration = Time::zero();
  EXPECT_FALSE(load_workload("azure-code", o));
}

TEST(DataDir, EnvironmentOverridesTheBuiltInPath) {
  ASSERT_EQ(setenv("MLSYS_DATA_DIR", "/nonexistent-mlsys-data", 1), 0);
  EXPECT_EQ(data_dir(), "/nonexistent-mlsys-data");
  Result<Workload> w = load_workload("azure-code", {});
  unsetenv("MLSYS_DATA_DIR");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(w.error().hint(), HasSubstr("MLSYS_DATA_DIR"));
}

// ---------------------------------------------------------------------------------------------
// CSV readers and malformed rows.

TEST(CsvTrace, VidurColumnsAreRecognisedAndRebased) {
  Result<Workload> w = parse_workload_text(
      "arrived_at,num_prefill_tokens,num_decode_tokens\n1.5,10,2\n2.0,20,3\n", "v.csv", {});
  ASSERT_TRUE(w) << w.error().to_string();
  ASSERT_EQ(w->requests.size(), 2u);
  EXPECT_EQ(w->requests[0].arrival, Time::zero());
  EXPECT_EQ(w->requests[1].arrival, ms(500));
  EXPECT_EQ(w->requests[1].prompt_tokens, 20);
  EXPECT_EQ(w->requests[1].output_tokens, 3);
}

TEST(CsvTrace, OutOfOrderRowsAreSortedStably) {
  Result<Workload> w = parse_workload_text(
      "arrived_at,num_prefill_tokens,num_decode_tokens\n3,1,1\n1,2,1\n1,3,1\n0,4,1\n", "v.csv", {});
  ASSERT_TRUE(w);
  std::vector<int64_t> prompts;
  for (const Request& r : w->requests) prompts.push_back(r.prompt_tokens);
  EXPECT_EQ(prompts, (std::vector<int64_t>{4, 2, 3, 1}));
  EXPECT_EQ(w->requests[3].arrival, sec(3));
}

TEST(CsvTrace, NonNumericTokensNameFileAndLine) {
  Result<Workload> w = parse_workload_text(
      "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,10,2\n"
      "2023-11-16 18:17:04.0,abc,2\n",
      "t.csv", {});
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(w.error().to_string(), HasSubstr("t.csv:3"));
  EXPECT_THAT(w.error().to_string(), HasSubstr("ContextTokens"));
}

TEST(CsvTrace, ZeroOrNegativeTokensAreErrors) {
  Result<Workload> zero =
      parse_workload_text("arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,0\n", "z.csv", {});
  ASSERT_FALSE(zero);
  EXPECT_THAT(zero.error().to_string(), HasSubstr("z.csv:2"));
  EXPECT_THAT(zero.error().to_string(), HasSubstr(">= 1"));
  Result<Workload> negative =
      parse_workload_text("arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,1\n1,-5,1\n", "n.csv", {});
  ASSERT_FALSE(negative);
  EXPECT_THAT(negative.error().to_string(), HasSubstr("n.csv:3"));
}

TEST(CsvTrace, NegativeArrivalIsAnError) {
  Result<Workload> w =
      parse_workload_text("arrived_at,num_prefill_tokens,num_decode_tokens\n-1,10,1\n", "a.csv", {});
  ASSERT_FALSE(w);
  EXPECT_THAT(w.error().to_string(), HasSubstr("a.csv:2"));
}

TEST(CsvTrace, BadTimestampNamesLine) {
  Result<Workload> w = parse_workload_text(
      "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,10,2\n2023-13-16 00:00:00,1,1\n",
      "t.csv", {});
  ASSERT_FALSE(w);
  EXPECT_THAT(w.error().to_string(), HasSubstr("t.csv:3"));
  EXPECT_THAT(w.error().to_string(), HasSubstr("TIMESTAMP"));
}

TEST(CsvTrace, ShortRowIsAnError) {
  Result<Workload> w =
      parse_workload_text("arrived_at,num_prefill_tokens,num_decode_tokens\n0,10\n", "s.csv", {});
  ASSERT_FALSE(w);
  EXPECT_THAT(w.error().to_string(), HasSubstr("s.csv:2"));
}

TEST(CsvTrace, SkipBadRowsCountsThem) {
  WorkloadOptions o;
  o.skip_bad_rows = true;
  Result<Workload> w = parse_workload_text(
      "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,1\nx,1,1\n1,0,1\n2,5\n3,7,7\n", "s.csv", o);
  ASSERT_TRUE(w) << w.error().to_string();
  EXPECT_EQ(w->requests.size(), 2u);
  EXPECT_EQ(w->skipped_rows, 3);
}

TEST(CsvTrace, UnknownColumnsListTheAcceptedOnes) {
  Result<Workload> w = parse_workload_text("time,in,out\n0,1,1\n", "u.csv", {});
  ASSERT_FALSE(w);
  EXPECT_THAT(w.error().to_string(), HasSubstr("u.csv:1"));
  EXPECT_THAT(w.error().hint(), HasSubstr("TIMESTAMP,ContextTokens,GeneratedTokens"));
}

TEST(CsvTrace, LengthOnlyFilePointsToTheFileDistribution) {
  Result<Workload> w = parse_workload_text("num_prefill_tokens,num_decode_tokens\n5,5\n", "l.csv", {});
  ASSERT_FALSE(w);
  EXPECT_THAT(w.error().hint(), HasSubstr("prompt=file:"));
}

TEST(CsvTrace, ClientColumnGivesDenseIdsInArrivalOrder) {
  Result<Workload> w = parse_workload_text(
      "arrived_at,num_prefill_tokens,num_decode_tokens,client\n2,1,1,alice\n0,1,1,bob\n1,1,1,alice\n",
      "c.csv", {});
  ASSERT_TRUE(w);
  EXPECT_EQ(w->clients, 2);
  EXPECT_EQ(w->requests[0].client, 0);  // bob arrives first
  EXPECT_EQ(w->requests[1].client, 1);
  EXPECT_EQ(w->requests[2].client, 1);
}

TEST(CsvTrace, GzipFileReadsLikeThePlainOne) {
  const std::string text = "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,2\n0.25,20,3\n";
  const std::string path = ::testing::TempDir() + "/trace_test.csv.gz";
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(f);
  Result<Workload> w = load_workload(path, {});
  ASSERT_TRUE(w) << w.error().to_string();
  ASSERT_EQ(w->requests.size(), 2u);
  EXPECT_EQ(w->requests[1].arrival, ms(250));
}

TEST(CsvTrace, MissingFileIsNotFound) {
  Result<Workload> w = load_workload("/nonexistent/trace.csv", {});
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code(), ErrorCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// Mooncake JSONL.

TEST(JsonlTrace, MooncakeLinesInMilliseconds) {
  const std::string path = write_temp("mooncake_test.jsonl",
                                      "{\"timestamp\": 0, \"input_length\": 6955, \"output_length\": 52, "
                                      "\"hash_ids\": [0, 1, 2]}\n"
                                      "\n"
                                      "{\"timestamp\": 1500, \"input_length\": 100, \"output_length\": 7}\n");
  Result<Workload> w = load_workload(path, {});
  ASSERT_TRUE(w) << w.error().to_string();
  ASSERT_EQ(w->requests.size(), 2u);
  EXPECT_EQ(w->requests[0].prompt_tokens, 6955);
  EXPECT_EQ(w->requests[1].arrival, ms(1500));
  EXPECT_EQ(w->requests[1].output_tokens, 7);
}

TEST(JsonlTrace, GzipFileAcrossManyReadChunks) {
  // ~200 KB of lines: more than one 64 KiB read, so lines straddle chunk boundaries.
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    text += "{\"timestamp\": " + std::to_string(i * 10) + ", \"input_length\": " + std::to_string(i + 1) +
            ", \"output_length\": 3, \"hash_ids\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}\r\n";
  }
  const std::string path = ::testing::TempDir() + "/mooncake_test.jsonl.gz";
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(f);
  Result<Workload> w = load_workload(path, {});
  ASSERT_TRUE(w) << w.error().to_string();
  ASSERT_EQ(w->requests.size(), 3000u);
  EXPECT_EQ(w->requests[2999].prompt_tokens, 3000);
  EXPECT_EQ(w->requests[2999].arrival, ms(29'990));
}

TEST(JsonlTrace, BadJsonNamesFileAndLine) {
  Result<Workload> w = parse_workload_text(
      "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n{\"timestamp\": 5,,}\n", "m.jsonl", {});
  ASSERT_FALSE(w);
  EXPECT_THAT(w.error().to_string(), HasSubstr("m.jsonl:2"));
}

TEST(JsonlTrace, MissingKeyNamesKeyAndLine) {
  Result<Workload> w = parse_workload_text(
      "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n\n{\"timestamp\": 5, "
      "\"output_length\": 1}\n",
      "m.jsonl", {});
  ASSERT_FALSE(w);
  EXPECT_THAT(w.error().to_string(), HasSubstr("m.jsonl:3"));
  EXPECT_THAT(w.error().to_string(), HasSubstr("input_length"));
}

TEST(JsonlTrace, SkipBadRowsCountsThem) {
  WorkloadOptions o;
  o.skip_bad_rows = true;
  Result<Workload> w = parse_workload_text(
      "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n[1]\n"
      "{\"timestamp\": 1, \"input_length\": 0, \"output_length\": 1}\n",
      "m.jsonl", o);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->requests.size(), 1u);
  EXPECT_EQ(w->skipped_rows, 2);
}

// ---------------------------------------------------------------------------------------------
// Generators.

double mean_gap_s(const Workload& w) {
  return w.requests.back().arrival.seconds() / static_cast<double>(w.requests.size());
}

TEST(Generator, PoissonReproducesTheRate) {
  Result<Workload> w = load_workload("poisson:rate=4,n=100000", {.seed = 1});
  ASSERT_TRUE(w) << w.error().to_string();
  ASSERT_EQ(w->requests.size(), 100'000u);
  EXPECT_NEAR(mean_gap_s(*w), 0.25, 0.25 * 0.02);
}

TEST(Generator, GammaReproducesRateAndBurstiness) {
  Result<Workload> w = load_workload("gamma:rate=2,cv=3,n=100000", {.seed = 7});
  ASSERT_TRUE(w) << w.error().to_string();
  EXPECT_NEAR(mean_gap_s(*w), 0.5, 0.5 * 0.05);
  double sum = 0, sum2 = 0;
  const size_t n = w->requests.size();
  for (size_t i = 0; i < n; ++i) {
    const double gap = (w->requests[i].arrival - (i ? w->requests[i - 1].arrival : Time::zero())).seconds();
    sum += gap;
    sum2 += gap * gap;
  }
  const double mean = sum / static_cast<double>(n);
  const double cv = std::sqrt(sum2 / static_cast<double>(n) - mean * mean) / mean;
  EXPECT_NEAR(cv, 3.0, 0.3);
}

TEST(Generator, SameSeedSameWorkloadOtherSeedDiffers) {
  const char* spec = "poisson:rate=3,n=500,prompt=lognormal:mean=512,sigma=0.5,output=uniform:1:64";
  Result<Workload> a = load_workload(spec, {.seed = 5});
  Result<Workload> b = load_workload(spec, {.seed = 5});
  Result<Workload> c = load_workload(spec, {.seed = 6});
  ASSERT_TRUE(a && b && c);
  bool same = true, differs = false;
  for (size_t i = 0; i < 500; ++i) {
    same = same && a->requests[i].arrival == b->requests[i].arrival &&
           a->requests[i].prompt_tokens == b->requests[i].prompt_tokens &&
           a->requests[i].output_tokens == b->requests[i].output_tokens;
    differs = differs || a->requests[i].arrival != c->requests[i].arrival;
  }
  EXPECT_TRUE(same);
  EXPECT_TRUE(differs);
}

TEST(Generator, WithoutNStopsAtMaxRequestsOrWindowOrDefault) {
  Result<Workload> by_max = load_workload("poisson:rate=10", {.max_requests = 300});
  ASSERT_TRUE(by_max);
  EXPECT_EQ(by_max->requests.size(), 300u);
  Result<Workload> by_default = load_workload("poisson:rate=10", {});
  ASSERT_TRUE(by_default);
  EXPECT_EQ(by_default->requests.size(), 1000u);
  WorkloadOptions o;
  o.duration = sec(100);
  Result<Workload> by_window = load_workload("poisson:rate=10", o);
  ASSERT_TRUE(by_window);
  EXPECT_LT(by_window->requests.back().arrival, sec(100));
  EXPECT_NEAR(static_cast<double>(by_window->requests.size()), 1000.0, 120.0);  // ~3.8 sigma
}

TEST(Generator, DefaultLengthsAreFixed) {
  Result<Workload> w = load_workload("poisson:rate=1,n=3", {});
  ASSERT_TRUE(w);
  EXPECT_EQ(w->requests[0].prompt_tokens, 512);
  EXPECT_EQ(w->requests[0].output_tokens, 128);
}

TEST(Generator, DistributionWithCommasInsideSpec) {
  Result<Workload> w = load_workload(
      "poisson:rate=1,prompt=lognormal:mean=1000,sigma=0.4,max=1500,output=fixed:9,n=20000", {});
  ASSERT_TRUE(w) << w.error().to_string();
  EXPECT_EQ(w->requests.size(), 20'000u);
  double mean = 0;
  for (const Request& r : w->requests) {
    EXPECT_LE(r.prompt_tokens, 1500);
    EXPECT_EQ(r.output_tokens, 9);
    mean += static_cast<double>(r.prompt_tokens);
  }
  mean /= 20000.0;
  EXPECT_LT(mean, 1000.0);  // the cap removes part of the upper tail
  EXPECT_GT(mean, 900.0);
}

TEST(Generator, FileLengthsComeFromTheSameRow) {
  Result<Workload> w =
      load_workload("poisson:rate=1,n=20000,prompt=file:arxiv,output=file:arxiv", {.seed = 3});
  ASSERT_TRUE(w) << w.error().to_string();
  Result<LengthDistribution> p = LengthDistribution::parse("file:arxiv", "prompt");
  Result<LengthDistribution> o = LengthDistribution::parse("file:arxiv", "output");
  ASSERT_TRUE(p && o);
  ASSERT_EQ(p->file_rows(), 28'257u);
  std::set<std::pair<int64_t, int64_t>> rows;
  for (size_t i = 0; i < p->file_rows(); ++i) rows.emplace(p->file_value(i), o->file_value(i));
  double mean = 0;
  for (const Request& r : w->requests) {
    ASSERT_TRUE(rows.count({r.prompt_tokens, r.output_tokens}));
    mean += static_cast<double>(r.prompt_tokens);
  }
  EXPECT_NEAR(mean / 20000.0, 2588.08, 2588.08 * 0.02);  // the file's mean prefill length
}

TEST(Generator, SpecErrorsNameTheKeyAndListAccepted) {
  Result<Workload> w = load_workload("poisson:rte=4", {});
  ASSERT_FALSE(w);
  EXPECT_THAT(w.error().message(), HasSubstr("'rte'"));
  EXPECT_THAT(w.error().hint(), HasSubstr("accepted: rate, n, prompt, output"));
  EXPECT_THAT(w.error().hint(), HasSubstr("did you mean 'rate'"));
  Result<Workload> missing = load_workload("gamma:cv=2", {});
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(), HasSubstr("missing key 'rate'"));
  EXPECT_FALSE(load_workload("poisson:rate=-1", {}));
  EXPECT_FALSE(load_workload("poisson:rate=abc", {}));
  EXPECT_FALSE(load_workload("poisson:rate=1,n=0", {}));
  EXPECT_FALSE(load_workload("poisson:rate=1,rate=2", {}));
  EXPECT_FALSE(load_workload("gamma:rate=1,cv=0", {}));
}

TEST(Generator, UnknownWorkloadSuggestsTheClosestName) {
  Result<Workload> w = load_workload("azure-cod", {});
  ASSERT_FALSE(w);
  EXPECT_THAT(w.error().hint(), HasSubstr("did you mean 'azure-code'"));
}

// ---------------------------------------------------------------------------------------------
// Length distributions.

TEST(LengthDistribution, LognormalMeanIsTheDistributionMean) {
  Result<LengthDistribution> d = LengthDistribution::parse("lognormal:mean=512,sigma=0.5", "prompt");
  ASSERT_TRUE(d);
  RngStream rng(11, "test");
  double sum = 0;
  for (int i = 0; i < 100'000; ++i) sum += static_cast<double>(d->sample(rng));
  EXPECT_NEAR(sum / 1e5, 512.0, 512.0 * 0.02);
}

TEST(LengthDistribution, UniformAndZipfStayInRange) {
  Result<LengthDistribution> u = LengthDistribution::parse("uniform:10:20", "prompt");
  Result<LengthDistribution> z = LengthDistribution::parse("zipf:max=100,s=1.2", "prompt");
  ASSERT_TRUE(u && z);
  RngStream rng(1, "test");
  std::set<int64_t> seen;
  int64_t ones = 0;
  for (int i = 0; i < 10'000; ++i) {
    const int64_t a = u->sample(rng);
    ASSERT_GE(a, 10);
    ASSERT_LE(a, 20);
    seen.insert(a);
    const int64_t b = z->sample(rng);
    ASSERT_GE(b, 1);
    ASSERT_LE(b, 100);
    ones += b == 1 ? 1 : 0;
  }
  EXPECT_EQ(seen.size(), 11u);
  EXPECT_GT(ones, 2000);  // P(1) = 1 / H(100, 1.2) ~ 0.27
}

TEST(LengthDistribution, BadSpecsAreErrors) {
  for (const char* bad :
       {"fixed:0", "fixed:x", "uniform:5:1", "uniform:5", "lognormal:sigma=1", "lognormal:mean=5,sgma=1",
        "zipf:s=1", "zipf:max=10,s=0", "normal:5", "file:", "file:/nonexistent.csv", "fixed"}) {
    Result<LengthDistribution> d = LengthDistribution::parse(bad, "prompt");
    EXPECT_FALSE(d) << bad;
  }
  Result<LengthDistribution> typo = LengthDistribution::parse("lognormal:mean=5,sgma=1", "prompt");
  ASSERT_FALSE(typo);
  EXPECT_THAT(typo.error().hint(), HasSubstr("did you mean 'sigma'"));
}

// ---------------------------------------------------------------------------------------------
// Client assignment.

TEST(Clients, RoundRobinCycles) {
  Result<Workload> w = load_workload("poisson:rate=1,n=7", {.clients = "round-robin:3"});
  ASSERT_TRUE(w);
  EXPECT_EQ(w->clients, 3);
  for (const Request& r : w->requests) EXPECT_EQ(r.client, r.id % 3);
}

TEST(Clients, UniformIsDeterministicPerSeedAndInRange) {
  Result<Workload> a = load_workload("azure-code", {.seed = 2, .clients = "uniform:4"});
  Result<Workload> b = load_workload("azure-code", {.seed = 2, .clients = "uniform:4"});
  ASSERT_TRUE(a && b);
  std::vector<int64_t> counts(4, 0);
  for (size_t i = 0; i < a->requests.size(); ++i) {
    ASSERT_EQ(a->requests[i].client, b->requests[i].client);
    ++counts[static_cast<size_t>(a->requests[i].client)];
  }
  for (int64_t c : counts) EXPECT_NEAR(static_cast<double>(c), 8819 / 4.0, 200);
}

TEST(Clients, ZipfFavoursClientZero) {
  Result<Workload> w = load_workload("poisson:rate=1,n=10000", {.clients = "zipf:8,s=1.2"});
  ASSERT_TRUE(w);
  std::vector<int64_t> counts(8, 0);
  for (const Request& r : w->requests) ++counts[static_cast<size_t>(r.client)];
  EXPECT_GT(counts[0], counts[1]);
  EXPECT_GT(counts[1], counts[7]);
}

TEST(Clients, BadRuleListsAccepted) {
  Result<Workload> w = load_workload("azure-code", {.clients = "random:3"});
  ASSERT_FALSE(w);
  EXPECT_THAT(w.error().hint(), HasSubstr("round-robin:N"));
  EXPECT_FALSE(load_workload("azure-code", {.clients = "uniform:0"}));
  EXPECT_FALSE(load_workload("azure-code", {.clients = "zipf:3,t=1"}));
}

}  // namespace
}  // namespace mlsys::serve
