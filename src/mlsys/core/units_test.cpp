#include "mlsys/core/units.h"

#include <gtest/gtest.h>

#include <type_traits>

namespace mlsys {
namespace {

TEST(Units, FactoriesAgree) {
  EXPECT_EQ(us(5).ns(), 5000);
  EXPECT_EQ(ms(1), us(1000));
  EXPECT_EQ(KiB(1).count(), 1024);
  EXPECT_EQ(MB(1.5).count(), 1500000);
  EXPECT_DOUBLE_EQ(Gbps(400).base(), GBps(50).base());
}

TEST(Units, CrossUnitArithmetic) {
  EXPECT_EQ(GB(1) / GBps(1), sec(1));
  EXPECT_EQ(GBps(2) * sec(3), GB(6));
  EXPECT_EQ(TFLOP(312) / TFLOPS(312), sec(1));
  EXPECT_DOUBLE_EQ((GB(10) / sec(2)).base(), 5e9);
  EXPECT_DOUBLE_EQ(ms(3) / us(1), 3000.0);
}

// Illegal arithmetic must not compile: checked through the type system.
template <class A, class Bt>
concept Addable = requires(A a, Bt b) { a + b; };
static_assert(!Addable<Bytes, Time>);
static_assert(!Addable<Bandwidth, Flops>);
static_assert(!Addable<Time, int>);
static_assert(Addable<Time, Time>);
static_assert(!std::is_convertible_v<int64_t, Time>);
static_assert(!std::is_convertible_v<double, Bandwidth>);

TEST(Units, ParsesUnitStrings) {
  EXPECT_EQ(*parse_bytes("64MiB"), MiB(64));
  EXPECT_EQ(*parse_bytes("1.5GB"), GB(1.5));
  EXPECT_EQ(*parse_bytes("32 B"), B(32));
  EXPECT_DOUBLE_EQ(parse_bandwidth("400Gbps")->base(), 50e9);
  EXPECT_DOUBLE_EQ(parse_bandwidth("25GBps")->base(), 25e9);
  EXPECT_DOUBLE_EQ(parse_bandwidth("25GB/s")->base(), 25e9);
  EXPECT_EQ(*parse_time("5us"), us(5));
  EXPECT_EQ(*parse_time("1.5ms"), us(1500));
  EXPECT_EQ(*parse_time("2h"), hours(2));
  EXPECT_DOUBLE_EQ(parse_flop_rate("312TFLOPS")->base(), 312e12);
  EXPECT_DOUBLE_EQ(parse_flops("3PFLOP")->base(), 3e15);
}

TEST(Units, RejectsMissingUnit) {
  auto r = parse_bytes("64");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("missing unit"), std::string::npos);
  EXPECT_FALSE(parse_time("5"));
}

TEST(Units, RejectsNegativeUnknownAndGarbage) {
  EXPECT_FALSE(parse_bytes("-1MiB"));
  EXPECT_FALSE(parse_bytes("1XB"));
  EXPECT_FALSE(parse_bytes(""));
  EXPECT_FALSE(parse_bytes("MiB"));
  EXPECT_FALSE(parse_bytes("nanMiB"));
  EXPECT_FALSE(parse_bytes("infGiB"));
  EXPECT_FALSE(parse_bytes("1e30B"));
  EXPECT_FALSE(parse_time("1e300s"));
  EXPECT_FALSE(parse_bandwidth("400gbps"));  // case carries meaning: b is bit, B is byte
}

TEST(Units, FormatsWithLargestFittingUnit) {
  EXPECT_EQ(format_bytes(MiB(64)), "64MiB");
  EXPECT_EQ(format_time(us(5)), "5us");
  EXPECT_EQ(format_time(nsec(117780)), "117.8us");
  EXPECT_EQ(format_bandwidth(Gbps(400)), "50GB/s");
  EXPECT_EQ(format_flop_rate(TFLOPS(312)), "312TFLOP/s");
}

}  // namespace
}  // namespace mlsys
