// Serving workload readers and specs (serve/workload.h): the Azure/Vidur CSV and Mooncake JSONL
// readers and the generator and length-distribution spec parsers never crash or allocate without
// bound; a row error is located (file:line); a loaded workload is sorted with dense ids and valid
// lengths and clients. The first byte picks the parser (bits 0-1) and the options (bits 2-7).
// Specs that would read files (file:, paths) are skipped, and so are generators asking for more
// than 9,999 requests, to keep each run short.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mlsys/core/rng.h"
#include "mlsys/serve/workload.h"

namespace {

bool asks_for_many(std::string_view spec) {
  for (size_t at = spec.find("n="); at != std::string_view::npos; at = spec.find("n=", at + 1)) {
    size_t digits = 0;
    for (size_t i = at + 2; i < spec.size() && spec[i] >= '0' && spec[i] <= '9'; ++i) ++digits;
    if (digits > 4) return true;
  }
  return false;
}

void check_workload(const mlsys::serve::Workload& w, const mlsys::serve::WorkloadOptions& o) {
  FUZZ_CHECK(!w.requests.empty(), "a loaded workload has requests");
  FUZZ_CHECK(o.max_requests == 0 || static_cast<int64_t>(w.requests.size()) <= o.max_requests,
             "max_requests holds");
  for (size_t i = 0; i < w.requests.size(); ++i) {
    const mlsys::serve::Request& r = w.requests[i];
    FUZZ_CHECK(r.id == static_cast<int64_t>(i), "ids are dense in arrival order");
    FUZZ_CHECK(r.arrival >= mlsys::Time::zero(), "arrivals are not negative");
    FUZZ_CHECK(i == 0 || w.requests[i - 1].arrival <= r.arrival, "requests are sorted");
    FUZZ_CHECK(r.prompt_tokens >= 1 && r.output_tokens >= 1, "lengths are >= 1");
    FUZZ_CHECK(o.max_prompt_tokens == 0 || r.prompt_tokens <= o.max_prompt_tokens, "prompt cap holds");
    FUZZ_CHECK(r.client >= 0 && r.client < w.clients, "client ids lie in [0, clients)");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] & 3;
  const uint8_t bits = data[0] >> 2;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  mlsys::serve::WorkloadOptions o;
  o.skip_bad_rows = (bits & 1) != 0;
  o.max_requests = (bits & 2) != 0 ? 50 : 0;
  o.rate_scale = (bits & 4) != 0 ? 2.5 : 1.0;
  o.max_prompt_tokens = (bits & 8) != 0 ? 100 : 0;
  constexpr const char* kClientRules[] = {"none", "round-robin:3", "uniform:5", "zipf:4,s=1.2"};
  o.clients = kClientRules[(bits >> 4) & 3];

  if (mode == 0 || mode == 1) {
    const std::string name = mode == 0 ? "fuzz.csv" : "fuzz.jsonl";
    const mlsys::Result<mlsys::serve::Workload> w =
        mlsys::serve::parse_workload_text(std::string(text), name, o);
    if (!w) {
      const bool empty_window = w.error().message().find("no requests in the window") != std::string::npos;
      FUZZ_CHECK(empty_window || w.error().where().file == name, "a trace error names the file");
      return 0;
    }
    FUZZ_CHECK(w->skipped_rows == 0 || o.skip_bad_rows, "rows are skipped only when asked");
    check_workload(*w, o);
    return 0;
  }
  if (text.find("file:") != std::string_view::npos || asks_for_many(text)) return 0;
  if (mode == 2) {
    if (text.substr(0, 8) != "poisson:" && text.substr(0, 6) != "gamma:") return 0;
    o.max_requests = 200;  // bounds generators given neither n nor a window
    const mlsys::Result<mlsys::serve::Workload> w = mlsys::serve::load_workload(text, o);
    if (!w) {
      FUZZ_CHECK(!w.error().message().empty(), "an error says what went wrong");
      return 0;
    }
    check_workload(*w, o);
    return 0;
  }
  const mlsys::Result<mlsys::serve::LengthDistribution> d =
      mlsys::serve::LengthDistribution::parse(text, "prompt");
  if (!d) return 0;
  mlsys::RngStream rng(1, "fuzz");
  for (int i = 0; i < 64; ++i) FUZZ_CHECK(d->sample(rng) >= 1, "sampled lengths are >= 1");
  return 0;
}
