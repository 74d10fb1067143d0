// Unit parsers: never crash; an accepted value is non-negative and formats without crashing.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mlsys/core/units.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto t = mlsys::parse_time(text)) {
    FUZZ_CHECK(t->ns() >= 0, "parsed time is non-negative");
    (void)mlsys::format_time(*t);
  }
  if (auto b = mlsys::parse_bytes(text)) {
    FUZZ_CHECK(b->count() >= 0, "parsed bytes are non-negative");
    (void)mlsys::format_bytes(*b);
  }
  if (auto bw = mlsys::parse_bandwidth(text)) {
    FUZZ_CHECK(std::isfinite(bw->base()) && bw->base() >= 0, "parsed bandwidth is finite and non-negative");
    (void)mlsys::format_bandwidth(*bw);
  }
  if (auto f = mlsys::parse_flops(text)) {
    FUZZ_CHECK(std::isfinite(f->base()) && f->base() >= 0, "parsed FLOPs are finite and non-negative");
    (void)mlsys::format_flops(*f);
  }
  if (auto r = mlsys::parse_flop_rate(text)) {
    FUZZ_CHECK(std::isfinite(r->base()) && r->base() >= 0, "parsed FLOP rate is finite and non-negative");
    (void)mlsys::format_flop_rate(*r);
  }
  return 0;
}
