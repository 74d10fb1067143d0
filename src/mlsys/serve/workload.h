// Serving workloads: requests with arrival time, prompt and output lengths and a client id, read
// from published traces or generated.
//
//   WorkloadOptions o{.max_requests = 1000};
//   Result<Workload> w = load_workload("azure-code", o);            // the shipped Azure trace
//   Result<Workload> p = load_workload("poisson:rate=4,prompt=lognormal:mean=512", o);
//   for (const Request& r : w->requests) ...                         // sorted by arrival
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/rng.h"
#include "mlsys/core/units.h"

namespace mlsys::serve {

struct Request {
  int64_t id = 0;            // 0..n-1 in arrival order
  Time arrival;              // since the start of the workload
  int64_t prompt_tokens = 0; // >= 1
  int64_t output_tokens = 0; // >= 1 (the first output token comes out of prefill)
  int64_t client = 0;        // for fairness (VTC); 0 when the trace has none
};

struct Workload {
  std::string name;          // "azure-code", a file name, or the generator spec
  std::vector<Request> requests;  // sorted by arrival, ids in order
  int64_t skipped_rows = 0;  // with skip_bad_rows
  int64_t clients = 1;       // client ids lie in [0, clients)
  int64_t truncated_prompts = 0;  // prompts cut to max_prompt_tokens
};

struct WorkloadOptions {
  int64_t max_requests = 0;  // 0: all
  Time start = Time::zero(); // window on the trace's own clock (relative to its first arrival)
  Time duration = Time::max();
  double rate_scale = 1.0;   // arrivals compressed by this factor (2: twice the rate)
  bool skip_bad_rows = false;
  uint64_t seed = 0;         // generators and client assignment
  /// Client ids: "none" keeps the trace's own (a `client`/`client_id` column or JSONL key,
  /// numbered densely in order of first appearance; all 0 when it has none); "round-robin:N",
  /// "zipf:N,s=1.2" and "uniform:N" replace them.
  std::string clients = "none";
  int64_t max_prompt_tokens = 0;  // 0: no cap; longer prompts are truncated (and counted)
};

/// Loads a workload from a spec:
///   azure-code | azure-conv              the shipped Azure LLM inference 2023 traces
///   FILE.csv                             Azure (TIMESTAMP,ContextTokens,GeneratedTokens) or
///                                        Vidur (arrived_at,num_prefill_tokens,num_decode_tokens)
///                                        columns, recognised by header
///   FILE.jsonl                           Mooncake (timestamp ms, input_length, output_length)
///   poisson:rate=R[,n=N][,prompt=D][,output=D]
///   gamma:rate=R,cv=C[,...]              bursty arrivals (Gamma inter-arrival, coefficient of variation C)
/// where a length distribution D is "fixed:N", "uniform:A:B", "lognormal:mean=M,sigma=S",
/// "zipf:max=M,s=S" or "file:PATH" (the Vidur/arxiv length CSV sampled with replacement).
/// Malformed rows: kInvalidArgument with file:line unless skip_bad_rows.
/// Details (defaults, the order in which window, rate scaling and max_requests apply, how rows
/// are validated): src/mlsys/serve/README.md.
Result<Workload> load_workload(std::string_view spec, const WorkloadOptions& options);

/// As load_workload for a trace held in memory; `name` ends in .csv or .jsonl to pick the reader
/// and stands in for the file name in errors (tests, fuzzing).
Result<Workload> parse_workload_text(std::string text, std::string_view name, const WorkloadOptions& options);

/// A length distribution ("fixed:N", "uniform:A:B", "lognormal:mean=M[,sigma=S][,max=X]",
/// "zipf:max=M[,s=S]", "file:PATH|arxiv|azure-code|azure-conv"), parsed once, sampled many times.
class LengthDistribution {
 public:
  /// `column` picks the file column for "file:" ("prompt" or "output").
  static Result<LengthDistribution> parse(std::string_view spec, std::string_view column);
  /// One length >= 1 drawn with `rng`'s next values.
  int64_t sample(RngStream& rng) const;
  /// File distributions expose their rows so prompt and output can be drawn from the same row.
  bool is_file() const { return !values_.empty(); }
  size_t file_rows() const { return values_.size(); }
  int64_t file_value(size_t row) const { return values_[row]; }
  const std::string& spec() const { return spec_; }

 private:
  enum class Kind { kFixed, kUniform, kLognormal, kZipf, kFile };
  Kind kind_ = Kind::kFixed;
  std::string spec_;
  double a_ = 0, b_ = 0, c_ = 0;  // fixed: a; uniform: [a, b]; lognormal: mu, sigma, max; zipf: max, s
  std::vector<int64_t> values_;   // file
};

}  // namespace mlsys::serve
